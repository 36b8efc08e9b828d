"""The ladder moved by hand, one step at a time, by the step's owner: the school hands the case up, the township
serves its written order, the county records its measures, anyone who owns the step skips it with a reason, the
education line records a return and each follow-up, asks for 销号, and the approver decides. Each write is
checked (permission, scope, the step's owner, the rule), audited (refusals too) and leaves a case event."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlmodel import Session

from xueji.audit import record
from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.db import unit_of_work
from xueji.models import Case, Child, LadderStep, Notice, Student
from xueji.rules.cases import CaseCategory, CaseStatus, CloseReason, Closing, closing_problems
from xueji.rules.ladder import (
    EDUCATION_LINE,
    OWN_TOWNSHIP_STEPS,
    CountyMeasure,
    FollowUpDone,
    Step,
    StepState,
    closure_problems,
    follow_up_problem,
    hand_up_problems,
    next_step,
    owner_label,
    owner_roles,
    serve_problems,
    skip_problems,
)
from xueji.rules.notices import NoticeKind
from xueji.rules.vocab import Role, StudentStatus
from xueji.services.cases.ladder_base import (
    LadderError,
    add_step,
    attempts_since,
    audit,
    day_problem,
    due_for,
    end_step,
    event,
    load_case,
    next_round,
    open_step,
    policy,
    refuse,
    round_start,
    steps_of,
)
from xueji.services.cases.ladder_flow import open_follow_up, returned_in, since_return
from xueji.services.cases.opening import set_closed
from xueji.services.common.access import student_in_scope

CLOSURE_SEPARATOR = ";接收学校:"


def _case(session: Session, actor: Actor, case_id: int, action: Action, what: str) -> tuple[Case, Child]:
    try:
        return load_case(session, actor, case_id, action)
    except LadderError as exc:
        refuse(session, actor, what, case_id, str(exc))


def _current(session: Session, actor: Actor, case: Case, child: Child, what: str, *steps: Step) -> LadderStep:
    """The open step, which must be one of these; and the actor must own it (the county officer may skip). A
    township official owns the written order and the 销号 decision only for children living in the township
    (a child of another township attending one of its schools is in its scope, but not its step)."""
    assert case.id is not None
    row = open_step(session, case.id)
    if row is None or Step(row.step) not in steps:
        now = Step(row.step).label if row else "无进行中的步骤"
        wanted = "、".join(s.label for s in steps)
        refuse(session, actor, what, case.id, f"该个案当前为“{now}”,不在“{wanted}”步骤")
    step = Step(row.step)
    allowed = owner_roles(step, policy()) | {Role.SYSTEM}
    if what == "skip":
        allowed |= {Role.COUNTY_OFFICER}
    if actor.role not in allowed:
        refuse(session, actor, what, case.id, f"“{step.label}”由{owner_label(step, policy())}办理")
    if not owns_township_step(actor, step, child):
        refuse(session, actor, what, case.id, f"“{step.label}”由该儿童户籍所在乡镇办理")
    return row


def owns_township_step(actor: Actor, step: Step, child: Child) -> bool:
    """False for a township official on another township's child's written order or 销号 decision."""
    if actor.role is not Role.TOWNSHIP_OFFICIAL or step not in OWN_TOWNSHIP_STEPS:
        return True
    return child.township_id == actor.scope_id


def _open_next(session: Session, actor: Actor, case_id: int, step: Step, seq: int) -> LadderStep:
    due = due_for(session, step, today())
    return add_step(session, case_id, step, seq=seq, opened_on=today(), due_on=due)


@unit_of_work
def hand_up(session: Session, *, actor: Actor, case_id: int, note: str) -> None:
    """The school's step is done after at least N recorded return attempts: the township's step opens."""
    case, child = _case(session, actor, case_id, Action.VISIT_LOG, "hand_up")
    row = _current(session, actor, case, child, "hand_up", Step.SCHOOL)
    assert child.id is not None
    attempts = attempts_since(session, child.id, round_start(case.opened_on, row))
    problems = hand_up_problems(attempts, policy(), note)
    if problems:
        refuse(session, actor, "hand_up", case_id, ";".join(problems))
    row.detail = note.strip()[:500]
    end_step(session, row, StepState.DONE, actor)
    township = _open_next(session, actor, case_id, Step.TOWNSHIP, row.seq)
    detail = f"劝返复学:学校已劝返 {attempts} 次,提请乡镇({note.strip()});乡镇书面限期通知期限 {township.due_on:%Y-%m-%d}"
    event(session, case_id, actor, detail)
    audit(
        session, actor, "hand_up", case_id, detail, {"return_attempts": attempts, "step": Step.TOWNSHIP.value}
    )
    session.commit()


@unit_of_work
def skip_step(session: Session, *, actor: Actor, case_id: int, reason: str) -> None:
    """Pass over the open step (the school's, the township's, a follow-up) with a reason; the next opens."""
    case, child = _case(session, actor, case_id, Action.CASE_READ, "skip")
    row = _current(session, actor, case, child, "skip", *Step)
    step = Step(row.step)
    problems = skip_problems(
        step,
        reason,
        role=actor.role if actor.role is not Role.SYSTEM else Role.COUNTY_OFFICER,
        policy=policy(),
    )
    if problems:
        refuse(session, actor, "skip", case_id, ";".join(problems))
    end_step(session, row, StepState.SKIPPED, actor, reason=reason)
    then = ""
    if step is Step.FOLLOW_UP:
        returned, _ = since_return(steps_of(session, case_id))
        follow = open_follow_up(session, case_id, returned.opened_on, row.seq + 1) if returned else None
        then = (
            f";第 {follow.seq} 次返校跟踪期限 {follow.due_on:%Y-%m-%d}" if follow else ";返校跟踪已全部完成"
        )
    else:
        to = next_step(step)
        assert to is not None
        opened = _open_next(session, actor, case_id, to, row.seq)
        then = f";{to.label}开始,期限 {opened.due_on:%Y-%m-%d}"
    name = f"第 {row.seq} 次{step.label}" if step is Step.FOLLOW_UP else step.label
    detail = f"劝返复学:跳过{name}(原因:{reason.strip()}){then}"
    event(session, case_id, actor, detail)
    audit(session, actor, "skip", case_id, detail, {"step": step.value, "reason": reason.strip()})
    session.commit()


@unit_of_work
def serve_order(
    session: Session, *, actor: Actor, case_id: int, served_on: date, served_to: str, comply_by: date
) -> None:
    """The township's written order was served (LADDER_ORDER): needs the order notice generated for this step.
    The step's deadline becomes the time limit the order gave."""
    case, child = _case(session, actor, case_id, Action.LADDER_ORDER, "serve")
    row = _current(session, actor, case, child, "serve", Step.TOWNSHIP)
    notice = session.scalar(
        select(Notice.number).where(Notice.step_id == row.id, Notice.kind == NoticeKind.ORDER.value)
    )
    has_notice = session.scalar(
        select(Notice.id).where(Notice.step_id == row.id, Notice.kind == NoticeKind.ORDER.value)
    )
    problems = serve_problems(
        has_notice=has_notice is not None,
        served_on=served_on,
        served_to=served_to,
        comply_by=comply_by,
        opened_on=row.opened_on,
        today=today(),
        already_served=row.served_on is not None,
    )
    if problems:
        refuse(session, actor, "serve", case_id, ";".join(problems))
    row.served_on, row.served_to, row.comply_by = served_on, served_to.strip(), comply_by
    row.due_on = comply_by
    number = f"({notice})" if notice else ""
    detail = (
        f"劝返复学:限期入学/复学通知书{number}已于 {served_on:%Y-%m-%d} 送达 {served_to.strip()},"
        f"限期 {comply_by:%Y-%m-%d} 前复学"
    )
    event(session, case_id, actor, detail)
    audit(
        session,
        actor,
        "serve",
        case_id,
        detail,
        {"served_on": served_on.isoformat(), "comply_by": comply_by.isoformat()},
    )
    session.commit()


