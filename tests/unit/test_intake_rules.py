"""Arrivals by the registry import (rules.intake) and 巩固率 with them (rules.retention), by the sources' numbers:
grade 7 is the junior stage's first grade (001 §3: 初中新生档案迁移), a transfer in is never in the start."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from xueji.rules import intake
from xueji.rules.intake import Move, Source, Verdict, sort_existing, sort_new
from xueji.rules.retention import FORMULA_NOTE, GradeFlow, status_before
from xueji.rules.status_changes import ChangeKind
from xueji.rules.vocab import Stage, StudentStatus

FIRST_DAY, TODAY = date(2026, 9, 1), date(2026, 11, 23)


def existing(
    status: StudentStatus, *, same: bool = False, stage: Stage = Stage.PRIMARY, grade: int = 7
) -> Verdict:
    return sort_existing(
        status, same_school=same, school_name="古港镇完全小学", record_stage=stage, into_grade=grade
    )


def test_a_county_primary_graduate_placed_in_grade_seven_is_promoted_on_the_same_record():
    assert existing(StudentStatus.GRADUATED) == Verdict(Move.PROMOTION)
    assert Move.PROMOTION.kind is ChangeKind.PROMOTION and Move.PROMOTION.source is Source.COUNTY_PRIMARY


def test_a_nine_year_schools_own_graduate_is_promoted_too():
    assert existing(StudentStatus.GRADUATED, same=True) == Verdict(Move.PROMOTION)


def test_a_graduate_placed_in_any_grade_but_seven_is_refused_with_the_grade():
    verdict = existing(StudentStatus.GRADUATED, grade=8)
    assert verdict.move is None
    assert verdict.refusal == "该学生已从古港镇完全小学小学毕业,只能升入初中七年级;本行班号为8年级,请核对班号"


def test_a_junior_graduate_is_never_placed_again():
    verdict = existing(StudentStatus.GRADUATED, stage=Stage.JUNIOR)
    assert verdict.refusal == "该学生已在古港镇完全小学初中毕业,不能再编入义务教育班级"


def test_a_child_who_transferred_out_or_dropped_out_comes_back_on_the_same_record():
    assert existing(StudentStatus.TRANSFERRED_OUT) == Verdict(Move.BACK_FROM_TRANSFER)
    assert existing(StudentStatus.DROPPED_OUT, grade=8) == Verdict(Move.BACK_FROM_DROPOUT)
    assert Move.BACK_FROM_TRANSFER.kind is ChangeKind.TRANSFER_IN_OUTSIDE
    assert Move.BACK_FROM_DROPOUT.kind is ChangeKind.RETURN
    assert {Move.BACK_FROM_TRANSFER.source, Move.BACK_FROM_DROPOUT.source} == {Source.RETURNED}


@pytest.mark.parametrize("status", [StudentStatus.ENROLLED, StudentStatus.SUSPENDED])
def test_a_child_on_the_registry_of_another_school_needs_a_transfer_approved_by_that_school(status):
    assert existing(status).refusal == "查重:该学生已在古港镇完全小学有学籍;应办理转学,不能重复建籍"
    assert existing(status, same=True) == Verdict()  # an update, as before


def test_a_deceased_childs_id_number_is_refused():
    assert "已登记死亡" in (existing(StudentStatus.DECEASED).refusal or "")


def test_a_row_marked_with_its_county_is_a_transfer_in_from_outside_whatever_the_grade():
    for grade in (1, 4, 7, 8):
        assert sort_new(
            from_outside=True, into_grade=grade, teaches_junior=False, county_has_graduates=False
        ) is (Move.OUTSIDE)


def test_a_grade_seven_entrant_with_no_record_comes_from_outside_once_the_county_has_graduates():
    assert sort_new(from_outside=False, into_grade=7, teaches_junior=True, county_has_graduates=True) is (
        Move.OUTSIDE_INTAKE
    )
    # go-live: the county's primaries are not on the system yet, so grade 7 is loaded as plain new records
    assert sort_new(from_outside=False, into_grade=7, teaches_junior=True, county_has_graduates=False) is None
    assert sort_new(from_outside=False, into_grade=1, teaches_junior=False, county_has_graduates=True) is None
    assert sort_new(from_outside=False, into_grade=8, teaches_junior=True, county_has_graduates=True) is None


def test_the_preview_says_where_each_child_comes_from():
    assert intake.sentence(
        Move.PROMOTION, from_school="古港镇完全小学", source_county=None, source_school=None
    ) == ("从古港镇完全小学毕业,升入本校")
    assert intake.sentence(
        Move.BACK_FROM_TRANSFER, from_school=None, source_county=None, source_school=None
    ) == ("曾转出外县,现转回本校")
    assert intake.sentence(
        Move.BACK_FROM_TRANSFER, from_school="古港镇完全小学", source_county=None, source_school=None
    ) == ("曾从古港镇完全小学转出外县,现转回本县,入读本校")
    assert intake.sentence(
        Move.BACK_FROM_DROPOUT, from_school="x", source_county=None, source_school=None
    ) == ("辍学后返回,劝返复学")
    assert intake.sentence(
        Move.OUTSIDE, from_school=None, source_county="上栗县", source_school="上栗县第一小学"
    ) == ("从上栗县第一小学转入(外县转入),新建学籍")
    assert intake.sentence(
        Move.OUTSIDE, from_school=None, source_county="江西省萍乡市上栗县", source_school="桐木镇中学"
    ) == ("从江西省萍乡市上栗县桐木镇中学转入(外县转入),新建学籍")


def test_the_source_county_and_school_are_said_once():
    assert intake.source_place("江西省萍乡市上栗县", "上栗县桐木镇中学") == "江西省萍乡市上栗县桐木镇中学"
    assert intake.source_place("萍乡市上栗县", "萍乡市上栗县第一中学") == "萍乡市上栗县第一中学"
    assert intake.source_place("上栗县", "桐木镇中学") == "上栗县桐木镇中学"
    assert intake.source_place("湘潭县", "县一中") == "湘潭县县一中"  # one character in common is no overlap
    assert intake.source_place("上栗县", None) == "上栗县"
    assert intake.source_place(None, "桐木镇中学") == "桐木镇中学"


def test_intake_takes_effect_on_the_school_years_first_day_and_a_transfer_on_its_day():
    def day(move: Move, grade: int = 7, given: date | None = None) -> date:
        return intake.effective_date(
            move, first_day=FIRST_DAY, today=TODAY, transfer_date=given, into_grade=grade
        )

    assert day(Move.PROMOTION) == FIRST_DAY
    assert day(Move.OUTSIDE_INTAKE) == FIRST_DAY
    assert day(Move.BACK_FROM_TRANSFER) == FIRST_DAY  # back for grade 7: part of the intake
    assert day(Move.BACK_FROM_TRANSFER, grade=8) == TODAY
    assert day(Move.OUTSIDE) == TODAY  # marked from outside: a transfer in, never in the start
    assert day(Move.OUTSIDE, given=date(2026, 10, 8)) == date(2026, 10, 8)
    assert day(Move.BACK_FROM_DROPOUT, given=date(2026, 10, 8)) == TODAY  # a return is dated when it happens


def test_a_transfer_date_must_fall_within_this_school_year_and_not_after_today():
    problem = intake.transfer_date_problem
    assert problem(date(2026, 9, 1), first_day=FIRST_DAY, today=TODAY) is None
    assert problem(date(2026, 11, 24), first_day=FIRST_DAY, today=TODAY) == "转入日期晚于今天"
    assert (
        problem(date(2026, 8, 31), first_day=FIRST_DAY, today=TODAY) == "转入日期早于本学年第一天(2026-09-01)"
    )


def test_retention_reads_the_new_kinds_back_to_the_one_status_they_start_from():
    assert status_before(ChangeKind.PROMOTION) is StudentStatus.GRADUATED
    assert (
        status_before(ChangeKind.TRANSFER_IN_OUTSIDE) is StudentStatus.TRANSFERRED_OUT
    )  # never in the start
    assert status_before(ChangeKind.EXTENSION) is StudentStatus.SUSPENDED


def test_the_issues_hand_worked_class_of_forty_with_one_transfer_in_from_outside():
    # 40 at the start, 2 transferred out, 1 dropped out, 1 from another county: (40 − 2 − 1) ÷ (40 − 2) = 37/38
    flow = GradeFlow(
        8,
        start=40,
        transferred_in=1,
        transferred_out=2,
        died=0,
        dropped_out=1,
        returned=0,
        suspended=0,
        in_school=38,
    )
    assert flow.rate == Fraction(37, 38)
    assert flow.rate_text() == "97.37%"
    wrong = GradeFlow(
        8,
        start=41,
        transferred_in=0,
        transferred_out=2,
        died=0,
        dropped_out=1,
        returned=0,
        suspended=0,
        in_school=38,
    )
    assert wrong.rate_text() == "97.44%"  # what counting the transfer in within the start gave


def test_the_note_says_what_the_code_does():
    assert "学年第一天结束时" in FORMULA_NOTE and "外县转入从不计入年初" in FORMULA_NOTE
    assert "升学" in FORMULA_NOTE
