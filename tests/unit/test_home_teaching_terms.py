"""送教上门 at the term's edges and under other provinces' amounts, worked by hand. Source 002: at least 5 visits a
term, at least 1 every month, each at least 2 class hours. Issue 23: a stub month at either end is required
only when the term covers at least half of it; after the term short is 未达标; a child who starts mid-term owes
⌈amount × days taught ÷ term days⌉; amounts per province (1 a week of 2 class hours, 216 class hours a year)."""

from datetime import date, timedelta

import pytest

from xueji.config import SettingsError, settings_from_env
from xueji.rules.home_teaching import ComplianceState, VisitHours, due_this_month, term_compliance
from xueji.rules.home_teaching_policy import (
    HomeTeachingPolicy,
    owed,
    parse_every,
    parse_share,
    term_calendar,
)

SOURCE = HomeTeachingPolicy()  # 5 a term, 1 a month, 2 class hours
SPRING = (date(2027, 3, 1), date(2027, 7, 10))  # the issue's term: 1 March to 10 July
TERM_130 = (date(2026, 9, 1), date(2027, 1, 8))  # 30 + 31 + 30 + 31 + 8 = 130 days


def visits(*days: str, hours: float = 2) -> list[VisitHours]:
    return [VisitHours(date.fromisoformat(d), hours) for d in days]


def check(vs, today, term=SPRING, policy=SOURCE, started=None):
    return term_compliance(
        vs, term_start=term[0], term_end=term[1], today=today, policy=policy, started=started
    )


ISSUE_VISITS = visits("2027-03-12", "2027-04-09", "2027-05-14", "2027-06-04", "2027-06-18")


def test_the_issues_child_with_five_two_hour_visits_march_to_june_complies_at_the_end_of_the_term():
    result = check(ISSUE_VISITS, date(2027, 7, 11))
    assert [p.label for p in result.months] == ["2027年3月", "2027年4月", "2027年5月", "2027年6月"]
    assert (result.state, result.counted, result.needed, result.missed) == (
        ComplianceState.COMPLIANT,
        5,
        0,
        (),
    )
    assert result.state.light == "green" and result.reasons == ()


def test_the_july_stub_of_ten_days_is_not_a_month_the_child_can_be_behind_in():
    on_the_last_day = check(ISSUE_VISITS, date(2027, 7, 10))
    assert on_the_last_day.state is ComplianceState.COMPLIANT
    assert not due_this_month(on_the_last_day, date(2027, 7, 5))  # no reminder for 1–10 July
    calendar = term_calendar(*SPRING, SPRING[1], SOURCE)
    assert [p.label for p in calendar.open][-1] == "2027年7月"  # a visit can still be made in it
    assert calendar.open[-1] not in calendar.required  # 10 of 31 days < half


@pytest.mark.parametrize(
    ("term", "stub", "required"),
    [
        ((date(2026, 9, 1), date(2027, 1, 10)), "2027年1月", False),  # 10 of 31 days
        ((date(2026, 9, 1), date(2027, 1, 20)), "2027年1月", True),  # 20 of 31 days
        ((date(2027, 2, 17), date(2027, 7, 10)), "2027年2月", False),  # 12 of 28 days
        ((date(2027, 2, 10), date(2027, 7, 10)), "2027年2月", True),  # 19 of 28 days
        ((date(2027, 2, 15), date(2027, 7, 10)), "2027年2月", True),  # 14 of 28 days: exactly half
    ],
)
def test_a_stub_month_is_required_only_when_the_term_covers_at_least_half_of_it(term, stub, required):
    calendar = term_calendar(term[0], term[0], term[1], SOURCE)
    assert stub in [p.label for p in calendar.open]
    assert (stub in [p.label for p in calendar.required]) is required


def test_the_share_of_a_stub_month_is_a_setting():
    strict = HomeTeachingPolicy(partial_share=0.3)  # July: 10 of 31 days = 0.32
    result = check(ISSUE_VISITS, date(2027, 7, 11), policy=strict)
    assert [p.label for p in result.missed] == ["2027年7月"]
    assert result.state is ComplianceState.NOT_COMPLIANT


