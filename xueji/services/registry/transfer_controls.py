"""转学 controls against the database: the transfer window today (the county's term calendar), the grade a
request places the child in against the record, mid-year entrants into full classes. The rules are pure
(rules.transfers); this module finds the terms, grades and class sizes they need."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlmodel import Session, col

from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.config import get_settings
from xueji.models import School, SchoolClass, StatusChange, Student
from xueji.rules.class_code import parse_class_code
from xueji.rules.status_changes import ChangeKind, ChangeState, Document
from xueji.rules.terms import default_terms
from xueji.rules.transfers import (
    TransferWindow,
    is_repeat,
    midyear_problem,
    missing_proofs,
    placement_note,
    placement_problem,
    proofs_problem,
    transfer_window,
    window_problem,
)
from xueji.rules.vocab import StudentStatus, grade_label
from xueji.services.common.access import require, school_condition, student_in_scope
from xueji.services.common.calendar import school_year_on, terms
from xueji.sql import class_grade as class_grade_sql


def window_on(session: Session, day: date) -> TransferWindow:
    """The transfer window on a day, by the county's term calendar (the default dates where none is set)."""
    known = terms(session)
    if not known:
        year = school_year_on(session, day)
        known = [*default_terms(year - 1), *default_terms(year)]
    return transfer_window(day, known, get_settings().transfer_window)


def class_grade(session: Session, class_id: int | None, day: date) -> int | None:
    """The grade a class is in during the school year of that day."""
    if class_id is None:
        return None
    code = session.scalar(select(SchoolClass.code).where(SchoolClass.id == class_id))
    return parse_class_code(code).grade(school_year_on(session, day)) if code else None


def grade_at_suspension(session: Session, student: Student, day: date) -> int | None:
    """The grade the child was in when their (latest approved) suspension began; their grade now if none."""
    began = session.scalar(
        select(func.max(StatusChange.effective_date)).where(
            StatusChange.student_id == student.id,
            StatusChange.kind == ChangeKind.SUSPENSION.value,
            StatusChange.state == ChangeState.APPROVED.value,
        )
    )
    return class_grade(session, student.class_id, began or day)


@dataclass(frozen=True)
class Controls:
    problems: list[str]
    window: TransferWindow
    placement_reason: str | None  # what the change stores: 留级:… and 证明待补:…
    class_full: bool  # refused as a mid-year entrant into a full class (the size-limit check would repeat it)


def transfer_controls(
    session: Session,
    *,
    kind: ChangeKind,
    student: Student,
    day: date,
    documents: frozenset[Document],
    to_class_id: int | None,
    override_reason: str,
    repeat_reason: str,
    proofs_later: str,
) -> Controls:
    """Every transfer rule this request breaks (proofs, grade, window, mid-year entrants), and its placement note."""
    window = window_on(session, day)
    missing = missing_proofs(kind, documents, get_settings().transfer_proofs)
    record_grade = class_grade(session, student.class_id, day)
    placement_grade = class_grade(session, to_class_id, day)
    full = _midyear(session, kind, window, to_class_id)
    problems = [
        p
        for p in (
            proofs_problem(kind, missing, proofs_later),
            placement_problem(
                kind, record_grade=record_grade, placement_grade=placement_grade, repeat_reason=repeat_reason
            ),
            window_problem(kind, window, override_reason),
            full,
        )
        if p
    ]
    repeat = is_repeat(kind, record_grade=record_grade, placement_grade=placement_grade)
    note = placement_note(
        repeat_reason=repeat_reason if repeat else None,
        proofs_later=proofs_later if missing else None,
    )
    return Controls(problems, window, note, class_full=full is not None)


def _midyear(session: Session, kind: ChangeKind, window: TransferWindow, class_id: int | None) -> str | None:
    if class_id is None or not window.midyear:
        return None
    code = session.scalar(select(SchoolClass.code).where(SchoolClass.id == class_id))
    size = session.scalar(
        select(func.count())
        .select_from(Student)
        .where(col(Student.class_id) == class_id, Student.status == StudentStatus.ENROLLED.value)
    )
    name = parse_class_code(code).name if code else "该班"
    return midyear_problem(kind, window, class_name=name, size=int(size or 0))


@dataclass(frozen=True)
class ClassChoice:
    id: int
    name: str
    grade: int
    size: int  # enrolled now

    @property
    def label(self) -> str:
        return f"{self.name}({grade_label(self.grade)},{self.size}人)"


def placement_choices(session: Session, *, actor: Actor) -> list[ClassChoice]:
    """The current classes (grades 1–9) of the actor's schools a child may be placed in, with grade and size."""
    require(session, actor, Action.STATUS_CHANGE_SUBMIT)
    year = school_year_on(session, today())
    grade = class_grade_sql(year)
    size = (
        select(func.count())
        .select_from(Student)
        .where(Student.class_id == SchoolClass.id, Student.status == StudentStatus.ENROLLED.value)
        .scalar_subquery()
    )
    rows = session.execute(
        select(SchoolClass.id, SchoolClass.code, grade, size)
        .where(
            col(SchoolClass.school_id).in_(select(School.id).where(school_condition(actor))),
            grade.between(1, 9),
        )
        .order_by(SchoolClass.code.desc())  # type: ignore[attr-defined]
    ).all()
    return [ClassChoice(cid, parse_class_code(code).name, int(g), int(n)) for cid, code, g, n in rows]


def window_today(session: Session, *, actor: Actor) -> TransferWindow:
    """The transfer window today, for the request form."""
    require(session, actor, Action.STATUS_CHANGE_SUBMIT)
    return window_on(session, today())


def record_grade(session: Session, *, actor: Actor, student_id: int) -> int | None:
    """The grade a student of the actor's scope is in by their record today."""
    student = student_in_scope(session, actor, student_id, Action.STATUS_CHANGE_SUBMIT)
    return class_grade(session, student.class_id, today())
