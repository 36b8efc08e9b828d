"""个案 rules: which cases the registry flags open, never two of a category, how a case closes and reopens."""

from datetime import date

import pytest

from xueji.rules.cases import (
    CaseCategory,
    CaseStatus,
    CloseReason,
    Closing,
    RiskLevel,
    age_on,
    closing_problems,
    closing_reasons,
    flag_categories,
    reopen_problem,
    status_problem,
    to_open,
)

OPENED = date(2026, 9, 10)
TODAY = date(2026, 11, 23)


def test_each_registry_flag_calls_for_its_own_category():
    assert flag_categories(left_behind=True, migrant=False, disabled=True, needs_aid=True, orphan=False) == {
        CaseCategory.LEFT_BEHIND,
        CaseCategory.DISABLED,
        CaseCategory.HARDSHIP,
    }
    assert (
        flag_categories(left_behind=False, migrant=False, disabled=False, needs_aid=False, orphan=False)
        == set()
    )


def test_a_category_already_open_is_not_opened_again():
    wanted = {CaseCategory.LEFT_BEHIND, CaseCategory.HARDSHIP}
    assert to_open(wanted, [CaseCategory.LEFT_BEHIND]) == [CaseCategory.HARDSHIP]
    assert to_open(wanted, wanted) == []


def test_cases_open_in_the_category_order():
    assert to_open({CaseCategory.ORPHAN, CaseCategory.LEFT_BEHIND}, []) == [
        CaseCategory.LEFT_BEHIND,
        CaseCategory.ORPHAN,
    ]


def test_children_out_of_school_start_at_high_risk_and_left_behind_at_low():
    assert CaseCategory.SUSPECTED_DROPOUT.default_risk is RiskLevel.HIGH
    assert CaseCategory.DROPOUT.default_risk is RiskLevel.HIGH
    assert CaseCategory.LEFT_BEHIND.default_risk is RiskLevel.LOW
    assert CaseCategory.DISABLED.default_risk is RiskLevel.MEDIUM


@pytest.mark.parametrize(
    "reason",
    [CloseReason.RETURNED, CloseReason.REACHED_16, CloseReason.DEATH, CloseReason.DUPLICATE],
)
def test_a_dropout_case_closes_with_a_listed_reason_and_evidence(reason):
    closing = Closing(reason, "返校报到记录", on=TODAY)
    assert closing_problems(CaseCategory.DROPOUT, closing, opened_on=OPENED, today=TODAY) == []


def test_closing_without_evidence_is_refused():
    closing = Closing(CloseReason.RETURNED, "  ")
    assert closing_problems(CaseCategory.SUSPECTED_DROPOUT, closing, opened_on=OPENED, today=TODAY) == [
        "销号须注明依据(如接收学校回执、返校报到记录、死亡证明)"
    ]


def test_moving_away_needs_the_receiving_school():
    without = Closing(CloseReason.ENROLLED_ELSEWHERE, "对方学校电话确认")
    with_school = Closing(CloseReason.ENROLLED_ELSEWHERE, "对方学校电话确认", "广东省东莞市长安镇中心小学")
    assert closing_problems(CaseCategory.DROPOUT, without, opened_on=OPENED, today=TODAY) == [
        "迁出并在外地入学须写明接收学校"
    ]
    assert closing_problems(CaseCategory.DROPOUT, with_school, opened_on=OPENED, today=TODAY) == []


def test_a_child_out_of_school_cannot_be_closed_as_no_longer_applying():
    closing = Closing(CloseReason.NO_LONGER_APPLIES, "家访核实")
    assert closing_problems(CaseCategory.SUSPECTED_DROPOUT, closing, opened_on=OPENED, today=TODAY) == [
        "“疑似辍学”个案不能以“情况已消除”销号"
    ]
    assert closing_problems(CaseCategory.LEFT_BEHIND, closing, opened_on=OPENED, today=TODAY) == []


def test_confirmed_dropout_is_the_systems_reason_not_a_persons():
    for category in CaseCategory:
        assert CloseReason.CONFIRMED_DROPOUT not in closing_reasons(category)


def test_a_closing_dated_before_the_opening_or_in_the_future_is_refused():
    for day in (date(2026, 9, 9), date(2026, 11, 24)):
        closing = Closing(CloseReason.RETURNED, "返校报到记录", on=day)
        assert closing_problems(CaseCategory.DROPOUT, closing, opened_on=OPENED, today=TODAY) == [
            "销号日期应在建档日期 2026-09-10 与今天之间"
        ]


def test_every_problem_is_reported_at_once():
    closing = Closing(CloseReason.NO_LONGER_APPLIES, "", on=date(2027, 1, 1))
    assert len(closing_problems(CaseCategory.DROPOUT, closing, opened_on=OPENED, today=TODAY)) == 3


def test_a_closed_case_reopens_with_a_reason_unless_its_category_is_open_again():
    assert reopen_problem(CaseCategory.DROPOUT, [], "再次辍学外出务工") is None
    assert reopen_problem(CaseCategory.DROPOUT, [], " ") == "重新开启须说明原因"
    assert reopen_problem(CaseCategory.DROPOUT, [CaseCategory.DROPOUT], "再次辍学") == (
        "该儿童已有一个在办的“辍学”个案,不能再开启一个"
    )


def test_status_moves_by_hand_but_closing_needs_its_own_step():
    assert status_problem(CaseStatus.OPEN, CaseStatus.FOLLOWING) is None
    assert status_problem(CaseStatus.FOLLOWING, CaseStatus.STABLE) is None
    assert status_problem(CaseStatus.STABLE, CaseStatus.FOLLOWING) is None
    assert status_problem(CaseStatus.FOLLOWING, CaseStatus.OPEN) == "个案不能从“跟进中”改为“新建”"
    assert status_problem(CaseStatus.FOLLOWING, CaseStatus.CLOSED) == "销号须选择销号原因并注明依据"
    assert status_problem(CaseStatus.CLOSED, CaseStatus.FOLLOWING) == "个案不能从“已销号”改为“跟进中”"


def test_age_counts_full_years_on_the_day():
    assert age_on(date(2010, 11, 24), TODAY) == 15
    assert age_on(date(2010, 11, 23), TODAY) == 16
