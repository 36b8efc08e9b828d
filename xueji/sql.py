"""SQL expressions that mirror pure rules, so that aggregates stay in the database."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, timedelta
from typing import TypeVar

from sqlalchemy import (
    Boolean,
    Date,
    Integer,
    Select,
    Subquery,
    any_,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import col

from xueji.models import FamilyMember, SchoolClass, Student
from xueji.rules.class_code import cohort_in_grade
from xueji.rules.registration import RecordGap
from xueji.rules.visits import VisitPolicy
from xueji.rules.vocab import Stage

T = TypeVar("T")


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


def class_in_grades(first: int, last: int, school_year_start: int) -> ColumnElement[bool]:
    """class_grade(school_year_start).between(first, last), by the codes' prefixes (entry year + stage), for every
    stage: the same classes (a class code's stage is one of Stage), which the planner can count from the column's
    statistics (an arithmetic on substr() it takes for a handful of rows, and then reads a city's students)."""
    return or_(
        *(
            col(SchoolClass.code).startswith(f"{entry:04d}{stage.value}", autoescape=True)
            for stage in Stage
            for entry in range(
                school_year_start + stage.first_grade - last,
                school_year_start + stage.first_grade - first + 1,
            )
        )
    )


def _blank(column) -> ColumnElement[bool]:  # noqa: ANN001 - a column
    return or_(column.is_(None), func.trim(column) == "")


def family_summary(students: Select) -> Subquery:
    """Per student among `students` (a select of ids) who has family members: how many, whether one is marked
    guardian (1/0) and whether one has a phone (1/0). One pass over their family members."""
    return (
        select(
            FamilyMember.student_id,
            func.count().label("members"),
            func.max(case((col(FamilyMember.is_guardian).is_(True), 1), else_=0)).label("guardian"),
            func.max(case((_blank(col(FamilyMember.phone)), 0), else_=1)).label("phone"),
        )
        .where(col(FamilyMember.student_id).in_(students))
        .group_by(FamilyMember.student_id)
        .subquery()
    )


def record_gap(gap: RecordGap, family: Subquery) -> ColumnElement[bool]:
    """True for a student whose record has this gap: rules.registration.record_gaps, in SQL, over the
    student outer-joined to its family_summary row (none: no family members)."""
    if gap is RecordGap.ID_NUMBER:
        return _blank(col(Student.id_number))
    if gap is RecordGap.FAMILY:
        return family.c.members.is_(None)
    if gap is RecordGap.GUARDIAN:
        return family.c.guardian == 0  # NULL (no family) is not this gap
    return family.c.phone == 0


def visit_base(last_visit: ColumnElement, opened_on: ColumnElement) -> ColumnElement:
    """The day a case's visit interval runs from: its last visit since it opened, else its opening
    (rules.visits.visit_due without the interval)."""
    return case((last_visit > opened_on, last_visit), else_=opened_on)


def visit_deadline_passed(
    base: ColumnElement, category: ColumnElement, policy: VisitPolicy, day: date
) -> ColumnElement[bool]:
    """True when base + the category's interval falls before `day`: rules.visits.visit_due(...) < day, with the
    per-category cutoff (day − interval) computed here, so the database compares plain dates."""
    cutoff = case(
        *((category == c.value, literal(day - timedelta(days=n))) for c, n in policy.days.items()),
        else_=literal(day),
    )
    return base < cutoff


IN_LIST_SIZE = 10_000  # values per IN (...) list: PostgreSQL takes at most 65,535 bind parameters a statement


def chunked(values: Iterable[T], per_value: int = 1) -> Iterator[list[T]]:
    """The values in lists short enough for one IN (...) condition (`per_value` parameters each), for lists
    that may be very long: a village's children, a county's students."""
    size = max(1, IN_LIST_SIZE // per_value)
    batch: list[T] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class in_ids(FunctionElement):  # noqa: N801 - used like a SQL operator
    """`column IN (ids)` for a big table filtered by a short list of ids (a county's schools or townships): on
    PostgreSQL `column = ANY(ARRAY(ids))`, which computes the list once, first, and looks its rows up by index,
    so that a county's pages read that county's rows however many counties share the database (an IN of a
    subquery becomes a join the planner may drive from the big table's every row). SQLite: a plain IN."""

    type = Boolean()
    # a predicate, not a value: SQLite would otherwise get `(… IN …) = 1`, which no index serves (a registry
    # import's lookups and a county's scope filters read the whole table)
    _is_implicitly_boolean = True
    inherit_cache = True
    name = "in_ids"

    def __init__(self, column: ColumnElement, ids: Select) -> None:
        super().__init__(column, ids.scalar_subquery())


@compiles(in_ids)
def _in_ids(element, compiler, **kw):  # noqa: ANN001, ANN202
    column, ids = element.clauses.clauses
    # the select itself, not its scalar subquery: SQLite's IN takes a union only bare
    return compiler.process(column.in_(ids.element), **kw)


@compiles(in_ids, "postgresql")
def _in_ids_postgresql(element, compiler, **kw):  # noqa: ANN001, ANN202
    column, ids = element.clauses.clauses
    return f"{compiler.process(column, **kw)} = ANY(ARRAY{compiler.process(ids, **kw)})"


def among(column: ColumnElement, values: Sequence[object], dialect: str) -> ColumnElement[bool]:
    """`column IN (values)` for a long list of values from Python (an import's ID numbers): on PostgreSQL one array
    parameter, `column = ANY(:values)`, which the server parses and plans as one value instead of one parameter
    per value (a 100,000-row registry import looked its ID numbers up in 0.6 s instead of 2.4 s). Elsewhere a
    plain IN. `dialect`: the session's (session.get_bind().dialect.name)."""
    if dialect == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(list(values))


class china_date(FunctionElement):  # noqa: N801 - used like a SQL function
    """The day in China (UTC+8) of a stored UTC timestamp, in SQL."""

    type = Date()
    inherit_cache = True
    name = "china_date"


@compiles(china_date, "sqlite")
def _china_date_sqlite(element, compiler, **kw):  # noqa: ANN001, ANN202
    return f"date({compiler.process(element.clauses, **kw)}, '+8 hours')"


@compiles(china_date, "postgresql")
def _china_date_postgresql(element, compiler, **kw):  # noqa: ANN001, ANN202
    return f"CAST(timezone('Asia/Shanghai', {compiler.process(element.clauses, **kw)}) AS DATE)"
