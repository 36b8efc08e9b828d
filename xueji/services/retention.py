"""巩固率 by grade, computed in SQL: each student's school and status on the year's first day and on the day
counted are read back from the first approved status change after each day (rules.retention.status_before),
then one GROUP BY grade counts the flows of rules.retention.GradeFlow for the chosen scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.config import get_settings
from xueji.models import School, SchoolClass, StatusChange, Student
from xueji.rules.retention import ACTIVE, GradeFlow, status_before, total
from xueji.rules.status_changes import ChangeKind, ChangeState
from xueji.rules.terms import school_year_bounds
from xueji.rules.vocab import GRADE_LABELS, StudentStatus
from xueji.services.access import require, school_condition
from xueji.sql import class_grade


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


def _first_change_after(day: date, kinds: tuple[ChangeKind, ...] | None = None):  # noqa: ANN202 - a subquery
    """Per student, the first approved status change effective after `day` (of these kinds): its kind and the
    school it was submitted from."""
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
    if kinds is not None:
        ranked = ranked.where(col(StatusChange.kind).in_([k.value for k in kinds]))
    inner = ranked.subquery()
    return select(inner.c.student_id, inner.c.kind, inner.c.school_id).where(inner.c.n == 1).subquery()


def _status_on(first) -> ColumnElement[str]:  # noqa: ANN001 - a subquery of _first_change_after
    """The student's status at the end of the day: before the first change after it, else the current one."""
    return case(
        *((first.c.kind == kind.value, status_before(kind).value) for kind in ChangeKind),
        else_=Student.status,
    )


def _school_on(transfer_in) -> ColumnElement[int]:  # noqa: ANN001 - a subquery of _first_change_after
    """The student's school at the end of the day: the school a later transfer in came from, else the current."""
    return func.coalesce(transfer_in.c.school_id, Student.school_id)


def year_days(session: Session, school_year: int) -> tuple[date, date]:
    """The year's first day and the day counted: the year's last day, or today while the year runs."""
    first, last = school_year_bounds(school_year, start_month=get_settings().school_year_start_month)
    return first, min(last, today())


def grade_flows(
    session: Session, *, actor: Actor, school_year: int, scope: RetentionScope | None = None
) -> list[GradeFlow]:
    """Each grade's flows in the school year for the scope, grades 1–9 in order (grades with no one left out)."""
    require(session, actor, Action.OVERVIEW_READ)
    first, counted = year_days(session, school_year)
    before = first - timedelta(days=1)
    schools = scope_schools(actor, scope or RetentionScope())
    start_change, end_change = _first_change_after(before), _first_change_after(counted)
    start_in = _first_change_after(before, (ChangeKind.TRANSFER_IN,))
    end_in = _first_change_after(counted, (ChangeKind.TRANSFER_IN,))
    start_status, end_status = _status_on(start_change), _status_on(end_change)
    start_school, end_school = _school_on(start_in), _school_on(end_in)
    active = [s.value for s in ACTIVE]
    at_start = and_(start_school.in_(schools), start_status.in_(active))
    at_end = and_(end_school.in_(schools), end_status.in_(active))
    returned = exists(
        select(StatusChange.id).where(
            StatusChange.student_id == Student.id,
            StatusChange.kind == ChangeKind.RETURN.value,
            StatusChange.state == ChangeState.APPROVED.value,
            StatusChange.effective_date > before,
            StatusChange.effective_date <= counted,
        )
    )
    left_by_transfer = or_(
        end_status == StudentStatus.TRANSFERRED_OUT.value,
        and_(end_status.in_(active), end_school.not_in(schools)),
    )
    grade = class_grade(school_year).label("grade")

    def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.sum(case((condition, 1), else_=0))

    rows = session.execute(
        select(
            grade,
            count(at_start),
            count(and_(at_end, ~at_start, ~returned)),
            count(and_(at_start, left_by_transfer)),
            count(and_(at_start, end_status == StudentStatus.DECEASED.value)),
            count(and_(at_start, end_status == StudentStatus.DROPPED_OUT.value)),
            count(and_(at_end, returned)),
            count(and_(at_start, at_end, end_status == StudentStatus.SUSPENDED.value)),
            count(at_end),
        )
        .join(SchoolClass, Student.class_id == SchoolClass.id)
        .outerjoin(start_change, start_change.c.student_id == Student.id)
        .outerjoin(end_change, end_change.c.student_id == Student.id)
        .outerjoin(start_in, start_in.c.student_id == Student.id)
        .outerjoin(end_in, end_in.c.student_id == Student.id)
        .where(or_(start_school.in_(schools), end_school.in_(schools)), grade.between(1, 9))
        .group_by(grade)
        .order_by(grade)
    ).all()
    return [GradeFlow(int(g), *(int(n or 0) for n in counts)) for g, *counts in rows if any(counts)]


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
                "巩固率": f.rate_text(),
                "计算": f.worked(),
            }
            for f in rows
        ],
        columns=["年级", *COLUMNS.values(), "巩固率", "计算"],
    )
