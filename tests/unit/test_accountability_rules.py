"""本月台帐 and 年度目标考核 (source 002): which month an item counts in, with the sources' numbers."""

from datetime import date

import pytest

from xueji.rules.accountability import (
    COUNTED_ITEMS,
    Item,
    LedgerMonth,
    checks_short,
    late_registration,
    months_between,
    months_so_far,
    overdue_in_month,
    term_checks_month,
    total,
)

OCT, NOV = LedgerMonth(2026, 10), LedgerMonth(2026, 11)
TODAY = date(2026, 11, 23)


def test_a_month_runs_from_its_first_to_its_last_day():
    assert (OCT.first, OCT.last) == (date(2026, 10, 1), date(2026, 10, 31))
    assert LedgerMonth(2027, 2).last == date(2027, 2, 28)
    assert LedgerMonth(2026, 12).next() == LedgerMonth(2027, 1)
    assert (OCT.key, OCT.label) == ("2026-10", "2026年10月")


def test_a_running_month_is_drawn_up_today_and_a_past_one_at_its_end():
    assert NOV.cut(TODAY) == TODAY
    assert OCT.cut(TODAY) == date(2026, 10, 31)


@pytest.mark.parametrize("text", ["2026-13", "2026/10", "26-10", "2026-", "十月"])
def test_a_month_that_is_not_yyyy_mm_is_refused(text):
    with pytest.raises(ValueError, match="YYYY-MM"):
        LedgerMonth.parse(text)


def test_a_school_year_has_twelve_months_from_september():
    months = months_between(date(2026, 9, 1), date(2027, 8, 31))
    assert len(months) == 12
    assert (months[0], months[-1]) == (LedgerMonth(2026, 9), LedgerMonth(2027, 8))


def test_only_the_months_begun_by_today_have_a_ledger():
    assert months_so_far(date(2026, 9, 1), date(2027, 8, 31), TODAY) == [
        LedgerMonth(2026, 9),
        OCT,
        NOV,
    ]


# 7 个工作日内完成审批 (002): the due date is the seventh working day after submission


def test_a_change_decided_after_its_due_date_counts_in_the_month_of_the_decision():
    due, decided = date(2026, 10, 19), date(2026, 10, 25)
    assert overdue_in_month(due=due, decided_on=decided, month=OCT, today=TODAY)
    assert not overdue_in_month(due=due, decided_on=decided, month=NOV, today=TODAY)


def test_a_change_decided_on_its_due_date_is_in_time():
    day = date(2026, 11, 10)
    assert not overdue_in_month(due=day, decided_on=day, month=NOV, today=TODAY)


def test_a_change_still_open_past_its_due_date_counts_in_every_month_it_stays_open():
    due = date(2026, 10, 29)
    assert overdue_in_month(due=due, decided_on=None, month=OCT, today=TODAY)
    assert overdue_in_month(due=due, decided_on=None, month=NOV, today=TODAY)
    assert not overdue_in_month(due=due, decided_on=None, month=LedgerMonth(2026, 9), today=TODAY)


def test_a_change_due_on_the_months_last_day_is_not_yet_overdue_at_its_end():
    due, decided = date(2026, 10, 31), date(2026, 11, 2)
    assert not overdue_in_month(due=due, decided_on=decided, month=OCT, today=TODAY)
    assert overdue_in_month(due=due, decided_on=decided, month=NOV, today=TODAY)


def test_an_open_change_due_after_today_is_not_yet_overdue_this_month():
    assert not overdue_in_month(due=date(2026, 11, 25), decided_on=None, month=NOV, today=TODAY)
    assert overdue_in_month(due=date(2026, 11, 20), decided_on=None, month=NOV, today=TODAY)


def test_a_month_not_yet_begun_has_no_overdue_change():
    month = LedgerMonth(2026, 12)
    assert not overdue_in_month(due=date(2026, 10, 1), decided_on=None, month=month, today=TODAY)


# 一年级新生9月底、七年级新生10月底完成学籍注册 (002)


def test_a_grade_one_record_added_in_october_is_late_and_one_of_30_september_is_not():
    deadline = date(2026, 9, 30)
    since = date(2026, 9, 1)
    assert late_registration(added_on=date(2026, 10, 8), deadline=deadline, live_since=since)
    assert not late_registration(added_on=deadline, deadline=deadline, live_since=since)


def test_a_grade_seven_record_of_31_october_is_in_time():
    deadline = date(2026, 10, 31)
    assert not late_registration(added_on=date(2026, 10, 31), deadline=deadline)
    assert late_registration(added_on=date(2026, 11, 1), deadline=deadline)


def test_records_loaded_in_the_month_a_school_went_live_are_no_late_registration():
    deadline = date(2026, 9, 30)
    live = date(2026, 11, 5)
    assert not late_registration(added_on=date(2026, 11, 20), deadline=deadline, live_since=live)
    assert late_registration(added_on=date(2026, 12, 1), deadline=deadline, live_since=live)


# 每学期至少两次人籍一致核查 (002)


def test_one_check_in_a_term_is_short_of_two_and_two_are_enough():
    assert checks_short(1, 2)
    assert checks_short(0, 2)
    assert not checks_short(2, 2)


def test_a_terms_missing_checks_count_in_the_month_it_ended_once_it_has_ended():
    end = date(2027, 1, 20)
    january = LedgerMonth(2027, 1)
    assert term_checks_month(term_end=end, month=january, today=date(2027, 1, 21))
    assert not term_checks_month(term_end=end, month=january, today=date(2027, 1, 20))
    assert not term_checks_month(term_end=end, month=LedgerMonth(2027, 2), today=date(2027, 2, 10))


def test_the_total_leaves_out_the_explained_items():
    counts = dict.fromkeys(Item, 1)
    assert total(counts) == len(COUNTED_ITEMS) == 6
    assert not Item.OUTSIDE_WINDOW.counted and not Item.BELOW_GRADE.counted


def test_every_item_names_its_source():
    assert all(any(f"{n:03d}" in item.rule for n in (0, 2)) for item in Item)
