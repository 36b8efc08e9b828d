"""巩固率 by grade, computed in SQL: each student's school and status at the end of the year's first day and of
the day counted are read back from the first approved status change after each day (rules.retention.status_before)
— the school from the first approved change that moved the record to another school (转入, 升学, a return at
another school) or school merge (record_move) after it — then one GROUP BY grade counts the flows of
rules.retention.GradeFlow for the chosen scope. The start is the end of the first day, so an intake dated that day
(升学, a grade-7 entrant from outside) is in it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import Select, and_, case, exists, func, literal, or_, select, union, union_all
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.config import get_settings
from xueji.models import RecordMove, School, SchoolClass, StatusChange, Student, Township
from xueji.rules.retention import ACTIVE, GradeFlow, Movement, flows_for, percent, status_before, total
from xueji.rules.status_changes import ChangeKind, ChangeState
from xueji.rules.terms import school_year_bounds
from xueji.rules.vocab import GRADE_LABELS, Stage, StudentStatus
from xueji.services.common.access import require, school_condition
from xueji.services.setup.moves import MoveKind
from xueji.sql import class_grade, class_in_grades, class_stage, in_ids


@dataclass(frozen=True)
class RetentionScope:
    """Whose retention: the actor's scope, narrowed to a township or a school inside it."""

    township_id: int | None = None
    school_id: int | None = None


def scope_schools(actor: Actor, scope: RetentionScope) -> Select:
    """The ids of the schools counted: inside the actor's scope and the chosen township or school."""
    query = select(School.id).where(school_condition(actor))
    if scope.township_id is not None:
        query = query.where(School.township_id == scope.township_id)
    if scope.school_id is not None:
        query = query.where(School.id == scope.school_id)
    return query


def candidates(schools: Select) -> Select:
    """The ids of the students who can have been at one of these schools on any day: those there now, and those
    a status change or a record move names one of them for (the school left or joined), so that a county's
    retention reads its own students, not a province's. Every student counted by `movements` is among them:
    their school on a day is the current one or the one a later change or move took them from. A union of
    indexed lookups (an OR of them would scan every student of the database)."""
    ids = union(select(Student.id).where(col(Student.school_id).in_(schools)), *_naming(schools)).subquery()
    return select(ids.c[0]).where(ids.c[0].is_not(None))


def named(schools: Select) -> Select:
    """The ids of the students a status change or a record move names one of these schools for (the school left
    or joined): with those there now, every student who can have been at one of them (candidates)."""
    return union(*_naming(schools))


def _naming(schools: Select) -> tuple[Select, ...]:
    return (
        select(StatusChange.student_id).where(col(StatusChange.school_id).in_(schools)),
        select(StatusChange.student_id).where(col(StatusChange.to_school_id).in_(schools)),
        select(RecordMove.student_id).where(col(RecordMove.from_school_id).in_(schools)),
        select(RecordMove.student_id).where(col(RecordMove.to_school_id).in_(schools)),
    )


def first_change_after(day: date, students: Select | None = None):  # noqa: ANN202 - a subquery
    """Per student (of `students`, when given), the first approved status change effective after `day`: its
    kind and the school it was submitted from."""
    ranked = select(
        StatusChange.student_id,
        StatusChange.kind,
        StatusChange.school_id,
        func.row_number()
        .over(
            partition_by=StatusChange.student_id,
            order_by=(StatusChange.effective_date, StatusChange.id),
        )
        .label("n"),
    ).where(StatusChange.state == ChangeState.APPROVED.value, StatusChange.effective_date > day)
    if students is not None:
        ranked = ranked.where(col(StatusChange.student_id).in_(students))
    inner = ranked.subquery()
    return select(inner.c.student_id, inner.c.kind, inner.c.school_id).where(inner.c.n == 1).subquery()


