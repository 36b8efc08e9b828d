"""The return ladder's rules (rules.ladder): owners, deadlines on the working-day calendar and in calendar days,
escalation, skips, handing up, serving the order, follow-up dates and the 销号 conditions."""

from datetime import date

import pytest

from xueji.rules.cases import CloseReason
from xueji.rules.ladder import (
    TERM_END,
    DayKind,
    FollowUpDone,
    LadderPolicy,
    Step,
    StepState,
    closure_problems,
    default_comply_by,
    escalation,
    follow_up_due,
    follow_up_problem,
    follow_ups_remaining,
    hand_up_problems,
    is_overdue,
    next_step,
    owned_steps,
    owner_label,
    owner_roles,
    serve_problems,
    skip_problems,
    step_due,
)
from xueji.rules.vocab import Role
from xueji.rules.working_days import WorkCalendar

POLICY = LadderPolicy()
CAL = WorkCalendar({})


def test_owners_in_words_and_roles():
    assert owner_label(Step.SCHOOL, POLICY) == "学校(教育线)"
    assert owner_label(Step.TOWNSHIP, POLICY) == "乡镇"
    assert owner_label(Step.COUNTY, POLICY) == "县教育局"
    assert owner_label(Step.CLOSURE, POLICY) == "乡镇"
    county_approves = LadderPolicy(closure_approver=Role.COUNTY_OFFICER)
    assert owner_label(Step.CLOSURE, county_approves) == "县教育局"
    assert owner_roles(Step.SCHOOL, POLICY) == {Role.REGISTRAR, Role.TEACHER, Role.TOWNSHIP_OFFICIAL}
    assert owner_roles(Step.TOWNSHIP, POLICY) == {Role.TOWNSHIP_OFFICIAL}
    assert owner_roles(Step.COUNTY, POLICY) == {Role.COUNTY_OFFICER}
    assert owner_roles(Step.CLOSURE, county_approves) == {Role.COUNTY_OFFICER}
    assert owned_steps(Role.TEACHER, POLICY) == (Step.SCHOOL, Step.FOLLOW_UP, Step.READY)
    assert owned_steps(Role.TOWNSHIP_OFFICIAL, POLICY) == (Step.TOWNSHIP, Step.CLOSURE)
    assert owned_steps(Role.COUNTY_OFFICER, POLICY) == (Step.COUNTY,)
    assert owned_steps(Role.COUNTY_OFFICER, county_approves) == (Step.COUNTY, Step.CLOSURE)
    assert next_step(Step.SCHOOL) is Step.TOWNSHIP
    assert next_step(Step.TOWNSHIP) is Step.COUNTY
    assert next_step(Step.COUNTY) is None


def test_working_day_deadline_across_the_national_day_holiday():
    # 2026: 1–7 October off (国庆 + 中秋), Saturday 10 October worked (调休): the ten working days after 29
    # September are 30 Sep, 8, 9, 10, 12–16 and 19 October
    assert step_due(Step.SCHOOL, date(2026, 9, 29), POLICY, CAL) == date(2026, 10, 19)
    # the same ten days counted as calendar days
    calendar_days = LadderPolicy(day_kind=DayKind.CALENDAR)
    assert step_due(Step.SCHOOL, date(2026, 9, 29), calendar_days, CAL) == date(2026, 10, 9)
    assert step_due(Step.COUNTY, date(2026, 11, 23), calendar_days, CAL) == date(2026, 12, 13)
    assert step_due(Step.CLOSURE, date(2026, 11, 23), POLICY, CAL) == date(2026, 11, 30)
    with pytest.raises(ValueError):
        step_due(Step.FOLLOW_UP, date(2026, 11, 23), POLICY, CAL)


def test_an_administrators_holiday_counts():
    closed_friday = WorkCalendar({date(2026, 11, 27): False})
    assert step_due(Step.CLOSURE, date(2026, 11, 23), POLICY, closed_friday) == date(2026, 12, 1)


