"""休学 and 请假 over time, with the numbers of source 000: 续休 in the half month before the end, at most a year;
no new suspension after mid-term; leave over 3 months in a row or 10 weeks of a term becomes a suspension."""

from datetime import date

from xueji.rules.status_changes import ChangeKind, Document, request_problems
from xueji.rules.suspensions import (
    LeaveLevel,
    SuspensionPolicy,
    SuspensionState,
    extension_window,
    late_suspension_problem,
    leave_date_problems,
    leave_level,
    leave_limit,
    mid_term,
    months_after,
    suspension_listed,
    suspension_state,
)
from xueji.rules.terms import TermDates
from xueji.rules.vocab import StudentStatus

POLICY = SuspensionPolicy()
END = date(2027, 3, 1)
AUTUMN = TermDates(2026, 1, date(2026, 9, 1), date(2027, 1, 22))
SPRING = TermDates(2026, 2, date(2027, 2, 22), date(2027, 7, 9))
MEDICAL = frozenset({Document.MEDICAL_CERTIFICATE})


def extension(today: date, **given):
    base = {
        "status": StudentStatus.SUSPENDED,
        "grade": 4,
        "documents": MEDICAL,
        "override_reason": None,
        "effective_date": date(2027, 3, 2),
        "suspension_until": date(2027, 9, 1),
        "placement_grade": None,
        "grade_at_suspension": None,
        "reason": "仍在住院治疗",
        "today": today,
        "suspension_end": END,
    }
    return request_problems(ChangeKind.EXTENSION, **(base | given))


def test_the_defaults_are_the_sources_numbers():
    assert (POLICY.extension_days, POLICY.leave_max_months, POLICY.leave_max_term_weeks) == (15, 3, 10)


def test_an_extension_is_asked_in_the_half_month_before_the_suspension_ends():
    assert extension_window(END, POLICY) == (date(2027, 2, 14), END)
    assert extension(date(2027, 2, 14)) == []
    assert extension(END) == []
    assert extension(date(2027, 2, 13)) == [
        "休学将于 2027-03-01 期满,续休申请须在 2027-02-14 至 2027-03-01 之间提交"
    ]


def test_a_late_extension_needs_a_written_reason():
    assert extension(date(2027, 3, 2)) == [
        "休学已于 2027-03-01 期满,续休申请应在 2027-02-14 至 2027-03-01 之间提交;逾期续休须填写特殊情况说明"
    ]
    assert extension(date(2027, 3, 2), override_reason="出院后仍需静养,医院证明已补") == []


def test_an_extension_needs_a_medical_certificate_and_ends_within_a_year_after_the_current_end():
    assert extension(END, documents=frozenset()) == ["续休须有医疗证明(请勾选已核验的医疗证明)"]
    assert extension(END, suspension_until=date(2028, 3, 1)) == []
    too_long = "续休截止日期须在 2027-03-01 之后、2028-03-01 之前(续休一次最长一年)"
    assert extension(END, suspension_until=date(2028, 3, 2)) == [too_long]
    assert extension(END, suspension_until=END) == [too_long]
    assert extension(END, suspension_until=None) == ["请填写续休截止日期"]


def test_only_a_suspended_child_with_an_approved_suspension_is_extended():
    assert extension(END, suspension_end=None) == ["没有找到该学生已批准的休学,不能续休"]
    assert extension(END, status=StudentStatus.ENROLLED)[0] == "学生当前为“在读”,续休只适用于休学的学生"


def test_no_new_suspension_after_mid_term_without_a_reason():
    assert mid_term(AUTUMN) == date(2026, 11, 11)  # half of its 143 days after 1 September
    assert late_suspension_problem(date(2026, 11, 11), AUTUMN, None) is None
    assert late_suspension_problem(date(2026, 11, 12), AUTUMN, None) == (
        "休学开始日期 2026-11-12 已过2026-2027学年第一学期期中(2026-11-11),原则上期中后不再办理休学;"
        "确需休学时请填写特殊情况说明"
    )
    assert late_suspension_problem(date(2026, 11, 12), AUTUMN, "车祸重伤,需长期治疗") is None
    assert late_suspension_problem(date(2027, 2, 1), None, None) is None  # a holiday: no term to be late in


