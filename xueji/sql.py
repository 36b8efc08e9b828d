"""SQL expressions that mirror pure rules, so that aggregates stay in the database."""

from __future__ import annotations

from sqlalchemy import Integer, case, cast, exists, func, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from xueji.models import FamilyMember, SchoolClass, Student
from xueji.rules.class_code import cohort_in_grade
from xueji.rules.registration import RecordGap
from xueji.rules.vocab import Stage


def class_entry_year() -> ColumnElement[int]:
    return cast(func.substr(SchoolClass.code, 1, 4), Integer)


def class_stage() -> ColumnElement[int]:
    return cast(func.substr(SchoolClass.code, 5, 1), Integer)


def class_grade(school_year_start: int) -> ColumnElement[int]:
    """The grade of a class in a school year: rules.class_code.grade_in_school_year, in SQL."""
    first_grade = case(
        *((class_stage() == stage.value, stage.first_grade) for stage in Stage),
        else_=0,
    )
    return school_year_start - class_entry_year() + first_grade


def class_in_grade(grade: int, school_year_start: int) -> ColumnElement[bool]:
    """The classes in a grade that year, by their code's prefix (entry year + stage), which an index can use."""
    entry_year, stage = cohort_in_grade(grade, school_year_start)
    return col(SchoolClass.code).startswith(f"{entry_year:04d}{stage.value}", autoescape=True)


def _blank(column) -> ColumnElement[bool]:  # noqa: ANN001 - a Student column
    return or_(column.is_(None), func.trim(column) == "")


def record_gap(gap: RecordGap) -> ColumnElement[bool]:
    """True for a student whose record has this gap: rules.registration.record_gaps, in SQL."""
    if gap is RecordGap.ID_NUMBER:
        return _blank(col(Student.id_number))
    members = select(FamilyMember.id).where(FamilyMember.student_id == Student.id).correlate(Student)
    if gap is RecordGap.FAMILY:
        return ~exists(members)
    if gap is RecordGap.GUARDIAN:
        return exists(members) & ~exists(members.where(col(FamilyMember.is_guardian).is_(True)))
    return exists(members) & ~exists(members.where(~_blank(col(FamilyMember.phone))))
