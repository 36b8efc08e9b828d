"""The working-day calendar behind stored deadlines: the holiday table, the years marked complete, and the
open status changes' deadlines counted again whenever either changes.

Only open requests are recounted: a decided request's deadline is what it was judged against (the monthly
ledger counts it as overdue or not), so changing it afterwards would rewrite a past month. The other stored
due dates (a sweep's 排查期限) are counted in calendar days from the term, not in working days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlmodel import Session, col

from xueji.clock import china_day
from xueji.config import get_settings
from xueji.models import AppSetting, CalendarDay, StatusChange
from xueji.rules.status_changes import ChangeState
from xueji.rules.working_days import Recounted, WorkCalendar, recount, uncovered_years

COMPLETE_KEY = "holiday_year_complete:"  # + the year: the administrator confirmed that year's table is whole
AUDITED_MOVES = 100  # moves listed one by one in the audit entry; the count is always there


def complete_years(session: Session) -> frozenset[int]:
    keys = session.scalars(select(AppSetting.key).where(col(AppSetting.key).startswith(COMPLETE_KEY)))
    return frozenset(int(key.removeprefix(COMPLETE_KEY)) for key in keys)


def work_calendar(session: Session) -> WorkCalendar:
    """The library's arrangements under the administrator's holiday table and the years marked complete."""
    overrides: dict[date, bool] = dict(session.execute(select(CalendarDay.day, CalendarDay.is_workday)).all())
    return WorkCalendar(overrides, complete_years(session))


def _open_deadlines(session: Session) -> list[tuple[int, date, date, bool]]:
    """(id, day of submission in China, due date, guessed) of every open status change."""
    rows = session.execute(
        select(StatusChange.id, StatusChange.submitted_at, StatusChange.due_date, StatusChange.due_guessed)
        .where(StatusChange.state == ChangeState.SUBMITTED)
        .order_by(StatusChange.id)
    )
    return [(int(i or 0), china_day(at), due, bool(guessed)) for i, at, due, guessed in rows]


@dataclass(frozen=True)
class Recomputed:
    open: int
    moved: list[Recounted]  # the open deadlines that changed

    def audit(self) -> dict[str, object]:
        """The audit entry's part: how many were open and moved, and each move (bounded)."""
        shown = [
            {
                "id": m.key,
                "due": [m.due_before.isoformat(), m.due_after.isoformat()],
                "guessed": [m.guessed_before, m.guessed_after],
            }
            for m in self.moved[:AUDITED_MOVES]
        ]
        return {"open": self.open, "moved": len(self.moved), "changes": shown}

    @property
    def summary(self) -> str:
        return f"待审批的学籍异动 {self.open} 份,审批期限重算后变动 {len(self.moved)} 份"


def recompute_open_deadlines(session: Session) -> Recomputed:
    """Count every open request's deadline again from its day of submission with the current calendar, and store
    the ones that changed. The caller holds the write lock and audits (in the same transaction)."""
    stored = _open_deadlines(session)
    moved = recount(stored, get_settings().status_change_working_days, work_calendar(session))
    for m in moved:
        change = session.get(StatusChange, m.key)
        assert change is not None  # read in this transaction, under the write lock
        change.due_date, change.due_guessed = m.due_after, m.guessed_after
        session.add(change)
    session.flush()
    return Recomputed(len(stored), moved)


def open_deadline_years(session: Session) -> list[int]:
    """The uncovered years that open requests' deadlines depend on."""
    calendar = work_calendar(session)
    years: set[int] = set()
    for _, start, due, _ in _open_deadlines(session):
        years.update(uncovered_years(start, due, calendar))
    return sorted(years)
