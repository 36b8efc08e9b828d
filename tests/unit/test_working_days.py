"""The 7-working-day deadline of a status change, by the Chinese calendar and the holiday table."""

from datetime import date

import pytest

from xueji.rules.working_days import (
    Coverage,
    WorkCalendar,
    add_working_days,
    recount,
    uncovered_years,
    working_days_left,
)

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


def test_a_year_the_administrator_marked_complete_is_known_on_every_day():
    calendar = WorkCalendar({date(2027, 1, 1): False}, frozenset({2027}), library=lambda day: None)
    assert calendar.is_workday(date(2027, 3, 3)) == (True, True)  # an ordinary Wednesday of a confirmed year
    assert calendar.is_workday(date(2028, 3, 1)) == (True, False)  # a year nobody confirmed is a guess


def test_one_row_entered_for_a_year_does_not_cover_it():
    one_row = WorkCalendar({date(2027, 1, 1): False})
    assert one_row.coverage(2027) is Coverage.INCOMPLETE
    assert one_row.is_workday(date(2027, 1, 1)) == (False, True)  # the row itself is known
    assert one_row.is_workday(date(2027, 1, 4)) == (True, False)  # every other day of 2027 is still a guess
    deadline = add_working_days(date(2026, 12, 28), 7, one_row)
    assert deadline.due == date(2027, 1, 7) and deadline.guessed_years == frozenset({2027})


def test_a_year_counts_as_covered_by_the_library_or_by_the_administrators_mark():
    marked = WorkCalendar({}, frozenset({2027, 2025}))
    assert (marked.coverage(2026), marked.coverage(2027), marked.coverage(2028)) == (
        Coverage.LIBRARY,  # chinesecalendar 1.11 has 2026
        Coverage.CONFIRMED,
        Coverage.INCOMPLETE,
    )
    assert marked.coverage(2025) is Coverage.LIBRARY  # the library wins over a needless mark
    assert [c.label for c in Coverage] == ["库内置", "管理员已确认完整", "不完整"]
    deadline = add_working_days(date(2026, 12, 28), 7, marked)
    assert deadline.certain and deadline.due == date(2027, 1, 6)


def test_the_uncovered_years_of_a_deadline_are_those_it_counts_through():
    assert uncovered_years(date(2026, 12, 28), date(2027, 1, 6), LIBRARY_ONLY) == [2027]
    assert uncovered_years(date(2026, 12, 31), date(2027, 1, 11), WorkCalendar({}, frozenset({2027}))) == []
    assert uncovered_years(date(2026, 11, 23), date(2026, 12, 2), LIBRARY_ONLY) == []
    assert uncovered_years(date(2027, 12, 27), date(2028, 1, 5), LIBRARY_ONLY) == [2027, 2028]


def test_stored_deadlines_are_counted_again_and_only_the_changed_ones_returned():
    # Submitted 2026-12-28: guessed 2027-01-06 while 2027 was unknown; with 元旦 off (2027-01-01) the
    # seventh working day is 2027-01-07, and once 2027 is confirmed the deadline is certain.
    stored = [
        (1, date(2026, 12, 28), date(2027, 1, 6), True),
        (2, date(2026, 11, 2), date(2026, 11, 11), False),
    ]
    confirmed = WorkCalendar({date(2027, 1, 1): False}, frozenset({2027}))
    [moved] = recount(stored, 7, confirmed)
    assert (moved.key, moved.due_before, moved.due_after) == (1, date(2027, 1, 6), date(2027, 1, 7))
    assert (moved.guessed_before, moved.guessed_after) == (True, False)
    # Marked complete with no row: the due date stays, only "guessed" changes.
    [only_flag] = recount(stored, 7, WorkCalendar({}, frozenset({2027})))
    assert (only_flag.due_after, only_flag.guessed_after) == (date(2027, 1, 6), False)
    assert recount(stored, 7, LIBRARY_ONLY) == []