def test_overdue_only_after_the_deadline_and_the_county_only_without_a_measure():
    due = date(2026, 11, 20)
    assert not is_overdue(Step.SCHOOL, StepState.OPEN, due, date(2026, 11, 20))
    assert is_overdue(Step.SCHOOL, StepState.OPEN, due, date(2026, 11, 21))
    assert not is_overdue(Step.SCHOOL, StepState.DONE, due, date(2026, 11, 21))
    assert is_overdue(Step.COUNTY, StepState.OPEN, due, date(2026, 11, 21))
    assert not is_overdue(Step.COUNTY, StepState.OPEN, due, date(2026, 11, 21), measure="court")


def test_escalation():
    today = date(2026, 11, 23)
    late, in_time = date(2026, 11, 20), date(2026, 11, 23)
    up = escalation(Step.SCHOOL, StepState.OPEN, late, today)
    assert up is not None and up.to is Step.TOWNSHIP and up.reason == "逾期未完成,已升级至乡镇"
    assert escalation(Step.SCHOOL, StepState.OPEN, in_time, today) is None
    assert escalation(Step.SCHOOL, StepState.DONE, late, today) is None
    unserved = escalation(Step.TOWNSHIP, StepState.OPEN, late, today)
    assert unserved is not None and unserved.to is Step.COUNTY and "未送达" in unserved.reason
    # served: the time limit counts, not the step's first deadline
    assert (
        escalation(
            Step.TOWNSHIP, StepState.OPEN, late, today, served_on=date(2026, 11, 10), comply_by=in_time
        )
        is None
    )
    expired = escalation(
        Step.TOWNSHIP, StepState.OPEN, late, today, served_on=date(2026, 11, 1), comply_by=late
    )
    assert expired is not None and expired.to is Step.COUNTY and "限期已过" in expired.reason
    for stays in (Step.COUNTY, Step.FOLLOW_UP, Step.CLOSURE):
        assert escalation(stays, StepState.OPEN, late, today) is None


def test_skips():
    assert skip_problems(Step.SCHOOL, "家长已搬离本地", role=Role.TEACHER, policy=POLICY) == []
    assert skip_problems(Step.TOWNSHIP, "监护人外出务工", role=Role.COUNTY_OFFICER, policy=POLICY) == []
    assert skip_problems(Step.FOLLOW_UP, "已转入寄宿学校", role=Role.REGISTRAR, policy=POLICY) == []
    assert skip_problems(Step.TOWNSHIP, "监护人外出务工", role=Role.TEACHER, policy=POLICY) == [
        "只有乡镇或县教育局可以跳过“乡镇书面限期通知”"
    ]
    for never in (Step.COUNTY, Step.RETURNED, Step.CLOSURE):
        assert skip_problems(never, "理由充分写明", role=Role.COUNTY_OFFICER, policy=POLICY) == [
            f"“{never.label}”不能跳过"
        ]
    assert skip_problems(Step.SCHOOL, "无", role=Role.TEACHER, policy=POLICY) == [
        "跳过须写明原因(至少 4 个字)"
    ]
    assert skip_problems(Step.SCHOOL, "原因" * 200, role=Role.TEACHER, policy=POLICY)[0].startswith(
        "原因不超过 300 字"
    )


def test_hand_up_needs_the_attempts_and_a_note():
    assert hand_up_problems(1, POLICY, "家长拒绝") == ["已记录 1 次劝返,至少需要 2 次才能提请乡镇"]
    assert hand_up_problems(2, POLICY, " ") == ["请写明劝返情况和提请乡镇的理由"]
    assert hand_up_problems(2, POLICY, "家长拒绝") == []
    assert hand_up_problems(2, LadderPolicy(attempts=3), "家长拒绝") == [
        "已记录 2 次劝返,至少需要 3 次才能提请乡镇"
    ]