def test_after_the_term_a_child_short_of_visits_is_not_compliant_never_at_risk():
    four = ISSUE_VISITS[:4]  # March to June, one each
    during = check(four, date(2027, 6, 25))
    assert (during.state, during.needed, during.months_left) == (ComplianceState.ON_TRACK, 1, 2)
    after = check(four, date(2027, 7, 11))
    assert (after.state, after.state.label, after.state.light) == (
        ComplianceState.NOT_COMPLIANT,
        "未达标",
        "red",
    )
    assert after.reasons == ("还差 1 次(本学期应送教 5 次)",)
    assert after.outlook == "学期已结束,未达标"
    for vs in ([], four[:1], four, ISSUE_VISITS[:2] + ISSUE_VISITS[3:]):
        assert check(vs, date(2027, 7, 11)).state in (
            ComplianceState.COMPLIANT,
            ComplianceState.NOT_COMPLIANT,
        )


def test_a_child_starting_three_weeks_before_the_end_owes_the_share_of_the_term_taught_at_home():
    started = date(2026, 12, 19)  # 19 December to 8 January: 21 days of 130
    due = owed(started, *TERM_130, SOURCE)
    assert (due.visits, due.taught_days, due.term_days) == (1, 21, 130)
    assert due.formula(SOURCE) == "本学期 3 周送教:应送教 ⌈5 × 21 ÷ 130⌉ = 1 次"
    assert term_calendar(started, *TERM_130, SOURCE).required == ()  # 13 of 31 and 8 of 31 days
    waiting = check([], date(2026, 12, 21), term=TERM_130, started=started)
    assert (waiting.state, waiting.needed, waiting.months_left) == (ComplianceState.ON_TRACK, 1, 2)
    done = check(visits("2027-01-05"), date(2027, 1, 9), term=TERM_130, started=started)
    assert done.state is ComplianceState.COMPLIANT
    missed = check([], date(2027, 1, 9), term=TERM_130, started=started)
    assert missed.state is ComplianceState.NOT_COMPLIANT


def test_a_whole_term_owes_the_whole_amount_and_says_so():
    due = owed(TERM_130[0], *TERM_130, SOURCE)
    assert (due.visits, due.whole_term, due.formula(SOURCE)) == (5, True, "全学期送教:应送教 5 次")


def test_class_hours_a_term_are_owed_pro_rata_and_a_short_visit_counts_for_hours_not_as_a_visit():
    yearly_216 = HomeTeachingPolicy(hours_per_term=108)  # 216 class hours a year, 108 a term
    due = owed(date(2026, 12, 19), *TERM_130, yearly_216)
    assert (due.visits, due.hours) == (1, 18)  # ⌈108 × 21 ÷ 130⌉ = ⌈17.45⌉
    assert due.formula(yearly_216).endswith(",⌈108 × 21 ÷ 130⌉ = 18 课时")
    twelve = HomeTeachingPolicy(hours_per_term=12)
    full = visits("2026-09-10", "2026-10-10", "2026-11-10", "2026-12-10", "2027-01-05")  # 5 × 2 = 10
    short = visits("2026-12-20", hours=1.5)
    result = check(full + short, date(2027, 1, 9), term=TERM_130, policy=twelve)
    assert (result.counted, result.short, result.hours, result.hours_needed) == (5, 1, 11.5, 0.5)
    assert result.state is ComplianceState.NOT_COMPLIANT
    assert "还差 0.5 课时(本学期应送教 12 课时)" in result.reasons
    enough = check(full + visits("2026-12-20", hours=2), date(2027, 1, 9), term=TERM_130, policy=twelve)
    assert enough.state is ComplianceState.COMPLIANT


def test_a_child_behind_the_terms_pace_of_class_hours_is_at_risk():
    # 5 months: 21.6 class hours a month; a province asking that many lets a child have 2 visits a week
    yearly_216 = HomeTeachingPolicy(hours_per_term=108, most_per_week=2)
    result = check(visits("2026-09-10", "2026-10-10"), date(2026, 10, 20), term=TERM_130, policy=yearly_216)
    assert (result.hours_needed, result.months_left, result.weeks_left) == (104, 4, 12)  # 104 > 4 × 21.6
    assert result.state is ComplianceState.AT_RISK  # 104 ≤ 12 weeks × 2 visits × 8 class hours
    once_a_week = check(  # 104 > 12 weeks × 1 visit × 8 class hours: out of reach
        visits("2026-09-10", "2026-10-10"),
        date(2026, 10, 20),
        term=TERM_130,
        policy=HomeTeachingPolicy(hours_per_term=108),
    )
    assert once_a_week.out_of_reach == "本学期已无法达标:剩余 12 周,还需 104 课时"


