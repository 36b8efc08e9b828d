"""巩固率 by grade against a small county worked out by hand (SQLite and PostgreSQL): one grade-3 class whose
children transfer out, move to another school of the township, transfer in from another township, drop out,
drop out and come back, are suspended, die; a change rejected, one before the year and one after the day
counted. The counts and rates for a school, its township and the county must match the hand figures exactly."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pandas as pd
import pytest
from sqlmodel import Session

from xueji.auth import Actor
from xueji.models import County, School, SchoolClass, SchoolYear, StatusChange, Student, Township
from xueji.rules.retention import GradeFlow
from xueji.rules.status_changes import ChangeKind, ChangeState
from xueji.rules.vocab import Role, ScopeKind, StudentStatus
from xueji.services.dashboards import figures as dashboard
from xueji.services.dashboards.retention import RetentionScope, flows_frame, grade_flows

pytestmark = pytest.mark.usefixtures("fixed_today")  # today is 2026-11-23, in school year 2026


@pytest.fixture
def county(engine):
    """County K: township T1 with schools A and B, township T2 with school C; class 2024101 (grade 3 in
    2026, grade 2 in 2025) at each. Fourteen children, s1…s14, as in the docstring of each figure below."""
    with Session(engine) as session:
        k = County(code="430999000000", name="K县")
        session.add(k)
        session.flush()
        t1 = Township(county_id=k.id, code="430999001000", name="T1镇")
        t2 = Township(county_id=k.id, code="430999002000", name="T2镇")
        session.add_all([t1, t2])
        session.flush()
        schools = {
            key: School(township_id=t.id, code=f"99000000{i}0", name=f"{key}小学", kind="primary")
            for i, (key, t) in enumerate((("A", t1), ("B", t1), ("C", t2)))
        }
        session.add_all(schools.values())
        session.flush()
        classes = {key: SchoolClass(school_id=s.id, code="2024101") for key, s in schools.items()}
        session.add_all(classes.values())
        session.flush()

        def child(n: int, at: str, status: StudentStatus = StudentStatus.ENROLLED) -> Student:
            student = Student(
                school_id=schools[at].id,
                class_id=classes[at].id,
                name=f"学生{n}",
                sex="男",
                birth_date=date(2017, 3, 1),
                entry_month="202409",
                status=status.value,
            )
            session.add(student)
            session.flush()
            return student

        def change(
            student: Student,
            kind: ChangeKind,
            day: date,
            *,
            at: str = "A",
            to: str | None = None,
            state: ChangeState = ChangeState.APPROVED,
        ) -> None:
            session.add(
                StatusChange(
                    student_id=student.id,
                    kind=kind.value,
                    state=state.value,
                    school_id=schools[at].id,
                    to_school_id=schools[to].id if to else None,
                    effective_date=day,
                    reason="测试",
                    due_date=day,
                )
            )

        s = {}
        s[1] = child(1, "A", StudentStatus.TRANSFERRED_OUT)
        change(s[1], ChangeKind.TRANSFER_OUT, date(2026, 10, 1))  # out of the county
        s[2] = child(2, "A", StudentStatus.DROPPED_OUT)
        change(s[2], ChangeKind.DROPOUT, date(2026, 9, 20))  # dropped out, not back
        s[3] = child(3, "A")
        change(s[3], ChangeKind.DROPOUT, date(2026, 9, 15))
        change(s[3], ChangeKind.RETURN, date(2026, 10, 20))  # brought back
        s[4] = child(4, "A", StudentStatus.SUSPENDED)
        change(s[4], ChangeKind.SUSPENSION, date(2026, 10, 5))
        s[5] = child(5, "B")
        change(s[5], ChangeKind.TRANSFER_IN, date(2026, 10, 10), at="A", to="B")  # A → B, same township
        s[6] = child(6, "A", StudentStatus.DECEASED)
        change(s[6], ChangeKind.DEATH, date(2026, 11, 1))
        for n in (7, 8, 9, 10):
            s[n] = child(n, "A")
        s[11] = child(11, "A")
        change(s[11], ChangeKind.TRANSFER_IN, date(2026, 9, 25), at="C", to="A")  # C (T2) → A (T1)
        s[12] = child(12, "A", StudentStatus.DROPPED_OUT)
        change(s[12], ChangeKind.DROPOUT, date(2026, 5, 10))  # last school year
        s[13] = child(13, "A", StudentStatus.TRANSFERRED_OUT)
        change(s[13], ChangeKind.TRANSFER_OUT, date(2026, 12, 5))  # approved ahead: after the day counted
        s[14] = child(14, "A")
        change(s[14], ChangeKind.DROPOUT, date(2026, 10, 8), state=ChangeState.REJECTED)
        s[15] = child(15, "A")
        change(s[15], ChangeKind.DROPOUT, date(2026, 4, 10))  # dropped out last spring,
        change(s[15], ChangeKind.RETURN, date(2026, 9, 10))  # back this autumn: returned, not a transfer in
        # The 2017 cohort at C: grade 1 in 2017–18, grade 9 in 2025–26 (class 2023201). Of ten, c1 dropped out in
        # grade 3 (March 2020), c2 transferred out in grade 5 (May 2022), eight graduated at the 2026 rollover.
        cohort = SchoolClass(school_id=schools["C"].id, code="2023201")
        session.add(cohort)
        session.flush()
        classes["C9"] = cohort
        schools["C9"] = schools["C"]
        c1 = child(101, "C9", StudentStatus.DROPPED_OUT)
        change(c1, ChangeKind.DROPOUT, date(2020, 3, 10), at="C")
        c2 = child(102, "C9", StudentStatus.TRANSFERRED_OUT)
        change(c2, ChangeKind.TRANSFER_OUT, date(2022, 5, 1), at="C")
        for n in range(103, 111):
            child(n, "C9", StudentStatus.GRADUATED)
        for year in range(2017, 2027):
            session.add(
                SchoolYear(start_year=year, start_date=date(year, 9, 1), end_date=date(year + 1, 8, 31))
            )
        session.commit()
        return {
            "county": k.id,
            "T1": t1.id,
            "A": schools["A"].id,
            "actor": Actor(None, "county", Role.COUNTY_OFFICER, ScopeKind.COUNTY, k.id),
        }


def flows(engine, county, year: int, scope: RetentionScope | None = None) -> list[GradeFlow]:
    with Session(engine) as session:
        return grade_flows(session, actor=county["actor"], school_year=year, scope=scope)


def test_school_a_grade_three_this_year(engine, county):
    # start: s1–s10 (s5 was still at A), s13, s14 = 12; s11 was at C, s12 had dropped out last year.
    # in: s11. out: s1 (out of county), s5 (to B). died: s6. dropped and not back: s2. returned: s3.
    # suspended: s4. on the registry now: s3 s4 s7 s8 s9 s10 s11 s13 s14 s15 = 10 (s13 leaves after today).
    # s15 had dropped out last spring, so is not in the start; back this autumn, a return (s3 and s15 = 2).
    [grade] = flows(engine, county, 2026, RetentionScope(school_id=county["A"]))
    assert grade == GradeFlow(
        3,
        start=12,
        transferred_in=1,
        transferred_out=2,
        died=1,
        dropped_out=1,
        returned=2,
        suspended=1,
        in_school=10,
    )
    assert grade.rate == Fraction(8, 9)  # (12 − 2 − 1 − 1) ÷ (12 − 2 − 1)


def test_the_township_keeps_a_move_between_its_own_schools(engine, county):
    # T1 = A + B: s5's move stays inside, s11 comes from T2. start 12, in 1, out 1 (s1), now 11 (+ s5).
    [grade] = flows(engine, county, 2026, RetentionScope(township_id=county["T1"]))
    assert grade == GradeFlow(
        3,
        start=12,
        transferred_in=1,
        transferred_out=1,
        died=1,
        dropped_out=1,
        returned=2,
        suspended=1,
        in_school=11,
    )
    assert grade.rate == Fraction(9, 10)


def test_the_county_counts_a_transfer_between_its_townships_as_neither_in_nor_out(engine, county):
    # K: s11 was at C at the start: start 13, in 0, out 1 (s1), now 11.
    [grade] = flows(engine, county, 2026)
    assert grade == GradeFlow(
        3,
        start=13,
        transferred_in=0,
        transferred_out=1,
        died=1,
        dropped_out=1,
        returned=2,
        suspended=1,
        in_school=11,
    )
    assert grade.rate == Fraction(10, 11)


def test_last_year_grade_two_lost_one_child(engine, county):
    # 2025: the class was grade 2; at A on 2025-09-01: s1–s10, s12–s15 = 14; s12 and s15 dropped out in
    # the spring and were not back by 2026-08-31.
    [grade] = flows(engine, county, 2025, RetentionScope(school_id=county["A"]))
    assert (grade.grade, grade.start, grade.dropped_out, grade.transferred_out, grade.in_school) == (
        2,
        14,
        2,
        0,
        12,
    )
    assert grade.rate == Fraction(6, 7)  # (14 − 0 − 0 − 2) ÷ 14


def test_the_table_shows_each_grade_a_total_and_the_worked_formula(engine, county):
    frame = flows_frame(flows(engine, county, 2026, RetentionScope(school_id=county["A"])))
    assert list(frame["年级"]) == ["三年级", "合计"]
    assert frame.iloc[0]["巩固率(%)"] == 88.89
    assert frame.iloc[0]["计算"] == "(12 − 2 − 1 − 1) ÷ (12 − 2 − 1) = 8 ÷ 9 = 88.89%"


def test_the_2017_cohort_nine_year_rate_and_its_curve(engine, county):
    # Grade 1 in 2017: 10. Graduates of grade 9 in 2025–26: 8. Nine-year rate 8 ÷ 10 (a transfer is a loss here).
    # Year by year the transfer is neutral: 2019–20 (grade 3) 9 ÷ 10, 2021–22 (grade 5) 8 ÷ 8, so 90% since 2017.
    with Session(engine) as session:
        figures = dashboard.retention_figures(session, actor=county["actor"], school_year=2026)
    nine = figures.nine_year.set_index("入学年份(一年级)").loc["2017级"]
    assert (nine["一年级入学"], nine["九年级毕业"], nine["九年巩固率(%)"]) == (10, 8, 80.0)
    curve = figures.cohorts[figures.cohorts["入学年份(一年级)"] == "2017级"]
    assert list(curve["年级"]) == [
        "一年级",
        "二年级",
        "三年级",
        "四年级",
        "五年级",
        "六年级",
        "七年级",
        "八年级",
        "九年级",
    ]
    assert list(curve["当年巩固率(%)"]) == [100.0, 100.0, 90.0] + [100.0] * 6
    assert curve["累计巩固率(%)"].iloc[-1] == 90.0
    later = figures.nine_year.set_index("入学年份(一年级)").loc["2024级"]  # grade 3 now: not nine years yet
    assert pd.isna(later["九年巩固率(%)"]) and later["说明"] == "数据未覆盖该届的九年"
    # the townships this year, each from the same pass: T1 as in the township test, T2 lost s11 to T1
    townships = dict(figures.townships)
    assert (townships["T1镇"].start, townships["T1镇"].rate) == (12, Fraction(9, 10))
    assert (townships["T2镇"].start, townships["T2镇"].transferred_out, townships["T2镇"].rate) == (
        1,
        1,
        None,
    )


def test_dropouts_and_returns_by_month(engine, county):
    # 2026–27 in K: September: s2 and s3 drop out, s15 comes back; October: s3 comes back. s14's was rejected.
    with Session(engine) as session:
        frame = dashboard.dropouts_by_month(session, actor=county["actor"], school_year=2026)
    assert frame.to_dict("records") == [
        {"月份": "2026年9月", "辍学": 2, "劝返复学": 1},
        {"月份": "2026年10月", "辍学": 0, "劝返复学": 1},
        {"月份": "2026年11月", "辍学": 0, "劝返复学": 0},
    ]
