"""休学与请假: suspensions ending or ended with their way out (复学, 续休, or listed as a problem), the end of a
child's suspension (the latest approved 休学 or 续休), and leave long enough to become a suspension."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pandas as pd
from sqlalchemy import and_, exists, func, or_, select, true
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from xueji.auth import Action, Actor
from xueji.clock import CHINA_TZ, today
from xueji.config import get_settings
from xueji.models import School, SchoolClass, StatusChange, Student, Term, TermReport
from xueji.rules.class_code import parse_class_code
from xueji.rules.status_changes import ChangeKind, ChangeState
from xueji.rules.suspensions import (
    LeaveLevel,
    SuspensionState,
    extension_window,
    leave_level,
    leave_limit,
    one_year_after,
    suspension_listed,
    suspension_state,
)
from xueji.rules.terms import TermDates
from xueji.rules.terms import term_on as term_on_day
from xueji.rules.vocab import StudentStatus
from xueji.services.common.access import require, school_condition, student_condition, student_in_scope
from xueji.services.common.calendar import term_on, terms
from xueji.services.common.exports import export_tables

ENDS = (ChangeKind.SUSPENSION, ChangeKind.EXTENSION)  # an approved one sets the suspension's end
# asked after a suspension, each a way out of "expired, not handled"
WAYS_OUT = (ChangeKind.RESUMPTION, ChangeKind.EXTENSION, ChangeKind.DROPOUT, ChangeKind.DEATH)


def _by(on: date) -> datetime | None:
    """The first moment after a past day: what was done by the end of on (None for today or later: everything
    recorded so far, so that a clock pinned by XUEJI_TODAY never hides what was just recorded)."""
    if on >= today():
        return None
    return datetime.combine(on + timedelta(days=1), time.min, tzinfo=CHINA_TZ)


def _ends(on: date):  # noqa: ANN202 - a subquery
    """Per student: the end of their suspension (the latest approved 休学 or 续休 decided by on) and the id of their
    latest approved 休学 (what came after it is what answers it)."""
    by = _by(on)
    decided = (
        true()
        if by is None
        else or_(col(StatusChange.decided_at).is_(None), col(StatusChange.decided_at) < by)
    )
    return (
        select(
            StatusChange.student_id,
            func.max(StatusChange.suspension_until).label("until"),
            func.max(StatusChange.id).filter(StatusChange.kind == ChangeKind.SUSPENSION.value).label("since"),
        )
        .where(
            col(StatusChange.kind).in_([k.value for k in ENDS]),
            StatusChange.state == ChangeState.APPROVED.value,
            decided,
        )
        .group_by(StatusChange.student_id)
        .subquery()
    )


def _asked(ends, on: date, kinds: tuple[ChangeKind, ...]) -> ColumnElement[bool]:  # noqa: ANN001
    """A request of these kinds made after the suspension, by on, and not turned down by then."""
    later = aliased(StatusChange, name="answer")
    by = _by(on)
    standing = (
        later.state != ChangeState.REJECTED.value
        if by is None
        else and_(
            later.submitted_at < by,
            or_(later.state != ChangeState.REJECTED.value, col(later.decided_at) >= by),
        )
    )
    return exists(
        select(later.id).where(
            later.student_id == ends.c.student_id,
            later.id > ends.c.since,
            col(later.kind).in_([k.value for k in kinds]),
            standing,
        )
    )


def current_end(session: Session, student_id: int) -> date | None:
    """The end of the child's suspension: the latest suspension_until of their approved 休学 and 续休."""
    ends = _ends(today())
    return session.scalar(select(ends.c.until).where(ends.c.student_id == student_id))


def suspension_end_of(session: Session, *, actor: Actor, student_id: int) -> date | None:
    """For the student's record: the end of a suspended child's suspension (None when not suspended)."""
    student = student_in_scope(session, actor, student_id, Action.STUDENT_READ)
    if student.status != StudentStatus.SUSPENDED.value:
        return None
    return current_end(session, student_id)


@dataclass(frozen=True)
class SuspensionRow:
    student_id: int
    student: str
    school: str
    class_name: str
    until: date
    days_left: int  # calendar days; negative once the suspension has ended
    state: SuspensionState
    pending: str | None  # the kind of request waiting for approval, in Chinese
    extension_from: date  # the first day an extension may be asked

    @property
    def can_extend(self) -> bool:
        return self.pending is None and self.state in (
            SuspensionState.EXTENSION_OPEN,
            SuspensionState.EXPIRED,
        )

    @property
    def way_out(self) -> str:
        if self.pending:
            return f"已申请{self.pending},待县教育局审批"
        if self.state is SuspensionState.EXPIRED:
            return "休学已期满未办理:请申请复学,仍不能复学的申请续休(逾期须说明情况)"
        if self.state is SuspensionState.EXTENSION_OPEN:
            return f"可申请复学,或申请续休(至 {self.until:%Y-%m-%d} 止)"
        return f"到期复学;仍不能复学的自 {self.extension_from:%Y-%m-%d} 起可申请续休"


