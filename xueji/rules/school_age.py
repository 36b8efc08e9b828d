"""Compulsory-school age (义务教育适龄): a child is of age when their full years on the school year's reference
day (by default 31 August of its start year: XUEJI_SWEEP_AGE_DATE) are within the setting XUEJI_SCHOOL_AGE
(by default 6 to 15)."""

from __future__ import annotations

from datetime import date

from xueji.rules.terms import school_year_start

DEFAULT_AGES = (6, 15)  # 义务教育阶段适龄儿童少年: the default of XUEJI_SCHOOL_AGE


def _years_before(day: date, years: int) -> date:
    """The same day `years` years earlier; 29 February falls back to 28 February."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def reference_day(today: date, *, month_day: tuple[int, int], start_month: int = 9) -> date:
    """The day ages are counted on in the school year that holds `today`."""
    return date(school_year_start(today, start_month=start_month), *month_day)


def birth_window(reference: date, ages: tuple[int, int]) -> tuple[date, date]:
    """The birth dates (earliest, latest) of children aged ages[0] to ages[1] full years on the reference day."""
    youngest, oldest = ages
    latest = _years_before(reference, youngest)
    earliest = date.fromordinal(_years_before(reference, oldest + 1).toordinal() + 1)
    return earliest, latest