@unit_of_work
def record_measure(
    session: Session, *, actor: Actor, case_id: int, measure: CountyMeasure, detail: str, on: date
) -> None:
    """The county's measures (LADDER_COUNTY): the step stays open until the child returns, no longer overdue."""
    case, child = _case(session, actor, case_id, Action.LADDER_COUNTY, "measure")
    row = _current(session, actor, case, child, "measure", Step.COUNTY)
    problems = [p for p in [day_problem(on, row.opened_on, "措施日期")] if p]
    if not detail.strip():
        problems.append("请写明采取的措施")
    text = f"{on:%Y-%m-%d} {measure.label}:{detail.strip()}"
    combined = f"{row.detail};{text}" if row.detail else text
    if len(combined) > 500:
        problems.append(f"措施记录累计不超过 500 字(现有 {len(combined)} 字)")
    if problems:
        refuse(session, actor, "measure", case_id, ";".join(problems))
    row.measure, row.detail = measure.value, combined
    said = f"劝返复学:县教育局采取{text}"
    event(session, case_id, actor, said)
    audit(session, actor, "measure", case_id, said, {"measure": measure.value, "on": on.isoformat()})
    session.commit()


def _link_student(session: Session, actor: Actor, case_id: int, child: Child, action: Action) -> None:
    """The child's registry record must be 在籍; a child with none is linked to the enrolled record of the same
    ID number, which must be in the actor's scope (the link audited, before and after)."""
    student = session.get(Student, child.student_id) if child.student_id else None
    if student is None and child.id_number:
        found = session.scalar(
            select(Student.id).where(
                Student.id_number == child.id_number,
                Student.status == StudentStatus.ENROLLED.value,
                Student.merged_into_id == None,  # noqa: E711
            )
        )
        if found is not None:
            student = student_in_scope(session, actor, found, action)  # audited and refused outside it
            other = session.scalar(select(Child.id).where(Child.student_id == student.id))
            if other is not None and other != child.id:
                refuse(
                    session,
                    actor,
                    "return",
                    case_id,
                    "该身份证号的学籍已关联另一名儿童,请在该儿童的个案中登记",
                )
            before = {"student_id": child.student_id, "school_id": child.school_id}
            child.student_id = student.id
            child.school_id = student.school_id
            record(
                session,
                actor=actor,
                action="ladder.link_student",
                entity_type="child",
                entity_id=child.id,
                before=before,
                after={"student_id": student.id, "school_id": student.school_id},
                detail=f"登记复学:按身份证号关联在籍学籍 #{student.id}",
            )
    if student is None or student.status != StudentStatus.ENROLLED.value:
        refuse(session, actor, "return", case_id, "该儿童尚无在籍学籍:请先办理入学/复学")


