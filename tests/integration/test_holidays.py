"""The holiday table: filled in by hand or by import, all rows checked, deadlines counted through it."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import func, select

from xueji.auth import PermissionDenied
from xueji.db import session_scope
from xueji.excel.tables import table_to_xlsx
from xueji.models import AuditLog, CalendarDay
from xueji.rules.working_days import add_working_days
from xueji.services.registry.status_changes import work_calendar
from xueji.services.system import holidays


def sheet(rows) -> bytes:
    return table_to_xlsx(pd.DataFrame(rows, columns=["日期", "安排", "名称"]), sheet="节假日安排")


def days_in(engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(CalendarDay)) or 0


def test_a_year_the_library_lacks_is_missing_until_the_table_has_it(demo_engine, actors):
    admin = actors["demo_admin"]
    with session_scope(demo_engine) as session:
        assert holidays.missing_years(session, date(2026, 11, 23)) == [2027]
        assert holidays.missing_years(session, date(2026, 6, 1)) == []
        before = add_working_days(date(2026, 12, 30), 7, work_calendar(session))
        assert not before.certain and before.due == date(2027, 1, 8)
        count = holidays.import_days(
            session,
            actor=admin,
            data=sheet(
                [("2027-01-01", "放假", "元旦"), ("20270102", "上班", "元旦调休"), ("2027/01/04", "放假", "")]
            ),
        )
        assert count == 3
        entry = session.scalar(select(AuditLog).order_by(AuditLog.id.desc()))
        assert holidays.missing_years(session, date(2026, 11, 23)) == [2027]  # three days are not the year
        holidays.mark_complete(session, actor=admin, year=2027)
        assert holidays.missing_years(session, date(2026, 11, 23)) == []
        after = add_working_days(date(2026, 12, 30), 7, work_calendar(session))
        assert after.certain and after.due == date(2027, 1, 11)  # 31 Dec, 2 Jan (调休), 5–8 Jan, 11 Jan
    assert (entry.action, entry.after["days"], entry.after["years"]) == ("calendar", 3, [2027])
    assert entry.after["deadlines"] == {"open": 0, "moved": 0, "changes": []}


def test_every_bad_row_is_reported_and_nothing_is_saved(demo_engine, actors):
    with pytest.raises(holidays.HolidayError) as refused, session_scope(demo_engine) as session:
        holidays.import_days(
            session,
            actor=actors["demo_admin"],
            data=sheet(
                [
                    ("2027-01-01", "放假", "元旦"),
                    ("2027-02-30", "放假", "春节"),
                    ("2027-02-07", "补班", "春节调休"),
                    ("2027-01-01", "放假", "元旦"),
                ]
            ),
        )
    message = str(refused.value)
    assert "第3行 [日期] “2027-02-30”" in message
    assert "第4行 [安排] “补班”:只能填“放假”或“上班”" in message
    assert "第5行 [日期] “2027-01-01”:与前面的行重复" in message
    assert days_in(demo_engine) == 0


def test_a_file_without_the_headers_is_refused_in_chinese(demo_engine, actors):
    data = table_to_xlsx(pd.DataFrame([("2027-01-01",)], columns=["day"]), sheet="x")
    with pytest.raises(Exception, match="没有找到表头"), session_scope(demo_engine) as session:
        holidays.import_days(session, actor=actors["demo_admin"], data=data)


def test_only_the_administrator_keeps_the_table_and_removal_is_audited(demo_engine, actors):
    row = [{"day": "2027-10-01", "kind": "放假", "name": "国庆节"}]
    with pytest.raises(PermissionDenied), session_scope(demo_engine) as session:
        holidays.save_days(session, actor=actors["demo_county"], rows=row, source="录入")
    with session_scope(demo_engine) as session:
        holidays.save_days(session, actor=actors["demo_admin"], rows=row, source="录入")
        assert [d.name for d in holidays.list_days(session, actor=actors["demo_admin"], year=2027)] == [
            "国庆节"
        ]
        holidays.remove_day(session, actor=actors["demo_admin"], day=date(2027, 10, 1))
        entry = session.scalar(select(AuditLog).order_by(AuditLog.id.desc()))
    assert entry.before == {"day": "2027-10-01", "is_workday": False, "name": "国庆节"}
    assert days_in(demo_engine) == 0