def test_serving_the_order():
    opened, today = date(2026, 11, 10), date(2026, 11, 23)
    good = {"served_on": date(2026, 11, 20), "served_to": "张某(父亲)", "comply_by": date(2026, 12, 5)}
    assert serve_problems(has_notice=True, opened_on=opened, today=today, **good) == []
    assert serve_problems(has_notice=False, opened_on=opened, today=today, **good) == [
        "请先生成本步骤的限期入学/复学通知书,再登记送达"
    ]
    assert serve_problems(
        has_notice=True, opened_on=opened, today=today, **{**good, "served_on": date(2026, 11, 24)}
    ) == ["送达日期不能晚于今天"]
    assert serve_problems(
        has_notice=True, opened_on=opened, today=today, **{**good, "served_on": date(2026, 11, 9)}
    ) == ["送达日期不能早于本步骤开始日期 2026-11-10"]
    assert serve_problems(
        has_notice=True, opened_on=opened, today=today, **{**good, "comply_by": date(2026, 11, 20)}
    ) == ["限期应晚于送达日期"]
    assert serve_problems(has_notice=True, opened_on=opened, today=today, **{**good, "served_to": ""}) == [
        "请填写送达对象(监护人姓名及关系)"
    ]
    assert "限期通知已登记送达" in serve_problems(
        has_notice=True, opened_on=opened, today=today, already_served=True, **good
    )
    assert default_comply_by(date(2026, 11, 20), POLICY) == date(2026, 12, 5)


def test_follow_up_dates():
    back, term_end = date(2026, 11, 2), date(2027, 1, 22)
    today = date(2026, 11, 3)
    assert follow_up_due(back, 1, POLICY, term_end=term_end, today=today) == date(2026, 11, 9)
    assert follow_up_due(back, 2, POLICY, term_end=term_end, today=today) == date(2026, 12, 2)
    assert follow_up_due(back, 3, POLICY, term_end=term_end, today=today) == term_end
    assert follow_up_due(back, 4, POLICY, term_end=term_end, today=today) is None
    # opened late: due today, never in the past
    assert follow_up_due(back, 1, POLICY, term_end=term_end, today=date(2026, 11, 23)) == date(2026, 11, 23)
    # a term ending before the 30-day follow-up: the term-end one is not earlier than it
    assert follow_up_due(back, 3, POLICY, term_end=date(2026, 11, 20), today=today) == date(2026, 12, 2)
    # no term configured: 90 days after the return
    assert follow_up_due(back, 3, POLICY, term_end=None, today=today) == date(2027, 1, 31)
    weekly = LadderPolicy(follow_ups=(7, 14))
    assert follow_up_due(back, 2, weekly, term_end=None, today=today) == date(2026, 11, 16)
    assert TERM_END not in weekly.follow_ups


def test_closure_conditions():
    done = [FollowUpDone(1, StepState.DONE, True), FollowUpDone(2, StepState.SKIPPED, None)]
    assert follow_ups_remaining(done, POLICY) == [3]
    assert closure_problems(CloseReason.RETURNED, returned=True, follow_ups=done, policy=POLICY) == [
        "返校跟踪尚未完成:第 3 次(须跟踪确认在校,或写明原因跳过)"
    ]
    all_done = [*done, FollowUpDone(3, StepState.DONE, True)]
    assert closure_problems(CloseReason.RETURNED, returned=True, follow_ups=all_done, policy=POLICY) == []
    not_in_school = [FollowUpDone(1, StepState.DONE, False)]
    assert follow_ups_remaining(not_in_school, POLICY) == [1, 2, 3]
    assert closure_problems(CloseReason.RETURNED, returned=False, follow_ups=[], policy=POLICY) == [
        "尚未登记复学:请先登记复学,完成返校跟踪后再申请销号"
    ]
    # other reasons need no return, but one request at a time
    assert closure_problems(CloseReason.DEATH, returned=False, follow_ups=[], policy=POLICY) == []
    assert closure_problems(
        CloseReason.DEATH, returned=False, follow_ups=[], policy=POLICY, pending=True
    ) == ["该个案已有销号申请在审批中"]


def test_a_follow_up_in_school_is_not_recorded_long_before_its_date():
    due = date(2026, 11, 30)
    assert follow_up_problem(date(2026, 11, 28), due, 1, in_school=True) is None  # two days early: fine
    assert follow_up_problem(date(2026, 12, 3), due, 1, in_school=True) is None
    too_early = follow_up_problem(date(2026, 11, 27), due, 1, in_school=True)
    assert too_early is not None and "2026-11-28" in too_early
    assert follow_up_problem(date(2026, 11, 23), due, 1, in_school=False) is None  # gone again: any day
    assert Step.READY.label == "可申请销号" and owner_label(Step.READY, POLICY) == "学校(教育线)"
