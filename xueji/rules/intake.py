"""Arrivals by the registry import (issue 23): a row whose child already has a record in the county moves that
record (升学, 转回, 劝返复学) instead of creating another; a row with no record may come from another county
(外县转入). Pure: the record's status and the row's class in, what the import does and says out.

Sources: grade-7 intake moves the primary graduate's record to the junior school (初中新生档案迁移, 001 §3);
one child, one registry number for life, the same record back for a child who left and returns (003, 001);
a transfer in from another county is a transfer, counted as 转入 and never in the year's start (002, 000).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from xueji.rules.status_changes import ChangeKind
from xueji.rules.vocab import Stage, StudentStatus

INTAKE_GRADE = 7  # 小升初: the junior stage's first grade
REASON = {
    ChangeKind.PROMOTION: "升学(导入)",
    ChangeKind.TRANSFER_IN_OUTSIDE: "外县转入(导入)",
    ChangeKind.RETURN: "劝返复学(导入)",
}
INTAKE_REASON = "初一新生,本县无学籍(导入)"


class Source(StrEnum):
    """Where the arrivals of an import come from, as the preview counts them."""

    COUNTY_PRIMARY = "本县小学升入"
    OUTSIDE = "外县转入"
    RETURNED = "返回"


class Move(StrEnum):
    """What the import does with one arriving child."""

    PROMOTION = "升学"
    BACK_FROM_TRANSFER = "转回"
    BACK_FROM_DROPOUT = "劝返"
    OUTSIDE = "外县转入"  # a new record, marked by the row's 转出县区 column
    OUTSIDE_INTAKE = "初一新生(外县)"  # a new record: a grade-7 entrant the county has no record of

    @property
    def kind(self) -> ChangeKind:
        return {
            Move.PROMOTION: ChangeKind.PROMOTION,
            Move.BACK_FROM_TRANSFER: ChangeKind.TRANSFER_IN_OUTSIDE,
            Move.BACK_FROM_DROPOUT: ChangeKind.RETURN,
            Move.OUTSIDE: ChangeKind.TRANSFER_IN_OUTSIDE,
            Move.OUTSIDE_INTAKE: ChangeKind.TRANSFER_IN_OUTSIDE,
        }[self]

    @property
    def source(self) -> Source:
        if self is Move.PROMOTION:
            return Source.COUNTY_PRIMARY
        if self in (Move.BACK_FROM_TRANSFER, Move.BACK_FROM_DROPOUT):
            return Source.RETURNED
        return Source.OUTSIDE

    @property
    def new_record(self) -> bool:
        return self in (Move.OUTSIDE, Move.OUTSIDE_INTAKE)


@dataclass(frozen=True)
class Verdict:
    """What to do with a row that matches an existing record: move it (move set), update it in place (neither
    set), or refuse the row (refusal set)."""

    move: Move | None = None
    refusal: str | None = None


def sort_existing(
    status: StudentStatus,
    *,
    same_school: bool,
    school_name: str,
    record_stage: Stage | None,
    into_grade: int | None,
) -> Verdict:
    """Sort a row by the status of the record it matches. `record_stage` is the stage of the record's class,
    `into_grade` the grade of the row's class this school year."""
    if status is StudentStatus.GRADUATED:
        if into_grade == INTAKE_GRADE and record_stage is Stage.PRIMARY:
            return Verdict(Move.PROMOTION)
        if same_school:
            return Verdict()  # as before issue 23: the school corrects its own graduate's record
        if record_stage is not Stage.PRIMARY:
            return Verdict(refusal=f"该学生已在{school_name}初中毕业,不能再编入义务教育班级")
        return Verdict(
            refusal=f"该学生已从{school_name}小学毕业,只能升入初中七年级;本行班号为"
            f"{into_grade}年级,请核对班号"
        )
    if status is StudentStatus.TRANSFERRED_OUT:
        return Verdict(Move.BACK_FROM_TRANSFER)
    if status is StudentStatus.DROPPED_OUT:
        return Verdict(Move.BACK_FROM_DROPOUT)
    if status is StudentStatus.DECEASED:
        return Verdict(refusal=f"查重:该身份证件号属于{school_name}一名已登记死亡的学生,请核对身份证件号")
    if same_school:
        return Verdict()
    return Verdict(refusal=f"查重:该学生已在{school_name}有学籍;应办理转学,不能重复建籍")


def sort_new(
    *, from_outside: bool, into_grade: int | None, teaches_junior: bool, county_has_graduates: bool
) -> Move | None:
    """A row with no record in the county: 外县转入 when the row says so (转出县区); a grade-7 entrant of a
    school with a junior stage, once the county's primaries are on the system (it holds graduates of last
    year's grade 6), comes from outside; anything else (go-live loading, grade-1 intake) is a plain new record."""
    if from_outside:
        return Move.OUTSIDE
    if into_grade == INTAKE_GRADE and teaches_junior and county_has_graduates:
        return Move.OUTSIDE_INTAKE
    return None


def sentence(
    move: Move, *, from_school: str | None, source_county: str | None, source_school: str | None
) -> str:
    """What the preview says about one arriving child."""
    if move is Move.PROMOTION:
        return f"从{from_school}毕业,升入本校" if from_school else "毕业,升入本校"
    if move is Move.BACK_FROM_TRANSFER:  # from_school: the school it left the county from, when not this one
        return f"曾从{from_school}转出外县,现转回本县,入读本校" if from_school else "曾转出外县,现转回本校"
    if move is Move.BACK_FROM_DROPOUT:
        return "辍学后返回,劝返复学"
    where = source_place(source_county, source_school)
    if move is Move.OUTSIDE:
        return f"从{where}转入(外县转入),新建学籍" if where else "外县转入,新建学籍"
    return f"初一新生,本县无学籍,来自外县{('(' + where + ')') if where else ''},新建学籍"


def source_place(county: str | None, school: str | None) -> str:
    """The county and the school as one place, said once where the school's name starts with the county's:
    江西省萍乡市上栗县 and 上栗县桐木镇中学 make 江西省萍乡市上栗县桐木镇中学, not …上栗县上栗县桐木镇中学."""
    if not (county and school):
        return county or school or ""
    overlap = next((n for n in range(min(len(county), len(school)), 1, -1) if county.endswith(school[:n])), 0)
    return county + school[overlap:]


def effective_date(
    move: Move, *, first_day: date, today: date, transfer_date: date | None, into_grade: int | None
) -> date:
    """The day the arrival takes effect: a grade-7 intake (升学, or an entrant from outside) on the school year's
    first day, so it is part of the year's start; a return or a transfer in on the day given or the import day."""
    if move is Move.BACK_FROM_DROPOUT:
        return today
    if transfer_date is not None:
        return transfer_date
    if move is Move.PROMOTION or (into_grade == INTAKE_GRADE and move is not Move.OUTSIDE):
        return first_day
    return today


def transfer_date_problem(day: date, *, first_day: date, today: date) -> str | None:
    """Why a 转入日期 cannot be taken (None: it can): within this school year, not after today."""
    if day > today:
        return "转入日期晚于今天"
    if day < first_day:
        return f"转入日期早于本学年第一天({first_day:%Y-%m-%d})"
    return None
