"""The monthly ledger's items (rules.accountability), each as one SQL select over a period of months, in the actor's
scope: the counts are GROUP BYs over these selects, the drill-down is the select itself for one school.

Every select has the same columns: school_id, school, ref (the change, student or class), subject (a student's name
or a class code), day, deadline, extra (what the formatter needs), amount (a number, or NULL)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import (
    Date,
    Integer,
    Select,
    String,
    and_,
    cast,
    false,
    func,
    literal,
    null,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from xueji.auth import Actor
from xueji.config import get_settings
from xueji.models import RegistryCheck, School, SchoolClass, SchoolYear, StatusChange, Student, Term
from xueji.rules.accountability import Item, LedgerMonth
from xueji.rules.status_changes import ChangeKind, ChangeState
from xueji.rules.transfers import REPEAT_PREFIX, TRANSFER_IN_KINDS
from xueji.rules.vocab import StudentStatus
from xueji.services.common.access import school_condition
from xueji.sql import china_date, class_grade, class_in_grade


@dataclass(frozen=True)
class Period:
    """The months a ledger covers (one month, or the school year's months so far), drawn up on `today`."""

    months: tuple[LedgerMonth, ...]
    today: date
    school_year: int  # the start year of the school year the months belong to

    @property
    def first(self) -> date:
        return self.months[0].first

    @property
    def end(self) -> date:
        return self.months[-1].cut(self.today)

    @property
    def current(self) -> bool:
        """The period holds today's month (the registry as it is now describes it)."""
        return any(m.contains(self.today) for m in self.months)

    def dated(self, day: ColumnElement) -> ColumnElement[bool]:
        return day.between(self.first, self.end)


def _columns(
    school_id: ColumnElement,
    ref: ColumnElement,
    subject: ColumnElement,
    day: ColumnElement,
    deadline: ColumnElement | None = None,
    extra: ColumnElement | None = None,
    amount: ColumnElement | None = None,
) -> Select:
    return select(
        school_id.label("school_id"),
        col(School.name).label("school"),
        ref.label("ref"),
        subject.label("subject"),
        type_coerce(day, Date).label("day"),  # a CAST to DATE on SQLite would make the text a number
        type_coerce(deadline if deadline is not None else null(), Date).label("deadline"),
        cast(extra if extra is not None else null(), String).label("extra"),
        cast(amount if amount is not None else null(), Integer).label("amount"),
    )


def _in_scope(query: Select, actor: Actor, school_id: ColumnElement) -> Select:
    return query.join(School, School.id == school_id).where(school_condition(actor))


def _overdue(actor: Actor, period: Period) -> Select:
    decided_on = china_date(StatusChange.decided_at)
    due = col(StatusChange.due_date)

    def in_month(month: LedgerMonth) -> ColumnElement[bool]:
        cut = month.cut(period.today)
        decided_late = and_(decided_on.between(month.first, cut), decided_on > due)
        still_open = and_(or_(StatusChange.state == ChangeState.SUBMITTED.value, decided_on > cut), due < cut)
        return or_(decided_late, still_open)

    query = _columns(
        col(StatusChange.school_id),
        col(StatusChange.id),
        col(Student.name),
        decided_on,
        due,
        col(StatusChange.kind),
    ).join(Student, Student.id == StatusChange.student_id)
    return _in_scope(query, actor, col(StatusChange.school_id)).where(or_(*map(in_month, period.months)))


def _receiving_school() -> ColumnElement[int]:
    return func.coalesce(StatusChange.to_school_id, StatusChange.school_id)


def _submitted(actor: Actor, period: Period, extra: ColumnElement) -> Select:
    """Requests submitted in the period, counted for the school that receives the child."""
    submitted_on = china_date(StatusChange.submitted_at)
    query = _columns(
        _receiving_school(), col(StatusChange.id), col(Student.name), submitted_on, None, extra
    ).join(Student, Student.id == StatusChange.student_id)
    return _in_scope(query, actor, _receiving_school()).where(period.dated(submitted_on))


def _has_document(key: str) -> ColumnElement[bool]:
    return (literal(",") + col(StatusChange.documents) + literal(",")).contains(f",{key},", autoescape=True)


def _missing_proof(actor: Actor, period: Period) -> Select:
    required = get_settings().transfer_proofs
    lacking = or_(*(~_has_document(d.value) for d in required)) if required else false()
    return _submitted(actor, period, col(StatusChange.documents)).where(
        col(StatusChange.kind).in_([k.value for k in TRANSFER_IN_KINDS]), lacking
    )


def _outside_window(actor: Actor, period: Period) -> Select:
    reason = func.coalesce(StatusChange.override_reason, StatusChange.placement_reason, StatusChange.reason)
    return _submitted(actor, period, reason).where(col(StatusChange.outside_window).is_(True))


def _below_grade(actor: Actor, period: Period) -> Select:
    reason = col(StatusChange.placement_reason)  # "留级:…;证明待补:…" (rules.transfers.placement_note)
    return _submitted(actor, period, reason).where(reason.contains(REPEAT_PREFIX, autoescape=True))


def _intake_deadline(grade: int, year: int) -> date:
    deadlines = get_settings().registration_deadlines
    month, day = deadlines.grade1 if grade == 1 else deadlines.grade7
    return date(year, month, day)


def _late_registration(actor: Actor, period: Period) -> Select:
    """New records in the year's grade-1 and grade-7 classes added after the deadline (not with the school's first
    load of its registry, not a transfer from another county after the year began), and grade-7 entrants moved
    here by 升学 after the deadline (rules.accountability.late_registration)."""
    year = period.school_year
    first_day = date(year, get_settings().school_year_start_month, 1)
    live_since = (
        select(Student.school_id, func.min(Student.created_at).label("since"))
        .where(col(Student.school_id).in_(select(School.id).where(school_condition(actor))))
        .group_by(Student.school_id)
        .subquery()
    )
    added_on = china_date(Student.created_at)
    since_month = _month_start(china_date(live_since.c.since))
    transferred = select(StatusChange.student_id).where(
        StatusChange.kind == ChangeKind.TRANSFER_IN_OUTSIDE.value, StatusChange.effective_date > first_day
    )
    selects = []
    for grade in (1, 7):
        deadline = _intake_deadline(grade, year)
        created = (
            _columns(
                col(Student.school_id),
                col(Student.id),
                col(Student.name),
                added_on,
                literal(deadline, Date),
                col(SchoolClass.code),
            )
            .join(SchoolClass, SchoolClass.id == Student.class_id)
            .join(live_since, live_since.c.school_id == Student.school_id)
        )
        selects.append(
            _in_scope(created, actor, col(Student.school_id)).where(
                class_in_grade(grade, year),
                period.dated(added_on),
                added_on > deadline,
                _month_start(added_on) != since_month,
                col(Student.merged_into_id).is_(None),
                col(Student.id).not_in(transferred),
            )
        )
    decided_on = china_date(StatusChange.decided_at)
    promoted = (
        _columns(
            col(StatusChange.to_school_id),
            col(Student.id),
            col(Student.name),
            decided_on,
            literal(_intake_deadline(7, year), Date),
            col(SchoolClass.code),
        )
        .join(Student, Student.id == StatusChange.student_id)
        .join(SchoolClass, SchoolClass.id == StatusChange.to_class_id)
    )
    selects.append(
        _in_scope(promoted, actor, col(StatusChange.to_school_id)).where(
            StatusChange.kind == ChangeKind.PROMOTION.value,
            StatusChange.state == ChangeState.APPROVED.value,
            class_in_grade(7, year),
            period.dated(decided_on),
            decided_on > _intake_deadline(7, year),
        )
    )
    return selects[0].union_all(*selects[1:])


def _month_start(day: ColumnElement) -> ColumnElement[str]:
    """The month of a date as 'YYYY-MM' text (the same on both databases)."""
    return func.substr(cast(day, String), 1, 7)


def _checks_short(actor: Actor, period: Period) -> Select:
    """Classes of the year with fewer checks (distinct days) than required in a term that ended in the period
    (rules.accountability.term_checks_month)."""
    ended = and_(col(Term.end_date).between(period.first, period.end), col(Term.end_date) < period.today)
    return _class_checks(actor, period.school_year, ended)


def running_checks_short(actor: Actor, period: Period) -> Select:
    """Classes still short of checks in the term running today ("so far": not counted until the term ends)."""
    running = and_(
        col(Term.start_date) <= period.today,
        col(Term.end_date) >= period.today,
        (true() if period.current else false()),
    )
    return _class_checks(actor, period.school_year, running)


def _class_checks(actor: Actor, year: int, terms: ColumnElement[bool]) -> Select:
    needed = get_settings().registry_checks_per_term
    grade = class_grade(year)
    checks = func.count(func.distinct(RegistryCheck.checked_on))
    query = (
        _columns(
            col(SchoolClass.school_id),
            col(SchoolClass.id),
            col(SchoolClass.code),
            col(Term.end_date),
            None,
            cast(Term.seq, String),
            checks,
        )
        .select_from(SchoolClass)
        .join(Term, terms)
        .join(SchoolYear, and_(SchoolYear.id == Term.school_year_id, SchoolYear.start_year == year))
        .outerjoin(
            RegistryCheck, and_(RegistryCheck.class_id == SchoolClass.id, RegistryCheck.term_id == Term.id)
        )
    )
    return (
        _in_scope(query, actor, col(SchoolClass.school_id))
        .where(grade.between(1, 9))
        .group_by(
            SchoolClass.school_id, School.name, SchoolClass.id, SchoolClass.code, Term.end_date, Term.seq
        )
        .having(checks < needed)
    )


def _oversized(actor: Actor, period: Period) -> Select:
    """Classes above the size limit, from the registry as it is now: only in a period holding today's month (a past
    month's class sizes are not kept)."""
    size = func.count(Student.id)
    query = (
        _columns(
            col(SchoolClass.school_id),
            col(SchoolClass.id),
            col(SchoolClass.code),
            literal(period.end, Date),
            amount=size,
        )
        .select_from(SchoolClass)
        .outerjoin(
            Student,
            and_(Student.class_id == SchoolClass.id, Student.status == StudentStatus.ENROLLED.value),
        )
    )
    grade = class_grade(period.school_year)
    return (
        _in_scope(query, actor, col(SchoolClass.school_id))
        .where(grade.between(1, 9), (true() if period.current else false()))
        .group_by(SchoolClass.school_id, School.name, SchoolClass.id, SchoolClass.code)
        .having(size > get_settings().class_size_limit)
    )


ITEM_QUERIES: dict[Item, Callable[[Actor, Period], Select]] = {
    Item.OVERDUE_APPROVAL: _overdue,
    Item.MISSING_PROOF: _missing_proof,
    Item.OVERSIZED_CLASS: _oversized,
    Item.LATE_REGISTRATION: _late_registration,
    Item.CHECKS_SHORT: _checks_short,
    Item.OUTSIDE_WINDOW: _outside_window,
    Item.BELOW_GRADE: _below_grade,
}
