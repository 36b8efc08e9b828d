"""Working days by the Chinese calendar: public holidays off, adjusted weekend working days (调休) on.

The chinesecalendar package knows the State Council's arrangements up to the year it was released; the
administrator's holiday table (overrides) fills in later years and corrects any day. A year counts as covered
when the library has it or the administrator has marked its table complete; one row entered for a year does not
cover it. A day of an uncovered year that the table does not hold is taken as Monday–Friday and its year is
reported as guessed, so a deadline never crashes and the pages warn until the year is covered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

import chinese_calendar


def library_is_workday(day: date) -> bool | None:
    """What chinesecalendar says of the day, or None for a year it has no data for."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


class Coverage(StrEnum):
    """How a year's working days are known."""

    LIBRARY = "library"  # chinesecalendar has the State Council's arrangements for it
    CONFIRMED = "confirmed"  # the administrator marked the year's holiday table complete
    INCOMPLETE = "incomplete"  # neither: days outside the table are guessed from the weekday

    @property
    def label(self) -> str:
        return {"library": "库内置", "confirmed": "管理员已确认完整", "incomplete": "不完整"}[self.value]


@dataclass(frozen=True)
class WorkCalendar:
    """The administrator's overrides (day → is a working day) over the library's arrangements, and the years
    whose table the administrator marked complete."""

    overrides: Mapping[date, bool]
    complete_years: frozenset[int] = frozenset()
    library: Callable[[date], bool | None] = library_is_workday

    def coverage(self, year: int) -> Coverage:
        # The library covers a year whole or not at all: its data is published a year at a time.
        if self.library(date(year, 1, 1)) is not None and self.library(date(year, 12, 31)) is not None:
            return Coverage.LIBRARY
        return Coverage.CONFIRMED if year in self.complete_years else Coverage.INCOMPLETE

    def covers(self, year: int) -> bool:
        return self.coverage(year) is not Coverage.INCOMPLETE

    def is_workday(self, day: date) -> tuple[bool, bool]:
        """(is a working day, known): known is False when the day was guessed from the weekday."""
        if day in self.overrides:
            return self.overrides[day], True
        known = self.library(day)
        if known is not None:
            return known, True
        return day.weekday() < 5, day.year in self.complete_years


@dataclass(frozen=True)
class Deadline:
    due: date
    guessed_years: frozenset[int]  # years whose arrangements were guessed while counting

    @property
    def certain(self) -> bool:
        return not self.guessed_years


def add_working_days(start: date, days: int, calendar: WorkCalendar) -> Deadline:
    """The day that is the days-th working day after start (start itself does not count)."""
    if days < 1:
        raise ValueError("days 应为正整数")
    day, counted, guessed = start, 0, set()
    while counted < days:
        day += timedelta(days=1)
        working, known = calendar.is_workday(day)
        if not known:
            guessed.add(day.year)
        if working:
            counted += 1
    return Deadline(day, frozenset(guessed))


def uncovered_years(start: date, due: date, calendar: WorkCalendar) -> list[int]:
    """The years a deadline counted from start to due depends on that are not covered (start does not count)."""
    first = (start + timedelta(days=1)).year
    return [year for year in range(first, due.year + 1) if not calendar.covers(year)]


@dataclass(frozen=True)
class Recounted:
    """A stored deadline counted again: what it was and what it is with the current calendar."""

    key: int
    due_before: date
    due_after: date
    guessed_before: bool
    guessed_after: bool

    @property
    def changed(self) -> bool:
        return (self.due_before, self.guessed_before) != (self.due_after, self.guessed_after)


def recount(
    stored: Iterable[tuple[int, date, date, bool]], days: int, calendar: WorkCalendar
) -> list[Recounted]:
    """Each stored (key, start, due, guessed) deadline counted again from its start; only those that changed."""
    found = []
    for key, start, due, guessed in stored:
        deadline = add_working_days(start, days, calendar)
        again = Recounted(key, due, deadline.due, guessed, not deadline.certain)
        if again.changed:
            found.append(again)
    return found


def working_days_left(today: date, due: date, calendar: WorkCalendar) -> int:
    """Working days from tomorrow up to and including due; negative when due has passed (days overdue)."""
    if due < today:
        return -sum(calendar.is_workday(today - timedelta(days=i))[0] for i in range((today - due).days))
    return sum(calendar.is_workday(today + timedelta(days=i))[0] for i in range(1, (due - today).days + 1))