def first_school_change_after(day: date, students: Select | None = None):  # noqa: ANN202 - a subquery
    """Per student (of `students`, when given), the first event effective after `day` that changed their school,
    with the school it left: an approved change that moved the record to another school (转入, 升学, 外县转入 or
    劝返复学 at another school: to_school_id set and not the school it was submitted from) or a school merge
    (services.setup.school_merge)."""
    mine_changed = [col(StatusChange.student_id).in_(students)] if students is not None else []
    mine_moved = [col(RecordMove.student_id).in_(students)] if students is not None else []
    events = union_all(
        select(
            StatusChange.student_id,
            col(StatusChange.effective_date).label("day"),
            literal(0).label("source"),
            col(StatusChange.id).label("seq"),
            StatusChange.school_id,
        ).where(
            StatusChange.state == ChangeState.APPROVED.value,
            col(StatusChange.to_school_id).is_not(None),
            StatusChange.to_school_id != StatusChange.school_id,
            StatusChange.effective_date > day,
            *mine_changed,
        ),
        select(
            RecordMove.student_id,
            RecordMove.moved_on,
            literal(1),
            RecordMove.id,
            col(RecordMove.from_school_id).label("school_id"),
        ).where(
            RecordMove.kind == MoveKind.SCHOOL_MERGE.value,
            col(RecordMove.student_id).is_not(None),
            RecordMove.moved_on > day,
            *mine_moved,
        ),
    ).subquery()
    order = (events.c.day, events.c.source, events.c.seq)
    ranked = select(
        events.c.student_id,
        events.c.school_id,
        func.row_number().over(partition_by=events.c.student_id, order_by=order).label("n"),
    ).subquery()
    return select(ranked.c.student_id, ranked.c.school_id).where(ranked.c.n == 1).subquery()


def status_on(first, school_year: int) -> ColumnElement[str]:  # noqa: ANN001 - a subquery of first_change_after
    """The student's status at the end of a day of the school year: before the first change after it, else the
    current one — except that a graduate was still 在读 while their class was in its stage's last grade or
    below (graduation is the rollover after that year, not a status change). That holds for a graduate read back
    from a later 升学 too: a promoted child's junior class code gives grade 6 for the year before, which they
    spent in the primary's grade 6."""
    last_grade = case(*((class_stage() == s.value, s.first_grade + s.years - 1) for s in Stage), else_=0)
    read_back = case(
        *((first.c.kind == kind.value, status_before(kind).value) for kind in ChangeKind),
        else_=Student.status,
    )
    return case(
        (
            and_(read_back == StudentStatus.GRADUATED.value, class_grade(school_year) <= last_grade),
            StudentStatus.ENROLLED.value,
        ),
        else_=read_back,
    )


def school_on(moved) -> ColumnElement[int]:  # noqa: ANN001 - a subquery of first_school_change_after
    """The student's school at the end of the day: the school a later move or merge took them from, else the
    current one."""
    return func.coalesce(moved.c.school_id, Student.school_id)


def year_days(session: Session, school_year: int) -> tuple[date, date]:
    """The year's first day and the day counted: the year's last day, or today while the year runs."""
    first, last = school_year_bounds(school_year, start_month=get_settings().school_year_start_month)
    return first, min(last, today())


def movements(session: Session, *, schools: Select, school_year: int) -> list[Movement]:
    """Every student who was at one of these schools at the end of the year's first day or is at one on the day
    counted, counted by grade, school then and now, status now, and whether brought back during the year (after
    the first day). On PostgreSQL the changes and moves after each day are ranked among the candidates only (a
    city's database holds ten counties' changes); SQLite ranks them all — a database of one county, mostly — since
    its planner takes the narrowed ranking for a handful of rows and reads it once per student instead of through
    an automatic index (巩固率 of a 300,000-student county: 91 s narrowed, 1.7 s not)."""
    first, counted = year_days(session, school_year)
    mine = candidates(schools) if session.get_bind().dialect.name == "postgresql" else None
    start_change, end_change = first_change_after(first, mine), first_change_after(counted, mine)
    start_moved, end_moved = first_school_change_after(first, mine), first_school_change_after(counted, mine)
    start_school, end_school = school_on(start_moved), school_on(end_moved)
    active = [s.value for s in ACTIVE]
    start_school_active = case((status_on(start_change, school_year).in_(active), start_school), else_=None)
    end_status = status_on(end_change, school_year)
    returned = case(
        (
            exists(
                select(StatusChange.id).where(
                    StatusChange.student_id == Student.id,
                    StatusChange.kind == ChangeKind.RETURN.value,
                    StatusChange.state == ChangeState.APPROVED.value,
                    StatusChange.effective_date > first,
                    StatusChange.effective_date <= counted,
                )
            ),
            1,
        ),
        else_=0,
    )
    grade = class_grade(school_year)
    keys = (grade, start_school_active, end_school, end_status, returned)
    rows = session.execute(
        select(*keys, func.count())
        .join(SchoolClass, Student.class_id == SchoolClass.id)
        .outerjoin(start_change, start_change.c.student_id == Student.id)
        .outerjoin(end_change, end_change.c.student_id == Student.id)
        .outerjoin(start_moved, start_moved.c.student_id == Student.id)
        .outerjoin(end_moved, end_moved.c.student_id == Student.id)
        .where(
            # the students there now or named by a change or a move: looked up by index, not joined
            or_(in_ids(col(Student.school_id), schools), in_ids(col(Student.id), named(schools))),
            or_(start_school.in_(schools), end_school.in_(schools)),
            class_in_grades(1, 9, school_year),  # grade.between(1, 9), which the planner can estimate
        )
        .group_by(*keys)
    ).all()
    return [
        Movement(int(g), start, int(end), StudentStatus(status), bool(back), int(n))
        for g, start, end, status, back, n in rows
    ]


