"""学籍异动 as requests: submit (with the 7-working-day deadline), approve or reject, list and count.

Who decides: a transfer between two schools of the system is submitted by the receiving school and
approved by the sending one (籍随人走: the record moves only on approval); every other change is submitted
by the student's school and approved by the county bureau. A registrar never approves their own request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, or_, select, update
from sqlmodel import Session, col

from xueji.audit import record
from xueji.auth import Action, Actor
from xueji.clock import china_day, now, today
from xueji.config import get_settings
from xueji.db import unit_of_work
from xueji.locks import write_lock
from xueji.models import School, SchoolClass, StatusChange, Student, Township
from xueji.rules.class_code import parse_class_code
from xueji.rules.status_changes import (
    ChangeKind,
    ChangeState,
    Document,
    request_problems,
)
from xueji.rules.text_limits import length_problem
from xueji.rules.transfers import missing_proofs
from xueji.rules.vocab import Role, ScopeKind, StudentStatus
from xueji.rules.working_days import WorkCalendar, add_working_days, working_days_left
from xueji.services.cases.opening import apply_status_change
from xueji.services.common import lock_keys
from xueji.services.common.access import deny, require, school_condition, student_in_scope
from xueji.services.common.calendar import school_year_on
from xueji.services.registry import suspensions
from xueji.services.registry.class_sizes import class_size_problem
from xueji.services.registry.transfer_controls import grade_at_suspension, transfer_controls
from xueji.services.registry.transfer_lookup import found_by_lookup
from xueji.services.system import deadlines


class StatusChangeError(Exception):
    """The request cannot be submitted or decided as asked; the message says why, in Chinese."""


_TAKEN = "该申请已被他人处理,请刷新后查看结果"


@dataclass(frozen=True)
class ChangeRequest:
    student_id: int
    kind: ChangeKind
    effective_date: date
    reason: str
    documents: frozenset[Document] = frozenset()
    to_class_id: int | None = None  # transfer in, resumption, return: the class the child will sit in
    destination: str | None = None  # transfer out of the system: where to
    override_reason: str | None = None  # a transfer in grade 6 or 9
    suspension_until: date | None = None
    lookup_id: int | None = None  # a transfer in: the audited ID-number lookup that found the child
    placement_reason: str | None = None  # a placement below the record's grade (留级): why
    proofs_later: str | None = None  # a transfer in missing a required proof: what is missing, when it comes


def work_calendar(session: Session) -> WorkCalendar:
    """The library's arrangements under the administrator's holiday table and the years marked complete."""
    return deadlines.work_calendar(session)


def _grade(session: Session, class_id: int | None) -> int | None:
    if class_id is None:
        return None
    code = session.scalar(select(SchoolClass.code).where(SchoolClass.id == class_id))
    return parse_class_code(code).grade(school_year_on(session, today())) if code else None


@unit_of_work
def submit_change(session: Session, *, actor: Actor, request: ChangeRequest) -> StatusChange:
    """Check the request against the rules, give it its deadline, record it; the student is not changed yet."""
    require(session, actor, Action.STATUS_CHANGE_SUBMIT)
    # The student's write lock first: the one-open-request check cannot race another submission.
    write_lock(session, f"student:{request.student_id}")
    kind = request.kind
    if kind is ChangeKind.TRANSFER_IN:
        student = _transfer_in_student(session, actor, request)
    else:
        student = student_in_scope(session, actor, request.student_id, Action.STATUS_CHANGE_SUBMIT)
    open_request = session.scalar(
        select(StatusChange.id).where(
            StatusChange.student_id == student.id, StatusChange.state == ChangeState.SUBMITTED
        )
    )
    if open_request is not None:
        raise StatusChangeError("该学生已有一份待审批的异动申请,请等待审批结果")
    grade = _grade(session, student.class_id)
    problems = request_problems(
        kind,
        status=StudentStatus(student.status),
        grade=grade,
        documents=request.documents,
        override_reason=request.override_reason,
        effective_date=request.effective_date,
        suspension_until=request.suspension_until,
        placement_grade=_grade(session, request.to_class_id),
        grade_at_suspension=grade_at_suspension(session, student, today()),
        reason=request.reason,
        today=today(),
        destination=request.destination,
        suspension_end=suspensions.current_end(session, student.id),
        term=suspensions.term_containing(session, request.effective_date),
        suspension_policy=get_settings().suspensions,
    )
    controls = transfer_controls(
        session,
        kind=kind,
        student=student,
        day=today(),
        documents=request.documents,
        to_class_id=request.to_class_id,
        override_reason=request.override_reason or "",
        repeat_reason=request.placement_reason or "",
        proofs_later=request.proofs_later or "",
    )
    problems += controls.problems
    if kind.places_in_class and request.to_class_id is not None:
        _check_class_in(session, actor, kind, student, request.to_class_id)
        problem = None if controls.class_full else class_size_problem(session, request.to_class_id)
        if problem:
            problems.append(problem)
    if problem := length_problem(controls.placement_reason, "status_change.placement_reason"):
        problems.append(f"留级原因与证明待补说明合计{problem}")
    if problems:
        raise StatusChangeError(";".join(problems))
    deadline = add_working_days(today(), get_settings().status_change_working_days, work_calendar(session))
    change = StatusChange(
        student_id=student.id,
        kind=kind.value,
        school_id=student.school_id,
        to_school_id=actor.scope_id if kind is ChangeKind.TRANSFER_IN else None,
        to_class_id=request.to_class_id,
        destination=(request.destination or "").strip() or None,
        effective_date=request.effective_date,
        reason=request.reason.strip(),
        documents=",".join(sorted(d.value for d in request.documents)),
        override_reason=(request.override_reason or "").strip() or None,
        placement_reason=controls.placement_reason,
        outside_window=kind.is_transfer and controls.window.outside,
        suspension_until=request.suspension_until,
        submitted_by=actor.user_id,
        due_date=deadline.due,
        due_guessed=not deadline.certain,
    )
    session.add(change)
    session.flush()
    record(
        session,
        actor=actor,
        action="submit",
        entity_type="status_change",
        entity_id=change.id,
        after={
            "kind": kind.value,
            "student_id": student.id,
            "due_date": deadline.due,
            "outside_window": change.outside_window,
            "placement_reason": change.placement_reason,
        },
        detail=f"{kind.label}申请:{request.reason.strip()[:100]}",
    )
    session.commit()
    return change


def _transfer_in_student(session: Session, actor: Actor, request: ChangeRequest) -> Student:
    """The child a receiving school asks for: found by this registrar through the audited ID-number lookup a
    short while ago (never named by internal id alone), in another school of the same county, never its own."""
    if not found_by_lookup(session, actor, request.student_id, request.lookup_id):
        minutes = get_settings().transfer_lookup_minutes
        deny(
            session,
            actor,
            Action.STATUS_CHANGE_SUBMIT.value,
            f"转入申请须先按学生的完整身份证号查询到该学生,并在查询后 {minutes} 分钟内提交;请重新查询后再提交",
            entity_type="student",
            entity_id=request.student_id,
        )
    student = session.get(Student, request.student_id)
    assert student is not None  # the lookup found it, and records are never deleted
    county: dict[int, int] = dict(
        session.execute(
            select(School.id, Township.county_id)
            .join(Township, School.township_id == Township.id)
            .where(col(School.id).in_([student.school_id, actor.scope_id]))
        ).all()
    )
    same_county = len(county) == 2 and len(set(county.values())) == 1
    if actor.scope_kind is not ScopeKind.SCHOOL or student.school_id == actor.scope_id or not same_county:
        deny(
            session,
            actor,
            Action.STATUS_CHANGE_SUBMIT.value,
            "转入申请只能由接收学校为本县其他学校的学生提交",
            entity_type="student",
            entity_id=request.student_id,
        )
    if session.scalar(select(School.closed_on).where(School.id == actor.scope_id)) is not None:
        deny(
            session,
            actor,
            Action.STATUS_CHANGE_SUBMIT.value,
            "本校已撤并或关闭,不能再接收转入学生",
            entity_type="school",
            entity_id=actor.scope_id,
        )
    return student


def _check_class_in(
    session: Session, actor: Actor, kind: ChangeKind, student: Student, class_id: int
) -> None:
    school_id = actor.scope_id if kind is ChangeKind.TRANSFER_IN else student.school_id
    found = session.scalar(
        select(SchoolClass.id).where(SchoolClass.id == class_id, SchoolClass.school_id == school_id)
    )
    if found is None:
        raise StatusChangeError("编入的班级不属于该校")


@unit_of_work
def decide_change(
    session: Session, *, actor: Actor, change_id: int, approve: bool, reason: str = ""
) -> StatusChange:
    """Approve (and apply) or reject a submitted request; of two deciders at once exactly one wins."""
    require(session, actor, Action.STATUS_CHANGE_APPROVE)
    # The student's write lock before reading the request (of two deciders one waits, then sees it decided),
    # then the class it places the child in (its size is checked again): on SQLite the database write lock.
    lock_keys.sqlite_first(session)
    target = session.execute(
        select(StatusChange.student_id, StatusChange.to_class_id).where(StatusChange.id == change_id)
    ).first()
    write_lock(session, f"student:{target.student_id if target else 0}")
    if target is not None and target.to_class_id is not None and approve:
        write_lock(session, f"class:{target.to_class_id}")
    change = session.get(StatusChange, change_id)
    if change is None:
        raise StatusChangeError("没有找到该申请")
    _check_decider(session, actor, change)
    if change.state != ChangeState.SUBMITTED:
        raise StatusChangeError(_TAKEN)
    if not approve and not reason.strip():
        raise StatusChangeError("驳回须填写理由")
    if problem := length_problem(reason.strip(), "status_change.decision_reason"):
        raise StatusChangeError(f"审批意见{problem}")
    kind = ChangeKind(change.kind)
    student = session.get(Student, change.student_id)
    assert student is not None
    if approve:
        if StudentStatus(student.status) not in kind.allowed_from:
            raise StatusChangeError(f"学生当前为“{StudentStatus(student.status).label}”,不能再{kind.label}")
        if kind.places_in_class and change.to_class_id is not None:
            problem = class_size_problem(session, change.to_class_id)
            if problem:
                raise StatusChangeError(problem)
    state = ChangeState.APPROVED if approve else ChangeState.REJECTED
    taken = session.execute(  # type: ignore[attr-defined]
        update(StatusChange)
        .where(StatusChange.id == change_id, StatusChange.state == ChangeState.SUBMITTED)
        .values(
            state=state.value,
            decided_by=actor.user_id,
            decided_at=now(),
            decision_reason=reason.strip() or None,
        )
    ).rowcount
    if taken != 1:  # a second guard: the row itself decides who was first
        session.rollback()
        raise StatusChangeError(_TAKEN)
    before = {"status": student.status, "school_id": student.school_id, "class_id": student.class_id}
    if approve:
        student.status = kind.result.value
        if kind is ChangeKind.TRANSFER_IN:
            assert change.to_school_id is not None
            student.school_id = change.to_school_id  # 籍随人走: the record moves with the child
        if kind.places_in_class:
            student.class_id = change.to_class_id
        student.updated_at = now()
        session.flush()
        apply_status_change(session, actor=actor, change=change, student=student)
    after = {"status": student.status, "school_id": student.school_id, "class_id": student.class_id}
    record(
        session,
        actor=actor,
        action="approve" if approve else "reject",
        entity_type="status_change",
        entity_id=change_id,
        before=before,
        after=after if approve else None,
        detail=f"{kind.label}:{state.label}" + (f",理由:{reason.strip()}" if reason.strip() else ""),
    )
    session.commit()
    session.refresh(change)
    return change


def _sending_school_decides(change: StatusChange) -> bool:
    """A transfer in within the term's window is the sending school's to approve; one outside it the county's."""
    return ChangeKind(change.kind) is ChangeKind.TRANSFER_IN and not change.outside_window


