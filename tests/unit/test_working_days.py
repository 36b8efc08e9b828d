"""The 7-working-day deadline of a status change, by the Chinese calendar and the holiday table."""

from datetime import date

import pytest

from xueji.rules.working_days import WorkCalendar, add_working_days, working_days_left

LIBRARY_ONLY = WorkCalendar({})


def test_a_request_on_the_eve_of_national_day_2025_is_due_on_16_october():
    # 10-01…10-08 off; Saturday 10-11 is an adjusted working day and counts.
    assert add_working_days(date(2025, 9, 30), 7, LIBRARY_ONLY).due == date(2025, 10, 16)


def test_the_spring_festival_2026_week_does_not_count_but_its_adjusted_saturdays_do():
    # 02-14 (Sat) works, 02-15…02-23 off, 02-28 (Sat) works.
    deadline = add_working_days(date(2026, 2, 13), 7, LIBRARY_ONLY)
    assert deadline.due == date(2026, 3, 2)
    assert deadline.certain


def test_an_ordinary_week_counts_monday_to_friday():
    assert add_working_days(date(2025, 11, 3), 7, LIBRARY_ONLY).due == date(2025, 11, 12)


def test_a_year_the_library_does_not_cover_is_guessed_from_weekdays_and_reported():
    deadline = add_working_days(date(2026, 12, 28), 7, LIBRARY_ONLY)
    assert deadline.due == date(2027, 1, 6)
    assert deadline.guessed_years == frozenset({2027})
    assert not deadline.certain


def test_the_administrators_holiday_table_overrides_and_fills_in_later_years():
    filled = WorkCalendar({date(2027, 1, 1): False})
    assert add_working_days(date(2026, 12, 28), 7, filled).due == date(2027, 1, 7)
    working_saturday = WorkCalendar({date(2025, 11, 8): True})
    assert add_working_days(date(2025, 11, 3), 7, working_saturday).due == date(2025, 11, 11)


def test_days_left_counts_working_days_and_goes_negative_when_overdue():
    assert working_days_left(date(2025, 10, 14), date(2025, 10, 16), LIBRARY_ONLY) == 2
    assert working_days_left(date(2025, 10, 16), date(2025, 10, 16), LIBRARY_ONLY) == 0
    assert working_days_left(date(2025, 10, 20), date(2025, 10, 16), LIBRARY_ONLY) == -2


def test_zero_days_is_refused():
    with pytest.raises(ValueError):
        add_working_days(date(2025, 9, 30), 0, LIBRARY_ONLY)


def test_a_year_the_administrator_filled_in_is_known_on_every_day():
    calendar = WorkCalendar({date(2027, 1, 1): False}, library=lambda day: None)
    assert calendar.is_workday(date(2027, 3, 3)) == (True, True)  # an ordinary Wednesday of a filled year
    assert calendar.is_workday(date(2028, 3, 1)) == (True, False)  # a year nobody filled in is a guess
