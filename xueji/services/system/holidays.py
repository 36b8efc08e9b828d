"""节假日安排: the administrator's holiday table, which fills in the years chinesecalendar does not know
(and corrects any day). Deadlines of status changes count working days through it. A year the library lacks
counts as covered only once the administrator marks its table complete (one row does not make a year), and
every change to the table or the marks counts the open requests' deadlines again in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import delete, extract, select
from sqlmodel import Session

from xueji.audit import record
from xueji.auth import Action, Actor
from xueji.clock import now
from xueji.db import unit_of_work
from xueji.excel.limits import ImportKind, TemplateError
from xueji.excel.simple_table import read_table
from xueji.excel.tables import table_to_xlsx
from xueji.locks import write_lock
from xueji.models import AppSetting, CalendarDay
from xueji.rules.working_days import Coverage
from xueji.services.common.access import require
from xueji.services.common.lock_keys import CALENDAR
from xueji.services.common.refusals import audit_refusal
from xueji.services.common.uploads import refusals_audited
from xueji.services.system.deadlines import (
    COMPLETE_KEY,
    open_deadline_years,
    recompute_open_deadlines,
    work_calendar,
)

KINDS = {"放假": False, "上班": True}
HEADERS = {"日期": "day", "安排": "kind", "名称": "name"}


class HolidayError(ValueError):
    """The table or a day cannot be saved; the message lists every problem, in Chinese."""


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        return f"第{self.row}行 [{self.column}] “{self.value}”:{self.reason}"


def year_known(session: Session, year: int) -> bool:
    """A year is known when chinesecalendar has its arrangements or the administrator marked its table complete."""
    return work_calendar(session).covers(year)


def missing_years(session: Session, today: date, *, ahead_days: int = 60) -> list[int]:
    """This year and, near the year's end, the next: those not covered yet (warn until they are)."""
    calendar = work_calendar(session)
    years = sorted({today.year, (today + timedelta(days=ahead_days)).year})
    return [y for y in years if not calendar.covers(y)]


def warning_years(session: Session, today: date) -> list[int]:
    """Every uncovered year a deadline depends on: this year and the next near its end, and each year an open
    request's deadline is counted through."""
    return sorted(set(missing_years(session, today)) | set(open_deadline_years(session)))


@dataclass(frozen=True)
class YearState:
    year: int
    coverage: Coverage
    days: int  # rows of the table in the year

    @property
    def label(self) -> str:
        return self.coverage.label


def year_states(session: Session, today: date) -> list[YearState]:
    """Each year worth showing: last year to the next, every year with rows or a mark, and the years deadlines
    depend on; with how it is covered and how many rows the table holds."""
    calendar = work_calendar(session)
    counts: dict[int, int] = {}
    for day in calendar.overrides:
        counts[day.year] = counts.get(day.year, 0) + 1
    years = {today.year - 1, today.year, today.year + 1} | set(counts) | set(calendar.complete_years)
    years |= set(open_deadline_years(session))
    return [YearState(y, calendar.coverage(y), counts.get(y, 0)) for y in sorted(years)]


def _refused(session: Session, actor: Actor, year: int, message: str) -> HolidayError:
    audit_refusal(
        session, actor, action="calendar", entity_type="holiday_year", entity_id=year, message=message
    )
    return HolidayError(message)


@unit_of_work
def mark_complete(session: Session, *, actor: Actor, year: int, complete: bool = True) -> str:
    """Mark a year's table complete (or no longer): the year counts as covered and the open deadlines are counted
    again. Audited; returns the summary of the recount."""
    require(session, actor, Action.CALENDAR_MANAGE)
    write_lock(session, CALENDAR)  # the table and every open deadline it moves
    coverage = work_calendar(session).coverage(year)
    if coverage is Coverage.LIBRARY:
        raise _refused(session, actor, year, f"{year}年的安排程序已内置,无需确认")
    if (coverage is Coverage.CONFIRMED) == complete:
        raise _refused(session, actor, year, f"{year}年" + ("已确认完整" if complete else "尚未确认完整"))
    if complete and not any(day.year == year for day in work_calendar(session).overrides):
        # Every year has 元旦, 春节 and 国庆: a year with no row cannot be whole.
        raise _refused(
            session, actor, year, f"{year}年的表中还没有任何一天:请先录入或导入全年的放假和调休安排"
        )
    key = f"{COMPLETE_KEY}{year}"
    if complete:
        session.add(AppSetting(key=key, value=f"{actor.username} {now():%Y-%m-%d %H:%M}"))
    else:
        session.execute(delete(AppSetting).where(AppSetting.key == key))
    session.flush()
    recomputed = recompute_open_deadlines(session)
    record(
        session,
        actor=actor,
        action="calendar",
        entity_type="holiday_year",
        entity_id=year,
        before={"complete": not complete},
        after={"complete": complete, "deadlines": recomputed.audit()},
        detail=f"{year}年节假日安排{'确认完整' if complete else '取消完整确认'};{recomputed.summary}",
    )
    session.commit()
    return recomputed.summary


