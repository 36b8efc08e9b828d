"""The pieces every move on the ladder shares: the policy and calendar, the case and its open step, opening and
ending a step, the case event and the audit entry, and a refusal (audited, raised in Chinese)."""

from __future__ import annotations

from datetime import date
from typing import NoReturn

from sqlalchemy import func, select
from sqlmodel import Session, col

from xueji.audit import record
from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.config import get_settings
from xueji.locks import write_lock
from xueji.models import Case, Child, LadderStep
from xueji.rules.cases import CaseCategory, CaseStatus
from xueji.rules.ladder import LadderPolicy, Step, StepState, step_due
from xueji.rules.working_days import WorkCalendar
from xueji.services.cases.opening import add_event
from xueji.services.common import lock_keys
from xueji.services.common.access import child_in_scope, require
from xueji.services.common.refusals import audit_refusal
from xueji.services.system.deadlines import work_calendar


class LadderError(ValueError):
    """The step cannot be moved as asked; the message says why, in Chinese."""


EVENT = "ladder"  # the case timeline's kind for every move on the ladder


def policy() -> LadderPolicy:
    return get_settings().ladder


def due_for(session: Session, step: Step, opened_on: date, calendar: WorkCalendar | None = None) -> date:
    return step_due(step, opened_on, policy(), calendar or work_calendar(session))


def open_step(session: Session, case_id: int) -> LadderStep | None:
    return session.scalar(
        select(LadderStep).where(LadderStep.case_id == case_id, LadderStep.state == StepState.OPEN.value)
    )


def steps_of(session: Session, case_id: int) -> list[LadderStep]:
    return list(
        session.scalars(select(LadderStep).where(LadderStep.case_id == case_id).order_by(col(LadderStep.id)))
    )


def next_round(session: Session, case_id: int) -> int:
    """The round of a new school step: 1, or one more than the last (a child who left again)."""
    last = session.scalar(
        select(func.max(LadderStep.seq)).where(
            LadderStep.case_id == case_id, LadderStep.step == Step.SCHOOL.value
        )
    )
    return int(last or 0) + 1


def add_step(
    session: Session, case_id: int, step: Step, *, seq: int, opened_on: date, due_on: date, **values: object
) -> LadderStep:
    row = LadderStep(case_id=case_id, step=step.value, seq=seq, opened_on=opened_on, due_on=due_on, **values)
    session.add(row)
    session.flush()
    return row


def end_step(
    session: Session, row: LadderStep, state: StepState, actor: Actor | None, *, on: date | None = None,
    reason: str | None = None,
) -> None:  # fmt: skip
    row.state = state.value
    row.ended_on = on or today()
    row.ended_by = actor.user_id if actor else None
    if reason:
        row.reason = reason.strip()[:300]
    session.flush()  # the open step is gone before the next one opens (one open step per case)


def event(session: Session, case_id: int, actor: Actor | None, detail: str) -> None:
    if actor is None:
        from xueji.models import CaseEvent

        session.add(CaseEvent(case_id=case_id, user_id=None, kind=EVENT, detail=detail[:500]))
        return
    add_event(session, case_id, actor, EVENT, detail)


def audit(
    session: Session, actor: Actor, action: str, case_id: int, detail: str, after: dict | None = None
) -> None:
    record(
        session,
        actor=actor,
        action=f"ladder.{action}",
        entity_type="case",
        entity_id=case_id,
        after=after,
        detail=detail,
    )


def refuse(session: Session, actor: Actor, action: str, case_id: int, message: str) -> NoReturn:
    audit_refusal(
        session, actor, action=f"ladder.{action}", entity_type="case", entity_id=case_id, message=message
    )
    raise LadderError(message)


def load_case(session: Session, actor: Actor, case_id: int, action: Action) -> tuple[Case, Child]:
    """The case (out of school, not closed) and its child, in the actor's scope for the action; the write lock of
    the person it is about taken first (the nightly escalation takes it too, for each step it moves)."""
    require(session, actor, action)
    write_lock(session, lock_keys.person_of_case(session, case_id))
    case = session.get(Case, case_id)
    if case is None:
        raise LadderError("没有找到该个案")
    child = child_in_scope(session, actor, case.child_id, action)
    if not CaseCategory(case.category).out_of_school:
        raise LadderError("只有疑似辍学、辍学个案有劝返复学步骤")
    if case.status == CaseStatus.CLOSED.value:
        raise LadderError("该个案已销号")
    return case, child


def day_problem(on: date, not_before: date, what: str) -> str | None:
    if on > today():
        return f"{what}不能晚于今天"
    if on < not_before:
        return f"{what}不能早于 {not_before:%Y-%m-%d}"
    return None


def round_start(case_opened_on: date, school: LadderStep) -> date:
    """Where a school step's return attempts count from: the case's opening for the first round (attempts logged
    before a step was opened for an older case count), the step's own start for a later round."""
    return min(case_opened_on, school.opened_on) if school.seq == 1 else school.opened_on


def attempts_since(session: Session, child_id: int, since: date) -> int:
    """Return attempts (劝返) recorded for the child on or after a day."""
    from xueji.models import HomeVisit
    from xueji.rules.visits import VisitKind

    return int(
        session.scalar(
            select(func.count()).where(
                HomeVisit.child_id == child_id,
                HomeVisit.kind == VisitKind.RETURN_ATTEMPT.value,
                HomeVisit.visit_date >= since,
            )
        )
        or 0
    )
