"""送教上门 compliance, worked by hand: at least 5 visits a term, at least one in every month, each at least 2
class hours; months before home teaching started and the policy's skipped months are not required."""

from datetime import date

import pytest

from xueji.rules.home_teaching import (
    AssessmentFacts,
    ComplianceState,
    Conclusion,
    Degree,
    GoalArea,
    HomeVisitFacts,
    PlanFacts,
    VisitHours,
    assessment_problems,
    class_hours_of,
    due_this_month,
    home_visit_problems,
    parse_planned_dates,
    plan_problems,
    term_compliance,
)
from xueji.rules.home_teaching_policy import HomeTeachingPolicy, parse_skip_months

AUTUMN = (date(2026, 9, 1), date(2027, 1, 20))  # Sep, Oct, Nov, Dec, Jan
SPRING = (date(2027, 2, 17), date(2027, 7, 10))  # Feb, Mar, Apr, May, Jun, Jul
POLICY = HomeTeachingPolicy()


def visits(*days: str, hours: float = 2) -> list[VisitHours]:
    return [VisitHours(date.fromisoformat(d), hours) for d in days]


def check(vs, today, term=AUTUMN, policy=POLICY, started=None):
    return term_compliance(
        vs, term_start=term[0], term_end=term[1], today=today, policy=policy, started=started
    )


def test_five_visits_one_in_each_month_of_an_ended_term_comply():
    result = check(
        visits("2026-09-10", "2026-10-10", "2026-11-10", "2026-12-10", "2027-01-10"), date(2027, 1, 21)
    )
    assert (result.state, result.counted, result.needed, result.missed, result.months_left) == (
        ComplianceState.COMPLIANT,
        5,
        0,
        (),
        0,
    )
    assert result.reasons == ()


def test_exactly_five_visits_is_enough_and_four_is_not():
    five = visits("2026-09-10", "2026-10-10", "2026-11-10", "2026-12-10", "2027-01-10")
    assert check(five, date(2027, 1, 21)).state is ComplianceState.COMPLIANT
    four = check(five[:4] + visits("2027-01-25"), date(2027, 1, 26))  # the last one after the term ended
    assert (four.counted, four.needed) == (4, 1)
    assert four.state is ComplianceState.NOT_COMPLIANT  # the term is over: 未达标, January had no visit
    assert "还差 1 次(本学期应送教 5 次)" in four.reasons


def test_a_visit_under_two_class_hours_does_not_count():
    result = check(
        visits("2026-09-10", "2026-10-10", "2026-11-10", "2026-12-10") + visits("2027-01-10", hours=1.5),
        date(2027, 1, 21),
    )
    assert (result.counted, result.short, result.needed, result.hours) == (4, 1, 1, 9.5)
    assert [p.label for p in result.missed] == ["2027年1月"]  # the short visit leaves January uncounted
    assert result.state is ComplianceState.NOT_COMPLIANT
    assert "1 次不足 2 课时,只计课时、不计次数" in result.reasons


def test_two_visits_in_one_month_and_none_in_another_is_behind_even_with_five():
    result = check(
        visits("2026-09-10", "2026-09-24", "2026-11-10", "2026-12-10", "2027-01-10"), date(2027, 1, 21)
    )
    assert result.counted == 5 and result.needed == 0
    assert [p.label for p in result.missed] == ["2026年10月"]
    assert result.state is ComplianceState.NOT_COMPLIANT
    assert result.reasons[0] == "2026年10月没有送教"
    during = check(visits("2026-09-10", "2026-09-24", "2026-11-10"), date(2026, 11, 20))
    assert (during.state, during.hopeless, during.outlook) == (
        ComplianceState.BEHIND,
        True,
        "本学期已无法达标",
    )


def test_a_month_counts_as_missed_only_once_it_has_ended():
    so_far = visits("2026-09-10", "2026-10-10")
    assert check(so_far, date(2026, 11, 30)).state is ComplianceState.ON_TRACK  # November not over yet
    assert [p.label for p in check(so_far, date(2026, 12, 1)).missed] == ["2026年11月"]


