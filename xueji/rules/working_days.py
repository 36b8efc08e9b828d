"""Working days by the Chinese calendar: public holidays off, adjusted weekend working days (调休) on.

The chinesecalendar package knows the State Council's arrangements up to the year it was released; the
administrator's holiday table (overrides) fills in later years and corrects any day. A day that neither
knows is taken as Monday–Friday and the year is reported as guessed, so a deadline never crashes and the
page can warn until the table is filled in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import chinese_calendar


def library_is_workday(day: date) -> bool | None:
    """What chinesecalendar says of the day, or None for a year it has no data for."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


@dataclass(frozen=True)
class WorkCalendar:
    """The administrator's overrides (day → is a working day) over the library's arrangements."""

    overrides: Mapping[date, bool]
    library: Callable[[date], bool | None] = library_is_workday
    # Years the administrator has filled in: there a day not in the table is an ordinary weekday or weekend.
    filled_years: frozenset[int] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "filled_years", frozenset(day.year for day in self.overrides))

    def is_workday(self, day: date) -> tuple[bool, bool]:
        """(is a working day, known): known is False when the day was guessed from the weekday."""
        if day in self.overrides:
            return self.overrides[day], True
        known = self.library(day)
        if known is not None:
            return known, True
        return day.weekday() < 5, day.year in self.filled_years


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


def working_days_left(today: date, due: date, calendar: WorkCalendar) -> int:
    """Working days from tomorrow up to and including due; negative when due has passed (days overdue)."""
    if due < today:
        return -sum(calendar.is_workday(today - timedelta(days=i))[0] for i in range((today - due).days))
    return sum(calendar.is_workday(today + timedelta(days=i))[0] for i in range(1, (due - today).days + 1))
