"""The term calendar's checks and proposals, with holidays given as a callable (no database)."""

from datetime import date, timedelta

import chinese_calendar
import pytest

from xueji.rules.term_calendar import (
    SPRING_FESTIVAL,
    check_term_rows,
    holiday_namer,
    library_holiday_name,
    parse_school_year,
    parse_term_seq,
    proposed_terms,
    spring_festival_holiday,
    term_problems,
)
from xueji.rules.terms import TermDates, default_terms


def no_holidays(_: date) -> None:
    return None


def row(number, year="2026-2027", term="第一学期", start="2026-09-01", end="2027-01-20"):
    return (number, {"school_year": year, "term": term, "start": start, "end": end})


def reasons(rows, existing=(), holiday_name=no_holidays):
    _, problems = check_term_rows(rows, existing=list(existing), holiday_name=holiday_name)
    return [(p.row, p.column, p.reason) for p in problems]


def test_two_good_terms_of_a_year_are_read():
    terms, problems = check_term_rows(
        [row(3), row(4, term="第二学期", start="2027-02-22", end="2027-07-09")],
        existing=[],
        holiday_name=no_holidays,
    )
    assert problems == []
    assert [t.term for t in terms] == [
        TermDates(2026, 1, date(2026, 9, 1), date(2027, 1, 20)),
        TermDates(2026, 2, date(2027, 2, 22), date(2027, 7, 9)),
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [("2026", "学年应写成 2026-2027"), ("2026-2028", "学年应为相连的两年"), ("1890-1891", "2000–2099")],
)
def test_a_school_year_is_two_consecutive_years(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_school_year(text)


def test_school_year_and_term_are_read_as_people_write_them():
    assert parse_school_year("2026—2027学年") == 2026
    assert parse_term_seq("第二学期") == 2 and parse_term_seq("秋季学期") == 1
    with pytest.raises(ValueError, match="只能填“第一学期”或“第二学期”"):
        parse_term_seq("第三学期")


def test_every_cell_is_required_and_readable():
    found = reasons([(3, {"school_year": "2026-2027", "term": "第一学期", "start": "9月1日", "end": ""})])
    assert (3, "开学日期", "日期应写成 2026-11-20 或 20261120") in found
    assert (3, "结束日期", "必填") in found


def test_the_start_comes_before_the_end():
    assert reasons([row(3, start="2027-01-20", end="2026-09-01")]) == [
        (3, "结束日期", "结束日期应晚于开学日期(2027-01-20)")
    ]


def test_a_term_lies_inside_its_school_year():
    found = reasons([row(3, term="第二学期", start="2027-02-22", end="2027-09-10")])
    assert found == [(3, "结束日期", "应在2026-2027学年内(2026-09-01 至 2027-08-31)")]


def test_the_second_term_starts_after_the_first_ends():
    found = reasons([row(3), row(4, term="第二学期", start="2027-01-10", end="2027-07-09")])
    assert (4, "开学日期", "应晚于第一学期的结束日期(2027-01-20)") in found
    assert (3, "结束日期", "应早于第二学期的开学日期(2027-01-10)") in found


def test_a_term_of_the_file_is_checked_against_the_terms_already_set_and_replaces_its_own():
    stored = [TermDates(2026, 1, date(2026, 9, 1), date(2027, 1, 20))]
    found = reasons([row(4, term="第二学期", start="2027-01-15", end="2027-07-09")], existing=stored)
    assert found == [(4, "开学日期", "应晚于第一学期的结束日期(2027-01-20)")]
    # the file's first term replaces the stored one: no clash with the old dates
    assert reasons([row(3, end="2027-01-08"), row(4, term="第二学期", start="2027-01-15", end="2027-07-09")],
                   existing=stored) == []  # fmt: skip


def test_terms_of_different_years_may_not_overlap():
    other = TermDates(2025, 2, date(2026, 2, 24), date(2026, 9, 5))  # a bad stored term reaching into 2026-27
    found = reasons([row(3)], existing=[other])
    assert found == [(3, "开学日期", "与2025-2026学年第二学期(2026-02-24 至 2026-09-05)重叠")]


def test_the_same_term_twice_is_a_duplicate():
    found = reasons([row(3), row(5)])
    assert found == [(5, "学期", "与第3行重复(2026-2027学年第一学期)")]


def test_a_term_starting_in_the_spring_festival_holiday_is_refused_naming_it():
    found = reasons(
        [row(3, year="2025-2026", term="第二学期", start="2026-02-17", end="2026-07-10")],
        holiday_name=library_holiday_name,
    )
    assert found == [(3, "开学日期", "开学日期 2026-02-17 是春节假期,请改为节后第一个上课日(2026-02-24)")]


def test_a_term_ending_on_national_day_is_refused_naming_the_day_before():
    problems = term_problems(
        TermDates(2025, 1, date(2025, 9, 1), date(2025, 10, 3)), others=[], holiday_name=library_holiday_name
    )
    assert problems == [("结束日期", "结束日期 2025-10-03 是国庆节假期,请改为节前最后一个上课日(2025-09-30)")]


def test_the_administrators_table_names_holidays_and_corrects_the_library():
    names = holiday_namer(
        {
            date(2027, 2, 8): (False, "春节"),
            date(2027, 2, 9): (False, ""),
            date(2026, 2, 17): (True, "补班"),  # marked a working day: not a holiday any more
        }
    )
    assert names(date(2027, 2, 8)) == "春节"
    assert names(date(2027, 2, 9)) == "节假日"
    assert names(date(2026, 2, 17)) is None
    assert names(date(2026, 2, 18)) == "春节"  # from chinesecalendar
    problems = term_problems(
        TermDates(2026, 2, date(2027, 2, 9), date(2027, 7, 9)), others=[], holiday_name=names
    )
    assert problems == [("开学日期", "开学日期 2027-02-09 是节假日,请改为节后第一个上课日(2027-02-10)")]


def test_a_year_chinesecalendar_does_not_know_names_no_holiday_and_does_not_crash():
    assert library_holiday_name(date(2031, 1, 23)) is None


def test_in_a_year_nobody_has_published_the_spring_festival_is_estimated_until_the_table_has_the_year():
    unknown = date(2031, 1, 23)  # 正月初一 2031, a year chinesecalendar has no data for
    term = TermDates(2030, 2, unknown, date(2031, 7, 4))
    names = holiday_namer({})
    assert names(unknown) == "按农历推算的春节假期" and names(date(2031, 3, 3)) is None
    assert term_problems(term, others=[], holiday_name=names) == [
        ("开学日期", "开学日期 2031-01-23 是按农历推算的春节假期,请改为节后第一个上课日(2031-01-30)")
    ]
    # once the administrator has entered the year, the table alone says which days are holidays
    entered = holiday_namer({date(2031, 1, 22): (False, "春节")})
    assert entered(unknown) is None and term_problems(term, others=[], holiday_name=entered) == []


def test_the_lunar_table_agrees_with_chinesecalendar_where_it_has_data():
    for year, new_year in SPRING_FESTIVAL.items():
        try:
            detail = chinese_calendar.get_holiday_detail(new_year)
        except NotImplementedError:
            continue
        assert detail == (True, "Spring Festival"), year


def test_the_spring_festival_holiday_is_read_from_the_names_or_estimated():
    assert spring_festival_holiday(2026, library_holiday_name) == (date(2026, 2, 15), date(2026, 2, 23))
    assert spring_festival_holiday(2027, library_holiday_name) == (date(2027, 2, 5), date(2027, 2, 12))
    assert spring_festival_holiday(2099, library_holiday_name) is None


@pytest.mark.parametrize("year", range(2020, 2050))
def test_proposed_terms_start_and_end_on_school_days_clear_of_the_spring_festival(year):
    autumn, spring = proposed_terms(year)
    holiday = spring_festival_holiday(year + 1, library_holiday_name)
    assert holiday is not None
    for day in (autumn.start, autumn.end, spring.start, spring.end):
        assert day.weekday() < 5 and library_holiday_name(day) is None
    assert autumn.end < holiday[0] and spring.start > holiday[1] + timedelta(days=6)
    assert spring.start.weekday() == 0 or library_holiday_name(spring.start - timedelta(days=1))
    assert term_problems(autumn, others=[spring], holiday_name=library_holiday_name) == []
    assert term_problems(spring, others=[autumn], holiday_name=library_holiday_name) == []


def test_the_proposal_for_spring_2026_avoids_the_holiday_that_the_old_default_fell_in():
    _, spring = proposed_terms(2025)
    assert library_holiday_name(date(2026, 2, 17)) == "春节"
    assert spring.start == date(2026, 3, 2)


def test_the_proposal_follows_the_administrators_holidays():
    names = holiday_namer({date(2026, 9, 1): (False, "开学前调休")})
    autumn, _ = proposed_terms(2026, names)
    assert autumn.start == date(2026, 9, 2)


def test_default_terms_are_the_proposal_from_the_built_in_calendar():
    assert default_terms(2025) == proposed_terms(2025)