def test_a_suspension_request_after_mid_term_is_refused_by_request_problems():
    base = {
        "status": StudentStatus.ENROLLED,
        "grade": 4,
        "documents": MEDICAL,
        "override_reason": None,
        "effective_date": date(2026, 12, 1),
        "suspension_until": date(2027, 6, 30),
        "placement_grade": None,
        "grade_at_suspension": None,
        "reason": "住院",
        "today": date(2026, 12, 1),
    }
    assert request_problems(ChangeKind.SUSPENSION, **base) == []  # no term given: as before
    assert len(request_problems(ChangeKind.SUSPENSION, **base, term=AUTUMN)) == 1


def test_months_after_keeps_the_day_or_takes_the_months_last():
    assert months_after(date(2026, 9, 1), 3) == date(2026, 12, 1)
    assert months_after(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert months_after(date(2028, 2, 29), 12) == date(2029, 2, 28)


def test_an_ending_suspension_is_listed_a_month_before_and_stays_once_ended():
    today = date(2027, 1, 29)
    assert suspension_listed(END, today, POLICY)
    assert not suspension_listed(END, date(2027, 1, 28), POLICY)
    assert suspension_listed(date(2026, 11, 1), today, POLICY)


def test_where_an_ending_suspension_stands():
    def state(day: date, requested: bool = False) -> SuspensionState:
        return suspension_state(END, day, requested=requested, policy=POLICY)

    assert state(date(2027, 2, 1)) is SuspensionState.ENDING
    assert state(date(2027, 2, 14)) is SuspensionState.EXTENSION_OPEN
    assert state(date(2027, 3, 2)) is SuspensionState.EXPIRED
    assert state(date(2027, 3, 2), requested=True) is SuspensionState.REQUESTED
    assert SuspensionState.EXPIRED.label == "休学已期满未办理"


def test_a_leave_needs_dates_that_touch_the_term():
    assert leave_date_problems(None, date(2026, 10, 1), AUTUMN) == ["请假须填写开始和截止日期"]
    assert leave_date_problems(date(2026, 10, 2), date(2026, 10, 1), AUTUMN) == [
        "请假截止日期不能早于开始日期"
    ]
    assert leave_date_problems(date(2026, 8, 20), date(2026, 8, 31), AUTUMN) == [
        "请假日期须与2026-2027学年第一学期(2026-09-01 至 2027-01-22)有重叠"
    ]
    assert leave_date_problems(date(2026, 8, 20), date(2026, 9, 10), AUTUMN) == []


def test_ten_weeks_of_a_term_is_the_limit_that_comes_first_within_a_term():
    # 1 Sept + 70 days = 10 Nov: 1 Sept to 9 Nov is 70 days (10 weeks), the 10th of November the 71st
    assert leave_limit(date(2026, 9, 1), date(2026, 11, 9), AUTUMN, POLICY) is None
    limit = leave_limit(date(2026, 9, 1), date(2026, 11, 10), AUTUMN, POLICY)
    assert limit is not None and limit.over_on == date(2026, 11, 10)
    assert limit.why == "一学期内请假超过10周"


def test_three_months_in_a_row_counts_across_the_winter_holiday():
    # 5 Jan to 5 Apr: 18 days of the autumn term, the rest in the holiday and the spring term
    limit = leave_limit(date(2027, 1, 5), date(2027, 4, 5), AUTUMN, POLICY)
    assert limit is not None and (limit.over_on, limit.why) == (date(2027, 4, 5), "连续请假超过3个月")
    assert leave_limit(date(2027, 1, 5), date(2027, 4, 4), AUTUMN, POLICY) is None


def test_a_leave_is_over_soon_or_planned_over_its_limit():
    limit = leave_limit(date(2026, 9, 1), date(2026, 12, 31), AUTUMN, POLICY)
    assert limit is not None
    assert leave_level(limit, date(2026, 11, 10), POLICY) is LeaveLevel.OVER
    assert leave_level(limit, date(2026, 10, 27), POLICY) is LeaveLevel.SOON  # 14 days before
    assert leave_level(limit, date(2026, 10, 26), POLICY) is LeaveLevel.PLANNED