def test_the_last_month_ends_with_the_term_not_with_the_calendar():
    four = visits("2026-09-10", "2026-10-10", "2026-11-10", "2026-12-10", "2026-12-20")
    assert check(four, date(2027, 1, 20)).missed == ()  # the term's last day: January still open
    assert [p.label for p in check(four, date(2027, 1, 21)).missed] == ["2027年1月"]


def test_at_risk_when_the_visits_still_needed_exceed_the_months_left():
    result = check(visits("2026-09-10", "2026-10-10", "2026-11-10"), date(2026, 12, 5))
    assert (result.needed, result.months_left) == (2, 2)  # December and January left: still possible
    assert result.state is ComplianceState.ON_TRACK
    late = check(visits("2026-09-10", "2026-10-10"), date(2026, 12, 5))
    assert late.state is ComplianceState.BEHIND  # November had none
    thin = check(visits("2026-09-10", "2026-10-10", "2026-11-10"), date(2027, 1, 5))
    assert len(thin.missed) == 1 and thin.state is ComplianceState.BEHIND
    risky = check(visits("2026-09-10", "2026-10-10", "2026-11-10", "2026-12-10"), date(2027, 1, 5))
    assert (risky.needed, risky.months_left, risky.state) == (1, 1, ComplianceState.ON_TRACK)
    seven = HomeTeachingPolicy(visits_per_term=7)  # a province asking 7 a term
    crowded = check(visits("2026-09-03"), date(2026, 9, 20), policy=seven)
    assert (crowded.needed, crowded.months_left, crowded.state) == (6, 5, ComplianceState.AT_RISK)
    assert "剩余 5 个月,少于还需的 6 次" in crowded.reasons


def test_a_skipped_holiday_month_is_not_required():
    spring = visits("2027-03-10", "2027-04-10", "2027-05-10", "2027-06-10", "2027-07-05")
    quarter = HomeTeachingPolicy(partial_share=0.25)  # February's 12 of 28 days would be required
    without_skip = check(spring, date(2027, 7, 11), term=SPRING, policy=quarter)
    assert [p.label for p in without_skip.missed] == ["2027年2月"]
    assert without_skip.state is ComplianceState.NOT_COMPLIANT
    skip_february = HomeTeachingPolicy(partial_share=0.25, skip_months=frozenset({2}))
    result = check(spring, date(2027, 7, 11), term=SPRING, policy=skip_february)
    assert "2027年2月" not in [p.label for p in result.months]
    assert result.state is ComplianceState.COMPLIANT


def test_months_before_home_teaching_started_do_not_count():
    started = date(2026, 10, 15)
    result = check(
        visits("2026-09-20", "2026-10-20", "2026-11-10", "2026-11-25", "2026-12-10", "2027-01-10"),
        date(2027, 1, 21),
        started=started,
    )
    assert result.months[0].label == "2026年10月"  # September is not required; October from the 15th
    assert result.counted == 5  # the September visit predates home teaching: not counted
    assert result.owed.visits == 4  # ⌈5 × 98 ÷ 142⌉: the share of the term taught at home
    assert result.state is ComplianceState.COMPLIANT


def test_a_child_with_no_visit_yet_early_in_the_term_is_on_track():
    result = check([], date(2026, 9, 5))
    assert (result.state, result.needed, result.months_left) == (ComplianceState.ON_TRACK, 5, 5)


def test_visits_outside_the_term_are_ignored():
    result = check(visits("2026-08-20", "2027-02-20"), date(2026, 9, 5))
    assert result.counted == 0 and result.short == 0


@pytest.mark.parametrize(
    ("state", "light"),
    [
        (ComplianceState.COMPLIANT, "green"),
        (ComplianceState.ON_TRACK, "green"),
        (ComplianceState.AT_RISK, "orange"),
        (ComplianceState.BEHIND, "red"),
        (ComplianceState.NOT_COMPLIANT, "red"),
    ],
)
def test_each_state_has_its_traffic_light(state, light):
    assert state.light == light