def test_one_visit_a_week_is_required_in_every_week_of_the_term():
    weekly = HomeTeachingPolicy(visits_per_term=18, every_weeks=1)
    term = (date(2026, 9, 1), date(2026, 9, 30))  # weeks from Tuesday 1 September; 29–30 a 2-day stub
    calendar = term_calendar(term[0], *term, weekly)
    assert [p.label for p in calendar.required] == [
        "第1周(9月1日–9月7日)",
        "第2周(9月8日–9月14日)",
        "第3周(9月15日–9月21日)",
        "第4周(9月22日–9月28日)",
    ]
    result = check(
        visits("2026-09-02", "2026-09-09", "2026-09-23"), date(2026, 9, 25), term=term, policy=weekly
    )
    assert [p.label for p in result.missed] == ["第3周(9月15日–9月21日)"]
    assert result.state is ComplianceState.BEHIND and result.hopeless
    assert result.reasons[-1] == "本学期已无法达标:已结束的周期补不上(如当时确有送教而未登记,请补登)"
    fortnightly = HomeTeachingPolicy(every_weeks=2)
    assert [p.label for p in term_calendar(term[0], *term, fortnightly).required] == [
        "第1–2周(9月1日–9月14日)",
        "第3–4周(9月15日–9月28日)",
    ]


def test_a_child_who_can_no_longer_comply_this_term_is_told_so():
    ten = HomeTeachingPolicy(visits_per_term=10)
    five = visits("2026-09-10", "2026-10-10", "2026-11-10", "2026-12-10", "2027-01-04")
    result = check(five, date(2027, 1, 5), term=TERM_130, policy=ten)  # 4 days (1 week) left, 5 needed
    assert (result.state, result.hopeless, result.outlook) == (
        ComplianceState.BEHIND,
        True,
        "本学期已无法达标",
    )
    assert result.reasons[-1] == result.out_of_reach == "本学期已无法达标:剩余 1 周,还需 5 次"
    four = visits("2026-09-10", "2026-10-10", "2026-11-10", "2026-12-01")
    # 6 December to 8 January: 34 days, 5 weeks (a part week counted); 6 needed at 1 a week
    short = check(four, date(2026, 12, 6), term=TERM_130, policy=ten)
    assert (short.weeks_left, short.needed, short.out_of_reach) == (
        5,
        6,
        "本学期已无法达标:剩余 5 周,还需 6 次",
    )
    still = check(four, date(2026, 11, 29), term=TERM_130, policy=ten)  # 41 days, 6 weeks: 6 needed
    assert (still.weeks_left, still.needed, still.hopeless, still.out_of_reach) == (6, 6, False, "")
    assert still.outlook == "仍可达标"


def test_settings_read_the_policy_with_the_sources_defaults():
    default = settings_from_env({}).home_teaching
    assert default == HomeTeachingPolicy(5, 2, frozenset(), 0, 0, 0.5)
    province = settings_from_env(
        {
            "XUEJI_HOME_TEACHING_VISITS": "36",
            "XUEJI_HOME_TEACHING_MIN_HOURS": "3",
            "XUEJI_HOME_TEACHING_EVERY": "1w",
            "XUEJI_HOME_TEACHING_HOURS_PER_TERM": "108",
            "XUEJI_HOME_TEACHING_PARTIAL_MONTH": "1",
        }
    ).home_teaching
    assert province == HomeTeachingPolicy(36, 3, frozenset(), 1, 108, 1.0)
    assert province.describe().startswith(
        "每生每学期至少 36 次,每周至少 1 次,每次至少 3 课时,本学期累计至少 108 课时"
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("XUEJI_HOME_TEACHING_EVERY", "weekly"),
        ("XUEJI_HOME_TEACHING_EVERY", "9w"),
        ("XUEJI_HOME_TEACHING_PARTIAL_MONTH", "0"),
        ("XUEJI_HOME_TEACHING_PARTIAL_MONTH", "一半"),
        ("XUEJI_HOME_TEACHING_HOURS_PER_TERM", "-1"),
    ],
)
def test_a_bad_policy_setting_is_refused_by_name(name, value):
    with pytest.raises(SettingsError, match=name):
        settings_from_env({name: value})


def test_every_and_share_parse_their_forms():
    assert [parse_every(t) for t in ("month", "", "1w", "2W", " 4w ")] == [0, 0, 1, 2, 4]
    assert [parse_share(t) for t in ("0.5", "1", ".25")] == [0.5, 1.0, 0.25]


def test_owed_never_exceeds_the_whole_term_and_is_at_least_one_visit_on_the_last_day():
    assert owed(TERM_130[1], *TERM_130, SOURCE).visits == 1  # ⌈5 × 1 ÷ 130⌉
    assert owed(TERM_130[0] - timedelta(days=10), *TERM_130, SOURCE).visits == 5
