"""When a school year may be rolled over: after the last term of the year before, or early with a reason."""

from datetime import date

from xueji.rules.rollover import RolloverTiming, early_problem, last_term
from xueji.rules.terms import TermDates

AUTUMN = TermDates(2026, 1, date(2026, 9, 1), date(2027, 1, 20))
SPRING = TermDates(2026, 2, date(2027, 2, 22), date(2027, 7, 10))
TIMING = RolloverTiming(2027, SPRING, configured=True)


def test_the_last_term_of_a_year_is_the_one_that_ends_last():
    assert last_term([SPRING, AUTUMN]) == SPRING
    assert last_term([]) is None


def test_the_rollover_opens_the_day_after_the_spring_term_ends():
    assert TIMING.opens_on == date(2027, 7, 11)
    assert TIMING.early(date(2027, 7, 10))  # the last day of term is still term
    assert not TIMING.early(date(2027, 7, 11))
    assert TIMING.explanation == "2026-2027学年第二学期 2027-07-10 结束后才能升级"


def test_a_november_rollover_needs_a_reason():
    problem = early_problem(TIMING, date(2026, 11, 23), None)
    assert problem == "2026-2027学年第二学期 2027-07-10 结束后才能升级(自 2027-07-11 起);提前升级须填写原因"
    assert early_problem(TIMING, date(2026, 11, 23), "   ") == problem
    assert early_problem(TIMING, date(2026, 11, 23), "县教育局通知提前结束本学年") is None
    assert early_problem(TIMING, date(2027, 7, 11), None) is None