def list_days(session: Session, *, actor: Actor, year: int) -> list[CalendarDay]:
    require(session, actor, Action.CALENDAR_MANAGE)
    return list(
        session.scalars(
            select(CalendarDay).where(extract("year", CalendarDay.day) == year).order_by(CalendarDay.day)
        )
    )


def _date(text: str) -> date | None:
    """2027-01-01, 2027/01/01, 2027.01.01 or 20270101 (a date cell arrives as the first form)."""
    text = text.strip()
    if len(text) == 8 and text.isdigit():
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    try:
        return date.fromisoformat(text.replace("/", "-").replace(".", "-")[:10])
    except ValueError:
        return None


def _parse(number: int, cells: dict[str, str]) -> tuple[CalendarDay | None, list[Problem]]:
    problems = []
    text, kind, name = cells.get("day", ""), cells.get("kind", ""), cells.get("name", "")
    day = _date(text)
    if day is None:
        problems.append(Problem(number, "日期", text, "应为日期,如 2027-01-01 或 20270101"))
    if kind not in KINDS:
        problems.append(Problem(number, "安排", kind, "只能填“放假”或“上班”(调休上班的周末)"))
    if len(name) > 30:
        problems.append(Problem(number, "名称", name, "最多30个字"))
    if problems or day is None:
        return None, problems
    return CalendarDay(day=day, is_workday=KINDS[kind], name=name), []


@unit_of_work
def save_days(session: Session, *, actor: Actor, rows: list[dict[str, str]], source: str) -> int:
    """Check every row (date, 放假/上班, name); all saved or none. Returns how many days were saved."""
    require(session, actor, Action.CALENDAR_MANAGE)
    days: dict[date, CalendarDay] = {}
    problems: list[Problem] = []
    for number, cells in enumerate(rows, start=2):
        day, found = _parse(number, cells)
        problems += found
        if day is not None:
            if day.day in days:
                problems.append(Problem(number, "日期", cells["day"], "与前面的行重复"))
            days[day.day] = day
    if problems:
        raise HolidayError("节假日安排未保存:\n" + "\n".join(map(str, problems)))
    write_lock(session, CALENDAR)
    for day in days.values():
        session.merge(day)
    session.flush()
    recomputed = recompute_open_deadlines(session)
    record(
        session,
        actor=actor,
        action="calendar",
        entity_type="calendar_day",
        after={"days": len(days), "years": sorted({d.year for d in days}), "deadlines": recomputed.audit()},
        detail=f"{source}:{len(days)} 天;{recomputed.summary}",
    )
    session.commit()
    return len(days)


def import_days(session: Session, *, actor: Actor, data: bytes, file_name: str = "") -> int:
    """The holiday table from an xlsx with columns 日期, 安排 (放假/上班), 名称; a refused file is audited."""
    require(session, actor, Action.CALENDAR_MANAGE)
    refused = (TemplateError, HolidayError)
    with refusals_audited(
        session, actor=actor, kind=ImportKind.HOLIDAYS, data=data, file_name=file_name, refused=refused
    ):
        rows = read_table(data, HEADERS, required=("日期", "安排"), kind=ImportKind.HOLIDAYS)
        return save_days(session, actor=actor, rows=[r.cells for r in rows], source="导入节假日安排")


@unit_of_work
def remove_day(session: Session, *, actor: Actor, day: date) -> str:
    """Drop one day from the table: the library (or Monday–Friday) applies to it again. Audited; returns the
    summary of the deadlines counted again."""
    require(session, actor, Action.CALENDAR_MANAGE)
    write_lock(session, CALENDAR)
    old = session.get(CalendarDay, day)
    if old is None:
        raise HolidayError(f"表中没有 {day:%Y-%m-%d}")
    before = {"day": day.isoformat(), "is_workday": old.is_workday, "name": old.name}
    session.execute(delete(CalendarDay).where(CalendarDay.day == day))
    recomputed = recompute_open_deadlines(session)
    record(
        session,
        actor=actor,
        action="calendar",
        entity_type="calendar_day",
        entity_id=day,
        before=before,
        after={"deadlines": recomputed.audit()},
        detail=f"删除 {day:%Y-%m-%d};{recomputed.summary}",
    )
    session.commit()
    return recomputed.summary


def template() -> bytes:
    """A blank table with two example rows (the kind of arrangement the State Council publishes)."""
    return table_to_xlsx(
        pd.DataFrame(
            [("2027-01-01", "放假", "元旦"), ("2027-02-07", "上班", "春节调休")],
            columns=list(HEADERS),
        ),
        sheet="节假日安排",
    )
