"""Issue 24: a child on 送教看板 who can no longer be compliant this term is told so, in weeks and visits
("本学期已无法达标:剩余 N 周,还需 M 次"), under the policy's numbers (source 002: 5 visits a term; at most
1 visit a week by default, XUEJI_HOME_TEACHING_MOST_PER_WEEK; a visit records at most 8 class hours); and the
sweep chart's order and labels (the villages that need work first, 未开始 for a village not started)."""

from datetime import date

import pytest

from xueji.config import SettingsError, settings_from_env
from xueji.rules.home_teaching import (
    MAX_CLASS_HOURS,
    ComplianceState,
    VisitHours,
    out_of_reach,
    school_weeks_left,
    term_compliance,
)
from xueji.rules.home_teaching_policy import HomeTeachingPolicy
from xueji.rules.sweeps import VillageStatus, coverage_label, work_order

SOURCE = HomeTeachingPolicy()  # 5 a term, 1 a month, 2 class hours, at most 1 a week
AUTUMN = (date(2026, 9, 1), date(2027, 1, 20))


def test_weeks_left_count_today_and_a_part_week_and_skip_the_months_without_school():
    assert school_weeks_left(date(2027, 1, 14), date(2027, 1, 20)) == 1  # 7 days
    assert school_weeks_left(date(2027, 1, 13), date(2027, 1, 20)) == 2  # 8 days: a part week counts
    assert school_weeks_left(date(2027, 1, 20), date(2027, 1, 20)) == 1  # the last day itself
    assert school_weeks_left(date(2027, 1, 21), date(2027, 1, 20)) == 0  # after the term
    # 2027-01-25 to 2027-03-07 with February off: 7 days of January, 7 of March
    assert school_weeks_left(date(2027, 1, 25), date(2027, 3, 7), frozenset({2})) == 2


def test_more_visits_needed_than_weeks_left_is_out_of_reach_and_says_how_many():
    assert out_of_reach(3, 0, 3, SOURCE) == ""  # one a week: just enough
    assert out_of_reach(4, 0, 3, SOURCE) == "本学期已无法达标:剩余 3 周,还需 4 次"
    twice = HomeTeachingPolicy(most_per_week=2)
    assert out_of_reach(4, 0, 3, twice) == ""  # 3 weeks × 2
    assert out_of_reach(7, 0, 3, twice) == "本学期已无法达标:剩余 3 周,还需 7 次"


def test_class_hours_out_of_reach_at_the_most_a_visit_records():
    hours = HomeTeachingPolicy(hours_per_term=108)
    assert out_of_reach(0, 3 * MAX_CLASS_HOURS, 3, hours) == ""
    assert out_of_reach(0, 24.5, 3, hours) == "本学期已无法达标:剩余 3 周,还需 24.5 课时"


def test_a_child_started_in_november_with_one_visit_can_still_make_it_until_a_month_is_missed():
    # the demo's day: 23 November, term to 20 January: 59 days, 9 weeks
    one = [VisitHours(date(2026, 11, 10), 2)]
    result = term_compliance(
        one, term_start=AUTUMN[0], term_end=AUTUMN[1], today=date(2026, 11, 23), policy=SOURCE,
        started=date(2026, 11, 1),
    )  # fmt: skip
    assert (result.owed.visits, result.needed) == (3, 2)  # owes ⌈5 × 81 ÷ 142⌉ = 3, 1 done
    assert (result.weeks_left, result.hopeless, result.out_of_reach) == (9, False, "")
    late = term_compliance(
        one, term_start=AUTUMN[0], term_end=AUTUMN[1], today=date(2027, 1, 7), policy=SOURCE,
        started=date(2026, 11, 1),
    )  # fmt: skip
    # December had no visit: the month is missed, which says so rather than weeks
    assert late.state is ComplianceState.BEHIND and late.hopeless
    assert late.out_of_reach.startswith("本学期已无法达标:已结束的月份补不上")


def test_a_child_started_in_december_and_not_visited_is_told_weeks_and_visits():
    policy = HomeTeachingPolicy(visits_per_term=10)
    result = term_compliance(
        [], term_start=AUTUMN[0], term_end=AUTUMN[1], today=date(2026, 12, 28), policy=policy,
        started=date(2026, 12, 20),
    )  # fmt: skip
    # owes ⌈10 × 32 ÷ 142⌉ = 3; 24 days left: 4 weeks → can still make 3; at 14 January, 1 week: cannot
    assert (result.needed, result.weeks_left, result.hopeless) == (3, 4, False)
    later = term_compliance(
        [], term_start=AUTUMN[0], term_end=AUTUMN[1], today=date(2027, 1, 14), policy=policy,
        started=date(2026, 12, 20),
    )  # fmt: skip
    assert later.out_of_reach == "本学期已无法达标:剩余 1 周,还需 3 次"
    assert later.state is ComplianceState.BEHIND


def test_the_most_visits_a_week_is_a_setting_with_one_by_default():
    assert settings_from_env({}).home_teaching.most_per_week == 1
    assert settings_from_env({"XUEJI_HOME_TEACHING_MOST_PER_WEEK": "3"}).home_teaching.most_per_week == 3
    with pytest.raises(SettingsError):
        settings_from_env({"XUEJI_HOME_TEACHING_MOST_PER_WEEK": "0"})


def test_the_sweep_chart_puts_the_villages_that_need_work_first_and_names_a_village_not_started():
    villages = {
        "已审核": work_order(VillageStatus.REVIEWED, False, 1.0),
        "待审核": work_order(VillageStatus.SUBMITTED, False, 0.9),
        "排查中多": work_order(VillageStatus.IN_PROGRESS, False, 0.8),
        "排查中少": work_order(VillageStatus.IN_PROGRESS, False, 0.2),
        "未开始": work_order(VillageStatus.PLANNED, False, None),
        "退回": work_order(VillageStatus.RETURNED, False, 0.5),
        "逾期": work_order(VillageStatus.IN_PROGRESS, True, 0.7),
    }
    assert sorted(villages, key=villages.__getitem__) == [
        "逾期", "退回", "未开始", "排查中少", "排查中多", "待审核", "已审核"
    ]  # fmt: skip
    assert coverage_label(VillageStatus.PLANNED, 0, None) == "未开始"
    assert coverage_label(VillageStatus.PLANNED, 0, 0.0) == "未开始"
    assert coverage_label(VillageStatus.IN_PROGRESS, 12, 0.456) == "46%"
    assert coverage_label(VillageStatus.IN_PROGRESS, 12, None) == "已走访 12 户(户数未填)"
