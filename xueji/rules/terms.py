"""School years (学年) and terms (学期): which one a date falls in, and their default dates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class TermDates:
    school_year_start: int
    seq: int
    start: date
    end: date

    @property
    def name(self) -> str:
        order = "一" if self.seq == 1 else "二"
        return f"{school_year_name(self.school_year_start)}第{order}学期"

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def school_year_start(day: date, *, start_month: int = 9) -> int:
    """Return the calendar year in which the school year containing day began."""
    return day.year if day.month >= start_month else day.year - 1


def school_year_name(start_year: int) -> str:
    """Return the school year's name, e.g. 2026 → 2026-2027学年."""
    return f"{start_year}-{start_year + 1}学年"


def school_year_bounds(start_year: int, *, start_month: int = 9) -> tuple[date, date]:
    """Return the first and last day of the school year starting in start_year."""
    first = date(start_year, start_month, 1)
    last = date(start_year + 1, start_month, 1).toordinal() - 1
    return first, date.fromordinal(last)


def default_terms(start_year: int) -> tuple[TermDates, TermDates]:
    """Return the usual autumn and spring terms of a school year (editable afterwards), each starting and ending
    on a school day clear of the public holidays chinesecalendar knows and of the Spring Festival (the lunar
    calendar gives it for later years): rules.term_calendar.proposed_terms."""
    from xueji.rules.term_calendar import proposed_terms  # it builds on this module's TermDates

    return proposed_terms(start_year)


def term_on(day: date, terms: Sequence[TermDates]) -> TermDates | None:
    """Return the term containing day, or None during a holiday."""
    return next((t for t in terms if t.contains(day)), None)


def current_or_last_term(day: date, terms: Sequence[TermDates]) -> TermDates | None:
    """Return the term containing day, else the latest term that has started before it."""
    started = [t for t in terms if t.start <= day]
    return max(started, key=lambda t: t.start) if started else None