def grade_flows(
    session: Session, *, actor: Actor, school_year: int, scope: RetentionScope | None = None
) -> list[GradeFlow]:
    """Each grade's flows in the school year for the scope, grades 1–9 in order (grades with no one left out)."""
    require(session, actor, Action.OVERVIEW_READ)
    schools = scope_schools(actor, scope or RetentionScope())
    ids = set(session.scalars(schools))
    return flows_for(movements(session, schools=schools, school_year=school_year), ids)


def township_totals(session: Session, *, actor: Actor, school_year: int) -> list[tuple[str, GradeFlow]]:
    """Each township of the actor's scope with its year's totals (a move between townships is out of one and
    into the other), from one pass over the registry."""
    require(session, actor, Action.OVERVIEW_READ)
    schools = scope_schools(actor, RetentionScope())
    by_township: dict[str, set[int]] = {}
    for school_id, township in session.execute(
        select(School.id, Township.name)
        .join(Township, School.township_id == Township.id)
        .where(col(School.id).in_(schools))
        .order_by(Township.code)
    ):
        by_township.setdefault(township, set()).add(school_id)
    moved = movements(session, schools=schools, school_year=school_year)
    return [(name, total(flows_for(moved, ids))) for name, ids in by_township.items()]


COLUMNS = {
    "start": "年初在籍",
    "transferred_in": "转入",
    "transferred_out": "转出",
    "died": "死亡",
    "dropped_out": "辍学未返",
    "returned": "劝返复学",
    "suspended": "休学",
    "in_school": "现在籍",
}


def flows_frame(flows: list[GradeFlow]) -> pd.DataFrame:
    """The table beneath the chart: one row per grade and a 合计 row, with the rate and its worked formula."""
    rows = [*flows, total(flows)] if flows else []
    return pd.DataFrame(
        [
            {
                "年级": GRADE_LABELS.get(f.grade, "合计"),
                **{label: getattr(f, name) for name, label in COLUMNS.items()},
                "巩固率(%)": percent(f.rate),
                "计算": f.worked(),
            }
            for f in rows
        ],
        columns=["年级", *COLUMNS.values(), "巩固率(%)", "计算"],
    )


def townships_frame(townships: list[tuple[str, GradeFlow]]) -> pd.DataFrame:
    """The townships compared: each one's year totals and rate."""
    return pd.DataFrame(
        [
            {
                "乡镇": name,
                **{label: getattr(f, key) for key, label in COLUMNS.items()},
                "巩固率(%)": percent(f.rate),
            }
            for name, f in townships
        ],
        columns=["乡镇", *COLUMNS.values(), "巩固率(%)"],
    )


def scope_choices(session: Session, *, actor: Actor) -> list[tuple[int, str, int, str]]:
    """(school id, school, township id, township) of the schools in the actor's scope, by township."""
    require(session, actor, Action.OVERVIEW_READ)
    rows = session.execute(
        select(School.id, School.name, Township.id, Township.name)
        .join(Township, School.township_id == Township.id)
        .where(school_condition(actor))
        .order_by(Township.code, School.code)
    ).all()
    return [tuple(r) for r in rows]