@unit_of_work
def record_return(session: Session, *, actor: Actor, case_id: int, on: date) -> None:
    """Back in school, recorded by hand: the child's registry record must be 在籍 (linked by ID number when the
    child had none); the first follow-up opens."""
    action = Action.VISIT_LOG if actor.can(Action.VISIT_LOG) else Action.CASE_MANAGE
    case, child = _case(session, actor, case_id, action, "return")
    assert case.id is not None
    returned, _ = since_return(steps_of(session, case.id))
    current = open_step(session, case.id)
    if returned is not None or (current is not None and Step(current.step) is Step.CLOSURE):
        refuse(session, actor, "return", case_id, "该个案已登记复学")
    problem = day_problem(on, case.opened_on, "复学日期")
    if problem:
        refuse(session, actor, "return", case_id, problem)
    _link_student(session, actor, case_id, child, action)
    returned_in(session, actor=actor, case=case, on=on, status_change_id=None)
    session.commit()


@unit_of_work
def record_follow_up(
    session: Session, *, actor: Actor, case_id: int, on: date, in_school: bool, detail: str
) -> None:
    """A follow-up after the return: still in school (the next follow-up opens), or gone again (the case is
    followed again and the school's step opens anew)."""
    case, child = _case(session, actor, case_id, Action.VISIT_LOG, "follow_up")
    row = _current(session, actor, case, child, "follow_up", Step.FOLLOW_UP)
    returned, _ = since_return(steps_of(session, case_id))
    problems = [
        p for p in [day_problem(on, returned.opened_on if returned else row.opened_on, "跟踪日期")] if p
    ]
    early = follow_up_problem(on, row.due_on, row.seq, in_school=in_school)
    if early:
        problems.append(early)
    if not detail.strip():
        problems.append("请写明跟踪情况")
    elif len(detail.strip()) > 500:
        problems.append(f"跟踪情况不超过 500 字(现有 {len(detail.strip())} 字)")
    if problems:
        refuse(session, actor, "follow_up", case_id, ";".join(problems))
    row.in_school, row.detail = in_school, detail.strip()
    end_step(session, row, StepState.DONE, actor, on=on)
    if in_school:
        follow = open_follow_up(session, case_id, returned.opened_on, row.seq + 1) if returned else None
        then = (
            f";第 {follow.seq} 次返校跟踪期限 {follow.due_on:%Y-%m-%d}"
            if follow
            else ";返校跟踪已全部完成,可申请销号"
        )
        said = f"劝返复学:第 {row.seq} 次返校跟踪,在校({detail.strip()}){then}"
    else:
        case.status = CaseStatus.FOLLOWING.value
        school = _open_next(session, actor, case_id, Step.SCHOOL, next_round(session, case_id))
        said = (
            f"劝返复学:第 {row.seq} 次返校跟踪,未在校({detail.strip()});重新开始学校和家庭劝返,"
            f"期限 {school.due_on:%Y-%m-%d}"
        )
    event(session, case_id, actor, said)
    audit(session, actor, "follow_up", case_id, said, {"seq": row.seq, "found_in_school": in_school})
    session.commit()