def decider_label(change: StatusChange) -> str:
    """Who decides this request, as the list shows it."""
    return "转出学校" if _sending_school_decides(change) else "县教育局"


def _role_decides(actor: Actor, change: StatusChange, *, school_in_scope: bool) -> bool:
    """Transfers in: the sending school's registrar (outside the term's transfer window: the county bureau);
    everything else: the county bureau over the school."""
    if actor.role is Role.SYSTEM:
        return True
    if _sending_school_decides(change):
        return actor.role is Role.REGISTRAR and actor.scope_id == change.school_id
    return actor.role is Role.COUNTY_OFFICER and school_in_scope


def _own(actor: Actor, change: StatusChange) -> bool:
    return actor.role is not Role.SYSTEM and change.submitted_by == actor.user_id


def may_decide(actor: Actor, change: StatusChange, *, school_in_scope: bool) -> bool:
    """Whether the actor decides this request: by role and scope, and never a request they submitted."""
    return _role_decides(actor, change, school_in_scope=school_in_scope) and not _own(actor, change)


def _check_decider(session: Session, actor: Actor, change: StatusChange) -> None:
    in_scope = session.scalar(select(School.id).where(School.id == change.school_id, school_condition(actor)))
    kind = ChangeKind(change.kind)
    if not _role_decides(actor, change, school_in_scope=in_scope is not None):
        if _sending_school_decides(change):
            message = "转入申请由转出学校的学籍管理员审批"
        elif change.outside_window:
            message = f"窗口期外的{kind.label}申请由县教育局审批"
        else:
            message = f"{kind.label}申请由县教育局审批"
    elif _own(actor, change):
        message = "不能审批自己提交的申请"
    else:
        return
    deny(
        session,
        actor,
        Action.STATUS_CHANGE_APPROVE.value,
        message,
        entity_type="status_change",
        entity_id=change.id,
    )