def expiring_suspensions(session: Session, *, actor: Actor) -> list[SuspensionRow]:
    """Suspended students in scope whose suspension ends within the notice period, or has ended, each with its
    way out; soonest (or longest ended) first."""
    require(session, actor, Action.STATUS_CHANGE_READ)
    day = today()
    policy = get_settings().suspensions
    ends = _ends(day)
    pending = (
        select(StatusChange.student_id, func.max(StatusChange.kind).label("kind"))
        .where(StatusChange.state == ChangeState.SUBMITTED.value)
        .group_by(StatusChange.student_id)
        .subquery()
    )
    rows = session.execute(
        select(Student.id, Student.name, School.name, SchoolClass.code, ends.c.until, pending.c.kind)
        .join(ends, ends.c.student_id == Student.id)
        .join(School, Student.school_id == School.id)
        .outerjoin(SchoolClass, Student.class_id == SchoolClass.id)
        .outerjoin(pending, pending.c.student_id == Student.id)
        .where(
            Student.status == StudentStatus.SUSPENDED.value,
            col(Student.merged_into_id).is_(None),
            student_condition(actor),
            ends.c.until <= day + timedelta(days=policy.notice_days),
        )
        .order_by(ends.c.until, School.name, Student.name)
    )
    result = []
    for sid, name, school, code, until, kind in rows:
        if not suspension_listed(until, day, policy):
            continue
        waiting = ChangeKind(kind).label if kind else None
        result.append(
            SuspensionRow(
                student_id=sid,
                student=name,
                school=school,
                class_name=parse_class_code(code).name if code else "",
                until=until,
                days_left=(until - day).days,
                state=suspension_state(until, day, requested=kind is not None, policy=policy),
                pending=waiting,
                extension_from=extension_window(until, policy)[0],
            )
        )
    return result


def _expired_unhandled(actor: Actor, on: date):  # noqa: ANN202 - a query
    ends = _ends(on)
    return (
        select(Student.school_id, ends.c.student_id, ends.c.until)
        .join(Student, Student.id == ends.c.student_id)
        .where(
            ends.c.until < on,
            col(Student.merged_into_id).is_(None),
            ~_asked(ends, on, WAYS_OUT),
            col(Student.school_id).in_(select(School.id).where(school_condition(actor))),
        )
        .subquery()
    )


def expired_unhandled_by_school(session: Session, *, actor: Actor, on: date | None = None) -> dict[int, int]:
    """School id → the suspensions in scope that had ended by the day (today by default) with neither resumption
    nor extension (nor dropout, death) asked: 休学已期满未办理, for the school's monthly ledger. Counted in SQL."""
    require(session, actor, Action.OVERVIEW_READ)
    found = _expired_unhandled(actor, on or today())
    rows = session.execute(select(found.c.school_id, func.count()).group_by(found.c.school_id))
    return {int(school_id): int(n) for school_id, n in rows}


def expired_unhandled(
    session: Session, *, actor: Actor, on: date | None = None
) -> list[tuple[int, int, date]]:
    """The items behind expired_unhandled_by_school: (school id, student id, end of the suspension)."""
    require(session, actor, Action.OVERVIEW_READ)
    found = _expired_unhandled(actor, on or today())
    rows = session.execute(select(found).order_by(found.c.school_id, found.c.until, found.c.student_id))
    return [(int(school), int(student), until) for school, student, until in rows]


# 请假 that becomes a suspension


@dataclass(frozen=True)
class LeaveRow:
    student_id: int
    student: str
    school: str
    class_name: str
    reason: str
    start: date | None
    until: date | None
    term: str
    level: LeaveLevel | None  # None: no dates (an old leave) or under every limit
    over_on: date | None
    why: str

    @property
    def dates(self) -> str:
        if self.start is None or self.until is None:
            return "未填日期"
        return f"{self.start:%Y-%m-%d} 至 {self.until:%Y-%m-%d}({(self.until - self.start).days + 1} 天)"

    @property
    def verdict(self) -> str:
        if self.level is None:
            return "请补填请假日期" if self.start is None or self.until is None else "未超过上限"
        assert self.over_on is not None
        return f"{self.level.label}({self.why},{self.over_on:%Y-%m-%d} 起)"


def _current_term(session: Session) -> TermDates | None:
    return term_on(session, today())