def _follow_ups(session: Session, case_id: int) -> tuple[bool, list[FollowUpDone]]:
    returned, after = since_return(steps_of(session, case_id))
    done = [
        FollowUpDone(r.seq, StepState(r.state), r.in_school) for r in after if r.step == Step.FOLLOW_UP.value
    ]
    return returned is not None, done


@unit_of_work
def request_closure(
    session: Session,
    *,
    actor: Actor,
    case_id: int,
    reason: CloseReason,
    evidence: str,
    receiving_school: str = "",
) -> None:
    """Ask for 销号; for 已返校就读 every follow-up must be done (or skipped with a reason). The open step (for
    another reason: death, moved away …) ends; the approver's step opens."""
    case, _ = _case(session, actor, case_id, Action.VISIT_LOG, "closure_request")
    if actor.role not in EDUCATION_LINE | {Role.SYSTEM}:
        refuse(session, actor, "closure_request", case_id, "销号由学校(教育线)或乡镇申请")
    current = open_step(session, case_id)
    returned, follow_ups = _follow_ups(session, case_id)
    problems = closing_problems(
        CaseCategory(case.category),
        Closing(reason, evidence, receiving_school),
        opened_on=case.opened_on,
        today=today(),
    )
    problems += closure_problems(
        reason,
        returned=returned,
        follow_ups=follow_ups,
        policy=policy(),
        pending=current is not None and Step(current.step) is Step.CLOSURE,
    )
    if problems:
        refuse(session, actor, "closure_request", case_id, ";".join(problems))
    if current is not None:
        end_step(session, current, StepState.DONE, actor, reason=f"{REQUEST_ENDED}{reason.label}")
    school = receiving_school.strip()
    row = _open_next(session, actor, case_id, Step.CLOSURE, 1)
    row.close_reason, row.requested_by = reason.value, actor.user_id
    row.detail = evidence.strip() + (f"{CLOSURE_SEPARATOR}{school}" if school else "")
    approver = owner_label(Step.CLOSURE, policy())
    said = f"劝返复学:申请销号({reason.label};依据:{evidence.strip()}),待{approver}在 {row.due_on:%Y-%m-%d} 前审批"
    event(session, case_id, actor, said)
    audit(session, actor, "closure_request", case_id, said, {"close_reason": reason.value})
    session.commit()


def closure_parts(detail: str | None) -> tuple[str, str]:
    """A 销号 request's (evidence, receiving school) as stored in its detail."""
    evidence, _, school = (detail or "").partition(CLOSURE_SEPARATOR)
    return evidence, school


