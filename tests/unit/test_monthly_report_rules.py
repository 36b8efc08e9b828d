"""四个一 月报 rules: the figures in order, months and their due day, what may be submitted, corrections, quarters."""

from datetime import date

import pytest

from xueji.rules.accountability import LedgerMonth
from xueji.rules.monthly_report import (
    FIGURES,
    HEADINGS,
    KEYS,
    STOCKS,
    MonthState,
    Quarter,
    SubmissionState,
    changed_keys,
    due_on,
    last_month,
    month_state,
    note_problem,
    ordered,
    over_months,
    owes_report,
    parse_month,
    reason_problem,
    recent_quarters,
    submission_state,
    submit_problem,
    totals,
)

OCTOBER = LedgerMonth(2026, 10)


def test_every_figure_has_a_unique_key_and_a_chinese_label_and_a_unique_column_heading():
    assert len(set(KEYS)) == len(KEYS) == len(FIGURES)
    assert all(f.label and not f.label.isascii() for f in FIGURES)
    assert len(set(HEADINGS.values())) == len(KEYS)


def test_a_month_is_read_from_yyyy_mm_and_anything_else_is_refused_in_chinese():
    assert parse_month("2026-10") == OCTOBER
    for bad in ("2026/10", "2026-13", "10-2026", ""):
        with pytest.raises(ValueError, match="YYYY-MM"):
            parse_month(bad)


def test_the_report_is_due_by_the_due_day_of_the_next_month_even_across_the_year():
    assert due_on(OCTOBER, 5) == date(2026, 11, 5)
    assert due_on(LedgerMonth(2026, 12), 5) == date(2027, 1, 5)
    assert due_on(LedgerMonth(2027, 1), 31) == date(2027, 2, 28)  # a due day past the month's end


def test_last_month_of_january_is_december_of_the_year_before():
    assert last_month(date(2027, 1, 3)) == LedgerMonth(2026, 12)
    assert last_month(date(2026, 11, 23)) == OCTOBER


def test_only_a_month_that_has_ended_may_be_submitted_the_current_one_is_a_draft():
    today = date(2026, 11, 23)
    assert month_state(OCTOBER, today) is MonthState.ENDED and submit_problem(OCTOBER, today) is None
    assert month_state(LedgerMonth(2026, 11), today) is MonthState.RUNNING
    assert "草稿" in (submit_problem(LedgerMonth(2026, 11), today) or "")
    assert "尚未开始" in (submit_problem(LedgerMonth(2026, 12), today) or "")
    assert submit_problem(LedgerMonth(2026, 11), date(2026, 12, 1)) is None


def test_a_correction_needs_a_reason_of_at_least_four_characters_and_at_most_300():
    assert reason_problem("") and reason_problem("  补录 ") and reason_problem("x" * 301)
    assert reason_problem("补录家访") is None
    assert note_problem("x" * 301) and note_problem("") is None


def test_a_submission_is_on_time_until_the_due_day_late_after_and_overdue_when_missing():
    state = lambda first, today: submission_state(OCTOBER, first_submitted=first, today=today, due_day=5)  # noqa: E731
    assert state(None, date(2026, 11, 5)) is SubmissionState.NOT_DUE
    assert state(None, date(2026, 11, 6)) is SubmissionState.OVERDUE
    assert state(date(2026, 11, 5), date(2026, 11, 20)) is SubmissionState.ON_TIME
    assert state(date(2026, 11, 6), date(2026, 11, 20)) is SubmissionState.LATE
    assert not SubmissionState.OVERDUE.submitted and SubmissionState.LATE.submitted


def test_changed_figures_are_those_that_differ_from_the_frozen_copy():
    frozen = ordered({"enrolled": 10, "dropouts": 1})
    assert changed_keys(frozen, ordered({"enrolled": 10, "dropouts": 2})) == ["dropouts"]
    assert changed_keys(frozen, frozen) == []


def test_over_a_quarter_events_are_summed_and_month_end_counts_come_from_the_last_month():
    months = [ordered({"enrolled": 100, "dropouts": 1}), ordered({"enrolled": 98, "dropouts": 2})]
    quarter = over_months(months)
    assert quarter["enrolled"] == 98 and quarter["dropouts"] == 3
    assert totals(months)["enrolled"] == 198  # schools are summed as they are


def test_month_end_counts_are_left_out_when_the_quarters_last_ended_month_was_not_submitted():
    october, november = ordered({"enrolled": 100, "dropouts": 1}), ordered({"enrolled": 98, "dropouts": 2})
    quarter = over_months([october, november, None])  # December ended but was not submitted
    assert quarter["dropouts"] == 3
    assert not STOCKS & quarter.keys()  # never October's or November's 在籍 as the quarter's end
    assert totals([quarter, over_months([november])])["enrolled"] == 98  # the school left out of 在籍
    assert over_months([None, november])["enrolled"] == 98


def test_a_school_owes_no_report_for_a_month_before_it_opened():
    assert owes_report(OCTOBER, date(2026, 10, 31)) and owes_report(OCTOBER, date(2018, 9, 1))
    assert not owes_report(OCTOBER, date(2026, 11, 1))
    assert not owes_report(OCTOBER, None)  # no sign of having opened


def test_a_quarter_is_read_from_yyyy_qn_and_knows_its_months():
    q = Quarter.parse("2026-q4")
    assert q == Quarter(2026, 4) and q.label == "2026年第四季度"
    assert [m.key for m in q.months] == ["2026-10", "2026-11", "2026-12"]
    with pytest.raises(ValueError, match="YYYY-Qn"):
        Quarter.parse("2026-Q5")
    assert recent_quarters(date(2027, 2, 1), 3) == [Quarter(2027, 1), Quarter(2026, 4), Quarter(2026, 3)]
