"""家访 rules: what a visit record needs, and when the next visit of a case is due and overdue."""

from datetime import date

import pytest

from tests.factories import visit_facts
from xueji.rules.cases import CaseCategory
from xueji.rules.visits import (
    DEFAULT_VISIT_DAYS,
    ReturnOutcome,
    VisitKind,
    VisitMethod,
    VisitState,
    parse_day,
    parse_visit_days,
    visit_due,
    visit_problems,
    visit_state,
)

TODAY = date(2026, 11, 23)
EARLIEST = date(2025, 9, 1)


_visit = visit_facts


def test_a_complete_visit_has_no_problems():
    assert visit_problems(_visit(), today=TODAY, earliest=EARLIEST) == []


def test_a_visit_cannot_be_dated_in_the_future_or_before_the_previous_school_year():
    assert visit_problems(_visit(visit_date=date(2026, 11, 24)), today=TODAY, earliest=EARLIEST) == [
        ("家访日期", "不能晚于今天")
    ]
    assert visit_problems(_visit(visit_date=date(2025, 8, 31)), today=TODAY, earliest=EARLIEST) == [
        ("家访日期", "不能早于 2025-09-01")
    ]


def test_a_return_attempt_needs_its_outcome_and_a_visit_has_none():
    attempt = _visit(kind=VisitKind.RETURN_ATTEMPT)
    assert visit_problems(attempt, today=TODAY, earliest=EARLIEST) == [("劝返结果", "劝返须选择结果")]
    done = _visit(kind=VisitKind.RETURN_ATTEMPT, outcome=ReturnOutcome.AGREED)
    assert visit_problems(done, today=TODAY, earliest=EARLIEST) == []
    assert visit_problems(_visit(outcome=ReturnOutcome.AGREED), today=TODAY, earliest=EARLIEST) == [
        ("劝返结果", "只有劝返记录填写劝返结果")
    ]


def test_a_parent_meeting_needs_no_named_person_met():
    assert (
        visit_problems(_visit(method=VisitMethod.PARENT_MEETING, met_with=""), today=TODAY, earliest=EARLIEST)
        == []
    )
    assert visit_problems(_visit(met_with=""), today=TODAY, earliest=EARLIEST) == [
        ("见到的人", "请填写见到或联系上的人(如母亲、祖父)")
    ]


def test_the_next_visit_comes_after_this_one():
    same_day = _visit(next_visit_on=date(2026, 11, 20))
    assert visit_problems(same_day, today=TODAY, earliest=EARLIEST) == [
        ("下次家访日期", "应晚于本次家访日期")
    ]


def test_blank_visitors_and_situation_are_both_reported():
    problems = visit_problems(_visit(visitors=" ", child_situation=""), today=TODAY, earliest=EARLIEST)
    assert [name for name, _ in problems] == ["家访人", "孩子情况"]


def test_the_due_date_runs_from_the_last_visit_since_opening():
    opened = date(2026, 10, 1)
    assert visit_due(opened_on=opened, last_visit=None, interval_days=14) == date(2026, 10, 15)
    assert visit_due(opened_on=opened, last_visit=date(2026, 11, 1), interval_days=14) == date(2026, 11, 15)
    # a visit made before the case opened does not count for it
    assert visit_due(opened_on=opened, last_visit=date(2026, 9, 20), interval_days=14) == date(2026, 10, 15)


def test_suspected_dropouts_are_visited_every_two_weeks_and_left_behind_children_monthly():
    assert DEFAULT_VISIT_DAYS[CaseCategory.SUSPECTED_DROPOUT] == 14
    assert DEFAULT_VISIT_DAYS[CaseCategory.LEFT_BEHIND] == 30
    assert set(DEFAULT_VISIT_DAYS) == set(CaseCategory)


def test_overdue_starts_the_day_after_the_due_date():
    due = date(2026, 11, 23)
    assert visit_state(due, today=date(2026, 11, 23), warn_days=7) is VisitState.DUE
    assert visit_state(due, today=date(2026, 11, 24), warn_days=7) is VisitState.OVERDUE
    assert visit_state(due, today=date(2026, 11, 16), warn_days=7) is VisitState.DUE
    assert visit_state(due, today=date(2026, 11, 15), warn_days=7) is VisitState.OK


def test_the_policy_setting_overrides_named_categories_only():
    days = parse_visit_days("suspected_dropout=7, left_behind=21")
    assert days[CaseCategory.SUSPECTED_DROPOUT] == 7
    assert days[CaseCategory.LEFT_BEHIND] == 21
    assert days[CaseCategory.MIGRANT] == DEFAULT_VISIT_DAYS[CaseCategory.MIGRANT]


@pytest.mark.parametrize("text", ["lost=7", "left_behind=0", "left_behind=abc", "left_behind=400"])
def test_a_wrong_policy_setting_is_refused(text):
    with pytest.raises(ValueError):
        parse_visit_days(text)


@pytest.mark.parametrize("text", ["2026-11-20", "2026/11/20", "2026.11.20", "20261120"])
def test_sheet_dates_are_read_as_people_write_them(text):
    assert parse_day(text) == date(2026, 11, 20)


@pytest.mark.parametrize("text", ["2026-13-01", "11/20", "昨天"])
def test_an_unreadable_sheet_date_is_refused(text):
    with pytest.raises(ValueError):
        parse_day(text)