REQUEST_ENDED = "申请销号:"  # the reason a 销号 request gives the step it ends


def _reopen_after_rejection(session: Session, actor: Actor, case: Case, closure: LadderStep) -> str:
    """A refused 销号 request: the step it had ended opens again (same kind and round, a fresh deadline; a
    served order and the county's measures kept); with none, a returned child whose follow-ups are settled
    waits as 可申请销号, and a child who had not returned starts a new round of the school's step. Returns the
    words for the case's timeline."""
    assert case.id is not None
    steps = steps_of(session, case.id)
    before = [s for s in steps if (s.id or 0) < (closure.id or 0)]
    ended = before[-1] if before else None
    if (
        ended is not None
        and (ended.reason or "").startswith(REQUEST_ENDED)
        and ended.step != Step.CLOSURE.value
    ):
        step = Step(ended.step)
        if step is Step.FOLLOW_UP:
            returned, _ = since_return(steps)
            row = open_follow_up(session, case.id, returned.opened_on, ended.seq) if returned else None
            if row is not None:
                return f";第 {row.seq} 次{step.label}重新开始,期限 {row.due_on:%Y-%m-%d}"
        else:
            row = _open_next(session, actor, case.id, step, ended.seq)
            row.opened_on = ended.opened_on  # the attempts and the order counted in this step still count
            row.served_on, row.served_to, row.comply_by = ended.served_on, ended.served_to, ended.comply_by
            row.measure, row.detail = ended.measure, ended.detail
            if step is Step.TOWNSHIP and ended.comply_by is not None:
                row.due_on = max(ended.comply_by, today())
            return f";{step.label}重新开始,期限 {row.due_on:%Y-%m-%d}"
    returned, _ = since_return(steps)
    if returned is not None:
        return ";可重新申请销号"
    case.status = CaseStatus.FOLLOWING.value
    school = _open_next(session, actor, case.id, Step.SCHOOL, next_round(session, case.id))
    return f";尚未复学,重新开始{Step.SCHOOL.label},期限 {school.due_on:%Y-%m-%d}"


@unit_of_work
def decide_closure(session: Session, *, actor: Actor, case_id: int, approve: bool, note: str) -> None:
    """The approver (XUEJI_CLOSURE_APPROVER's role, CLOSURE_APPROVE, in scope) approves (the case closes) or
    refuses with a reason (nothing else opens; the requester may ask again)."""
    case, child = _case(session, actor, case_id, Action.CLOSURE_APPROVE, "closure_decide")
    approver = policy().closure_approver
    if actor.role not in (approver, Role.SYSTEM):
        refuse(session, actor, "closure_decide", case_id, f"销号由{approver.label}审批")
    row = _current(session, actor, case, child, "closure_decide", Step.CLOSURE)
    if row.requested_by is not None and row.requested_by == actor.user_id and actor.role is not Role.SYSTEM:
        refuse(session, actor, "closure_decide", case_id, "销号申请人不能审批自己的申请")
    if not approve and not note.strip():
        refuse(session, actor, "closure_decide", case_id, "不批准须写明原因")
    if len(note.strip()) > 300:
        refuse(session, actor, "closure_decide", case_id, f"意见不超过 300 字(现有 {len(note.strip())} 字)")
    reason = CloseReason(row.close_reason or CloseReason.RETURNED.value)
    if approve:
        if note.strip():
            row.reason = note.strip()
        end_step(session, row, StepState.DONE, actor)
        evidence, school = closure_parts(row.detail)
        said = f"劝返复学:销号申请已批准({reason.label})" + (f";{note.strip()}" if note.strip() else "")
        event(session, case_id, actor, said)
        audit(session, actor, "closure_decide", case_id, said, {"approve": True})
        set_closed(session, actor, case, Closing(reason, evidence, school))
    else:
        end_step(session, row, StepState.REJECTED, actor, reason=note)
        said = f"劝返复学:销号申请未批准(原因:{note.strip()})" + _reopen_after_rejection(
            session, actor, case, row
        )
        event(session, case_id, actor, said)
        audit(session, actor, "closure_decide", case_id, said, {"approve": False})
    session.commit()
