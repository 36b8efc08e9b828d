"""SQL expressions that mirror pure rules, so that aggregates stay in the database."""

from __future__ import annotations

from sqlalchemy import Integer, case, cast, func
from sqlalchemy.sql.elements import ColumnElement

from xueji.models import SchoolClass
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