def leaves(session: Session, *, actor: Actor) -> list[LeaveRow]:
    """Enrolled children in scope on leave in the current term (or on a leave still running into it), with the
    day their leave goes over a limit; those over or near it first, then undated ones."""
    require(session, actor, Action.STATUS_CHANGE_READ)
    current = _current_term(session)
    if current is None:
        return []
    day, policy = today(), get_settings().suspensions
    by_start = {t.start: t for t in terms(session)}
    query = (
        select(
            Student.id,
            Student.name,
            School.name,
            SchoolClass.code,
            TermReport.leave_reason,
            TermReport.leave_from,
            TermReport.leave_until,
            Term.start_date,
        )
        .join(TermReport, TermReport.student_id == Student.id)
        .join(Term, TermReport.term_id == Term.id)
        .join(School, Student.school_id == School.id)
        .outerjoin(SchoolClass, Student.class_id == SchoolClass.id)
        .where(
            col(TermReport.leave_reason).is_not(None),
            Student.status == StudentStatus.ENROLLED.value,
            col(Student.merged_into_id).is_(None),
            student_condition(actor),
            or_(
                Term.start_date == current.start,
                and_(col(TermReport.leave_until).is_not(None), col(TermReport.leave_until) >= current.start),
            ),
        )
        .order_by(School.name, SchoolClass.code, Student.name)
    )
    rows = []
    for sid, name, school, code, reason, start, until, term_start in session.execute(query):
        term = by_start[term_start]
        limit = leave_limit(start, until, term, policy) if start and until else None
        rows.append(
            LeaveRow(
                student_id=sid,
                student=name,
                school=school,
                class_name=parse_class_code(code).name if code else "",
                reason=reason,
                start=start,
                until=until,
                term=term.name,
                level=leave_level(limit, day, policy) if limit else None,
                over_on=limit.over_on if limit else None,
                why=limit.why if limit else "",
            )
        )
    order = {LeaveLevel.OVER: 0, LeaveLevel.SOON: 1, LeaveLevel.PLANNED: 2, None: 3}
    return sorted(rows, key=lambda r: (order[r.level], r.start is not None))


SUSPENSION_COLUMNS = ["学校", "班级", "学生", "休学截止", "距期满", "状态", "办理"]
LEAVE_COLUMNS = ["学校", "班级", "学生", "请假事由", "请假日期", "学期", "提示"]


def suspension_frame(rows: list[SuspensionRow]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (
                r.school,
                r.class_name,
                r.student,
                f"{r.until:%Y-%m-%d}",
                f"已期满 {-r.days_left} 天" if r.days_left < 0 else f"{r.days_left} 天",
                r.state.label,
                r.way_out,
            )
            for r in rows
        ],
        columns=SUSPENSION_COLUMNS,
    )


def leave_frame(rows: list[LeaveRow]) -> pd.DataFrame:
    return pd.DataFrame(
        [(r.school, r.class_name, r.student, r.reason, r.dates, r.term, r.verdict) for r in rows],
        columns=LEAVE_COLUMNS,
    )


def export_suspensions(session: Session, *, actor: Actor, search: str = "") -> bytes:
    """The ending suspensions and the long leaves in scope as one xlsx of two sheets, audited."""
    ending = [r for r in expiring_suspensions(session, actor=actor) if matches(search, r.student, r.school)]
    leave = [r for r in leaves(session, actor=actor) if matches(search, r.student, r.school)]
    return export_tables(
        session,
        actor=actor,
        action=Action.STUDENT_EXPORT,
        sheets={"休学期满": suspension_frame(ending), "请假": leave_frame(leave)},
        title="休学与请假",
        entity_type="student",
        detail=f"筛选:{search}" if search.strip() else "",
    )


def matches(search: str, *texts: str) -> bool:
    """A row matches the search when any of its texts holds it (an empty search matches everything)."""
    needle = search.strip()
    return not needle or any(needle in text for text in texts)


def term_containing(session: Session, day: date) -> TermDates | None:
    """The configured term the day falls in (None in a holiday): a suspension after its midpoint needs a reason."""
    return term_on_day(day, terms(session))


@dataclass(frozen=True)
class Todo:
    """One thing the registrar may ask from a row: what kind of request, for whom, prefilled with what."""

    student_id: int
    student: str
    kind: ChangeKind
    effective: date
    until: date | None
    reason: str

    @property
    def label(self) -> str:
        return f"申请{self.kind.label}:{self.student}"


def todos(ending: list[SuspensionRow], leave: list[LeaveRow]) -> list[Todo]:
    """From the lists: 复学 for every ending suspension with no request waiting, 续休 where it may be asked now,
    休学 for every leave over or near its limit (the registrar still checks the medical certificate)."""
    day = today()
    found = []
    for row in ending:
        if row.pending:
            continue
        back = max(day, row.until + timedelta(days=1))
        found.append(
            Todo(row.student_id, row.student, ChangeKind.RESUMPTION, back, None, "休学期满,申请复学")
        )
        if row.can_extend:
            found.append(
                Todo(
                    row.student_id,
                    row.student,
                    ChangeKind.EXTENSION,
                    row.until + timedelta(days=1),
                    one_year_after(row.until),
                    "休学期满仍不能复学,申请续休",
                )
            )
    for item in leave:
        if item.level in (LeaveLevel.OVER, LeaveLevel.SOON) and item.start and item.until:
            found.append(
                Todo(
                    item.student_id,
                    item.student,
                    ChangeKind.SUSPENSION,
                    item.start,
                    max(item.until, day + timedelta(days=1)),
                    f"请假{item.why},转为休学(原请假事由:{item.reason})",
                )
            )
    return found