@dataclass(frozen=True)
class ChangeRow:
    id: int
    student: str
    school: str
    kind: str
    state: str
    submitted_at: date
    due_date: date
    days_left: int | None  # working days; negative when overdue; None once decided
    due_guessed: bool
    reason: str
    can_decide: bool
    outside_window: bool = False  # a transfer after the term's transfer window (窗口期外)
    decider: str = ""  # who decides: 转出学校 or 县教育局
    note: str = ""  # what the approver must see: 特殊情况说明, 留级 and 证明待补, proofs missing


_DOCUMENT_KEYS = frozenset(d.value for d in Document)


def _note(change: StatusChange, kind: ChangeKind) -> str:
    documents = [Document(d) for d in change.documents.split(",") if d in _DOCUMENT_KEYS]
    missing = missing_proofs(kind, documents, get_settings().transfer_proofs)
    parts = [
        f"特殊情况:{change.override_reason}" if change.override_reason else "",
        change.placement_reason or "",
        "缺" + "、".join(d.label for d in missing) if missing else "",
    ]
    return ";".join(p for p in parts if p)


def list_changes(session: Session, *, actor: Actor, open_only: bool = False) -> list[ChangeRow]:
    """The requests the actor submits or decides, newest first, with working days left on open ones."""
    require(session, actor, Action.STATUS_CHANGE_READ)
    schools = select(School.id).where(school_condition(actor))
    query = (
        select(StatusChange, Student.name, School.name)
        .join(Student, StatusChange.student_id == Student.id)
        .join(School, StatusChange.school_id == School.id)
        .where(or_(col(StatusChange.school_id).in_(schools), col(StatusChange.to_school_id).in_(schools)))
        .order_by(col(StatusChange.id).desc())
    )
    if open_only:
        query = query.where(StatusChange.state == ChangeState.SUBMITTED)
    calendar = work_calendar(session)
    day = today()
    in_scope = set(session.scalars(schools))
    rows = []
    for change, student, school in session.execute(query):
        open_ = change.state == ChangeState.SUBMITTED
        kind = ChangeKind(change.kind)
        decider = may_decide(actor, change, school_in_scope=change.school_id in in_scope)
        rows.append(
            ChangeRow(
                id=change.id,
                student=student,
                school=school,
                kind=kind.label,
                state=ChangeState(change.state).label,
                submitted_at=china_day(change.submitted_at),
                due_date=change.due_date,
                days_left=working_days_left(day, change.due_date, calendar) if open_ else None,
                due_guessed=change.due_guessed,
                reason=change.reason,
                can_decide=open_ and decider,
                outside_window=change.outside_window,
                decider=decider_label(change),
                note=_note(change, kind),
            )
        )
    return rows


def overdue_by_school(session: Session, *, actor: Actor) -> list[tuple[str, int, int]]:
    """(school, open requests, overdue ones) for the schools in scope: counted in SQL."""
    require(session, actor, Action.STATUS_CHANGE_READ)
    overdue = func.sum(case((StatusChange.due_date < today(), 1), else_=0))
    rows = session.execute(
        select(School.name, func.count(StatusChange.id), overdue)
        .join(StatusChange, StatusChange.school_id == School.id)
        .where(school_condition(actor), StatusChange.state == ChangeState.SUBMITTED)
        .group_by(School.name)
        .order_by(School.name)
    )
    return [(name, int(total), int(late or 0)) for name, total, late in rows]