def test_a_teacher_is_reminded_of_a_month_without_a_counted_visit():
    result = check(visits("2026-09-10", "2026-10-10"), date(2026, 11, 5))
    assert due_this_month(result, date(2026, 11, 5))
    done = check(visits("2026-09-10", "2026-10-10", "2026-11-02"), date(2026, 11, 5))
    assert not due_this_month(done, date(2026, 11, 5))
    skipped = check([], date(2027, 2, 20), term=SPRING)  # a February stub of 12 days is not required
    assert not due_this_month(skipped, date(2027, 2, 20))


def test_skip_months_are_read_from_a_setting():
    assert parse_skip_months("") == frozenset()
    assert parse_skip_months("2") == frozenset({2})
    assert parse_skip_months("1, 2，8") == frozenset({1, 2, 8})
    with pytest.raises(ValueError, match="1–12"):
        parse_skip_months("13")


# ---- the records -----------------------------------------------------------------------------------------

TODAY = date(2026, 11, 23)


def test_an_assessment_needs_its_members_type_and_ability():
    good = AssessmentFacts(
        date(2026, 8, 20),
        "县特教中心王老师、医生李某",
        "智力",
        Degree.SEVERE,
        "能短时注意",
        Conclusion.HOME_TEACHING,
    )
    assert assessment_problems(good, today=TODAY, disability_types=("智力", "肢体")) == []
    bad = AssessmentFacts(
        date(2026, 11, 24), " ", "其他", Degree.SEVERE, "", Conclusion.DEFERRED, date(2026, 11, 1)
    )
    assert [f for f, _ in assessment_problems(bad, today=TODAY, disability_types=("智力",))] == [
        "评估日期",
        "评估人员",
        "残疾类型",
        "接受教育能力",
        "下次复评日期",
    ]


def test_a_plan_needs_a_goal_a_teacher_and_dates_in_the_term():
    good = PlanFacts(date(2026, 9, 7), {GoalArea.LIFE_SKILLS: "独立进食"}, "示范", (3,), (date(2026, 9, 15),))
    assert plan_problems(good, term_start=AUTUMN[0], term_end=AUTUMN[1]) == []
    bad = PlanFacts(date(2026, 8, 30), {GoalArea.MOTOR: " "}, "", (), (date(2027, 2, 1),))
    assert plan_problems(bad, term_start=AUTUMN[0], term_end=AUTUMN[1]) == [
        ("目标", "至少写一个领域的目标"),
        ("送教教师", "至少安排一名送教教师"),
        ("开始送教日期", "应在本学期内(2026-09-01 至 2027-01-20)"),
        ("计划送教日期", "02-01 不在本学期内"),
    ]


def test_a_visit_under_two_class_hours_is_kept_but_one_of_none_is_refused():
    short = HomeVisitFacts(date(2026, 11, 20), "周老师", 1.5, "认识颜色")
    assert home_visit_problems(short, today=TODAY, term_start=AUTUMN[0]) == []
    bad = HomeVisitFacts(date(2026, 11, 24), "", 0, "", next_visit_on=date(2026, 11, 1))
    assert [f for f, _ in home_visit_problems(bad, today=TODAY, term_start=AUTUMN[0])] == [
        "送教日期",
        "送教教师",
        "课时",
        "送教内容",
        "下次送教日期",
    ]


@pytest.mark.parametrize(
    ("minutes", "length", "hours"), [(80, 40, 2), (90, 45, 2), (60, 40, 1.5), (100, 45, 2)]
)
def test_minutes_become_class_hours_by_the_schools_class_hour(minutes, length, hours):
    assert class_hours_of(minutes, length) == hours


def test_planned_dates_are_read_from_either_comma_sorted_once_and_a_bad_one_is_named():
    assert parse_planned_dates("2026-10-13，2026-09-15, 2026-10-13,") == (
        date(2026, 9, 15),
        date(2026, 10, 13),
    )
    assert parse_planned_dates("  ") == ()
    with pytest.raises(ValueError, match="“9月15日”不是日期"):
        parse_planned_dates("2026-10-13, 9月15日")
