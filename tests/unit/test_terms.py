from datetime import date

from xueji.rules.terms import (
    TermDates,
    current_or_last_term,
    default_terms,
    school_year_bounds,
    school_year_name,
    school_year_start,
    term_on,
)


def test_the_school_year_starts_in_september():
    assert school_year_start(date(2026, 11, 23)) == 2026
    assert school_year_start(date(2026, 9, 1)) == 2026
    assert school_year_start(date(2026, 8, 31)) == 2025
    assert school_year_start(date(2027, 3, 1)) == 2026


def test_the_start_month_is_a_setting():
    assert school_year_start(date(2026, 8, 20), start_month=8) == 2026


def test_school_year_name_and_bounds():
    assert school_year_name(2026) == "2026-2027学年"
    assert school_year_bounds(2026) == (date(2026, 9, 1), date(2027, 8, 31))


def test_default_terms_are_autumn_then_spring_with_chinese_names():
    autumn, spring = default_terms(2026)
    assert autumn.name == "2026-2027学年第一学期"
    assert spring.name == "2026-2027学年第二学期"
    assert autumn.start == date(2026, 9, 1) and autumn.end < spring.start
    assert spring.end.year == 2027


def test_a_day_in_the_winter_holiday_is_in_no_term_but_the_last_term_is_known():
    terms = list(default_terms(2026))
    holiday = date(2027, 2, 1)
    assert term_on(holiday, terms) is None
    assert current_or_last_term(holiday, terms) == terms[0]
    assert term_on(date(2027, 3, 1), terms) == terms[1]


def test_before_any_term_there_is_no_last_term():
    assert (
        current_or_last_term(date(2020, 1, 1), [TermDates(2026, 1, date(2026, 9, 1), date(2027, 1, 20))])
        is None
    )
