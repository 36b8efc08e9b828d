"""Holiday coverage: a year the library lacks is covered only once the administrator marks its table complete,
and every change to the table or the marks counts the open requests' deadlines again, in one audited entry."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest
from sqlalchemy import func, select

from tests.factories import SMALL_SCHOOLS, small_county
from xueji.auth import PermissionDenied
from xueji.db import session_scope
from xueji.excel.tables import table_to_xlsx
from xueji.models import AppUser, AuditLog, StatusChange, Student
from xueji.rules.status_changes import ChangeKind, ChangeState
from xueji.rules.vocab import Role, ScopeKind
from xueji.rules.working_days import Coverage
from xueji.services.system import accounts, deadlines, holidays

pytestmark = pytest.mark.usefixtures("fixed_today")  # 2026-11-23: 2027 is within the 60 days looked ahead

NEW_YEAR = [{"day": "2027-01-01", "kind": "放假", "name": "元旦"}]


@pytest.fixture
def county(engine):
    """A county with its administrator, a county officer, and three requests: two open, one decided."""
    with session_scope(engine) as session:
        ids = small_county(session)
        accounts.create_first_admin(session, password="Gugang#2027x")
        session.add(
            AppUser(
                username="kezhang",
                display_name="科长",
                role=Role.COUNTY_OFFICER.value,
                scope_kind=ScopeKind.COUNTY.value,
                county_id=ids["430181000000"],
            )
        )
        school = ids[next(iter(SMALL_SCHOOLS))]
        requests = {}
        # (submitted at, in UTC: 01:00 is 09:00 in China; due as stored at submission; guessed; state)
        for key, at, due, guessed, state in (
            ("open_new_year", datetime(2026, 12, 28, 1, tzinfo=UTC), date(2027, 1, 6), True, ChangeState.SUBMITTED),
            ("open_november", datetime(2026, 11, 2, 1, tzinfo=UTC), date(2026, 11, 11), False, ChangeState.SUBMITTED),
            ("decided", datetime(2026, 12, 28, 1, tzinfo=UTC), date(2027, 1, 6), True, ChangeState.APPROVED),
        ):  # fmt: skip
            student = Student(
                school_id=school, name=key, sex="男", birth_date=date(2016, 5, 1), entry_month="202209"
            )
            session.add(student)
            session.flush()
            change = StatusChange(
                student_id=student.id,
                kind=ChangeKind.DROPOUT.value,
                state=state.value,
                school_id=school,
                effective_date=at.date(),
                reason="测试",
                submitted_at=at,
                due_date=due,
                due_guessed=guessed,
            )
            session.add(change)
            session.flush()
            requests[key] = change.id
        session.commit()
        admin = accounts.actor_by_username(session, "admin")
        officer = accounts.actor_by_username(session, "kezhang")
    return {"admin": admin, "officer": officer, **requests}


def due(engine, change_id) -> tuple[date, bool]:
    with session_scope(engine) as session:
        change = session.get(StatusChange, change_id)
        return change.due_date, change.due_guessed


def entries(engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(AuditLog)) or 0


def last_entry(engine) -> AuditLog:
    with session_scope(engine) as session:
        return session.scalar(select(AuditLog).order_by(AuditLog.id.desc()))


def test_one_row_leaves_the_year_uncovered_until_the_administrator_marks_it_complete(engine, county):
    admin, today = county["admin"], date(2026, 11, 23)
    with session_scope(engine) as session:
        assert holidays.warning_years(session, today) == [2027]
        holidays.save_days(session, actor=admin, rows=NEW_YEAR, source="录入")
        assert holidays.warning_years(session, today) == [2027]  # one row is not the year's arrangements
        states = {s.year: (s.coverage, s.days) for s in holidays.year_states(session, today)}
        assert states == {
            2025: (Coverage.LIBRARY, 0),
            2026: (Coverage.LIBRARY, 0),
            2027: (Coverage.INCOMPLETE, 1),
        }
        holidays.mark_complete(session, actor=admin, year=2027)
        assert holidays.warning_years(session, today) == []
        assert holidays.year_known(session, 2027)
        assert [s.label for s in holidays.year_states(session, today)] == [
            "库内置",
            "库内置",
            "管理员已确认完整",
        ]
        holidays.mark_complete(session, actor=admin, year=2027, complete=False)  # the mark can be taken back
        assert holidays.warning_years(session, today) == [2027]


def test_the_warning_names_every_year_an_open_deadline_is_counted_through(engine, county):
    with session_scope(engine) as session:
        assert holidays.missing_years(session, date(2026, 6, 1)) == []  # nothing to look ahead to in June
        assert holidays.warning_years(session, date(2026, 6, 1)) == [2027]  # but an open request crosses 2027


def test_every_change_to_the_table_counts_the_open_deadlines_again_in_one_audited_entry(engine, county):
    admin, new_year = county["admin"], county["open_new_year"]
    before = entries(engine)
    # 元旦 2027 entered: submitted 2026-12-28, the seventh working day moves from 01-06 to 01-07, still guessed.
    with session_scope(engine) as session:
        holidays.save_days(session, actor=admin, rows=NEW_YEAR, source="录入")
    assert due(engine, new_year) == (date(2027, 1, 7), True)
    entry = last_entry(engine)
    assert entry.after["deadlines"] == {
        "open": 2,
        "moved": 1,
        "changes": [{"id": new_year, "due": ["2027-01-06", "2027-01-07"], "guessed": [True, True]}],
    }
    assert "待审批的学籍异动 2 份,审批期限重算后变动 1 份" in entry.detail
    # The year marked complete: the same day, now certain.
    with session_scope(engine) as session:
        holidays.mark_complete(session, actor=admin, year=2027)
    assert due(engine, new_year) == (date(2027, 1, 7), False)
    entry = last_entry(engine)
    assert (entry.entity_type, entry.entity_id, entry.before, entry.after["complete"]) == (
        "holiday_year",
        "2027",
        {"complete": False},
        True,
    )
    assert entry.after["deadlines"]["changes"][0]["guessed"] == [True, False]
    # The day removed again: back to 01-06.
    with session_scope(engine) as session:
        assert holidays.remove_day(session, actor=admin, day=date(2027, 1, 1)).endswith("变动 1 份")
    assert due(engine, new_year) == (date(2027, 1, 6), False)
    # An import of two days off: 12-29, 12-30, 12-31, 01-05, 01-06, 01-07, 01-08.
    sheet = table_to_xlsx(
        pd.DataFrame(
            [("2027-01-01", "放假", "元旦"), ("2027-01-04", "放假", "")], columns=["日期", "安排", "名称"]
        ),
        sheet="节假日安排",
    )
    with session_scope(engine) as session:
        holidays.import_days(session, actor=admin, data=sheet)
    assert due(engine, new_year) == (date(2027, 1, 8), False)
    assert entries(engine) == before + 4  # one entry per change, the recount inside it
    # Neither the request far from the new year nor the decided one ever moved.
    assert due(engine, county["open_november"]) == (date(2026, 11, 11), False)
    assert due(engine, county["decided"]) == (date(2027, 1, 6), True)


def test_the_audit_entry_lists_the_moves_up_to_its_bound_and_always_counts_them(engine, county, monkeypatch):
    monkeypatch.setattr(deadlines, "AUDITED_MOVES", 0)
    with session_scope(engine) as session:
        holidays.save_days(session, actor=county["admin"], rows=NEW_YEAR, source="录入")
        holidays.mark_complete(session, actor=county["admin"], year=2027)
    assert last_entry(engine).after["deadlines"] == {"open": 2, "moved": 1, "changes": []}


def test_a_library_year_needs_no_mark_and_only_the_administrator_marks(engine, county):
    with (
        pytest.raises(holidays.HolidayError, match="2026年的安排程序已内置"),
        session_scope(engine) as session,
    ):
        holidays.mark_complete(session, actor=county["admin"], year=2026)
    with pytest.raises(holidays.HolidayError, match="2027年尚未确认完整"), session_scope(engine) as session:
        holidays.mark_complete(session, actor=county["admin"], year=2027, complete=False)
    before = entries(engine)
    with (
        pytest.raises(holidays.HolidayError, match="2027年的表中还没有任何一天"),
        session_scope(engine) as session,
    ):
        holidays.mark_complete(session, actor=county["admin"], year=2027)  # every year has 元旦 at least
    assert entries(engine) == before + 1 and last_entry(engine).outcome == "refused"
    with pytest.raises(PermissionDenied), session_scope(engine) as session:
        holidays.mark_complete(session, actor=county["officer"], year=2027)
    assert entries(engine) == before + 2 and last_entry(engine).outcome == "denied"
    with session_scope(engine) as session:
        assert holidays.warning_years(session, date(2026, 11, 23)) == [2027]
