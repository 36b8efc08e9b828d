"""The ladder moved by other services and by the nightly pass: a case opens (its school step opens), the
registry's 复学 is approved (the return, then the follow-ups), a suspected dropout is confirmed (the ladder goes on
in the dropout case; a child who had returned starts a new round), a case is closed by the system (its open step ends), and advance() (the first step of cases
with none, escalation of steps past their deadline)."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import Select, delete, exists, func, insert, literal, select, update
from sqlmodel import Session, col

from xueji.audit import Entry, record, record_many
from xueji.auth import Action, Actor
from xueji.clock import now, today
from xueji.db import unit_of_work
from xueji.locks import write_lock
from xueji.models import Case, CaseEvent, Child, LadderStep, Notice
from xueji.rules.cases import CaseCategory, CaseStatus
from xueji.rules.ladder import POSITION, Step, StepState, escalation, follow_up_due
from xueji.rules.working_days import WorkCalendar
from xueji.services.cases.ladder_base import (
    EVENT,
    add_step,
    due_for,
    end_step,
    event,
    next_round,
    open_step,
    policy,
    steps_of,
)
from xueji.services.common import lock_keys
from xueji.services.common.access import child_condition, require
from xueji.services.common.calendar import term_on
from xueji.services.system.deadlines import work_calendar

_OUT = [c.value for c in CaseCategory if c.out_of_school]


def start_in(session: Session, *, actor: Actor, case: Case) -> None:
    """An out-of-school case opened (or reopened): its school step opens, unless a step is open already."""
    assert case.id is not None
    if not CaseCategory(case.category).out_of_school or open_step(session, case.id) is not None:
        return
    due = due_for(session, Step.SCHOOL, today())
    add_step(session, case.id, Step.SCHOOL, seq=next_round(session, case.id), opened_on=today(), due_on=due)
    event(session, case.id, actor, f"劝返复学:{Step.SCHOOL.label}开始,期限 {due:%Y-%m-%d}")


def start_many(session: Session, *, actor: Actor, case_ids: Select) -> int:
    """The school step for each of these cases that is out of school, not closed and has no step at all (set-
    based: an import that opens many cases stays a few statements). Returns how many opened."""
    due = due_for(session, Step.SCHOOL, today())
    waiting = select(Case.id).where(
        col(Case.id).in_(case_ids),
        col(Case.category).in_(_OUT),
        Case.status != CaseStatus.CLOSED.value,
        ~exists(select(LadderStep.id).where(LadderStep.case_id == Case.id)),
    )
    count = session.scalar(select(func.count()).select_from(waiting.subquery())) or 0
    if not count:
        return 0
    detail = f"劝返复学:{Step.SCHOOL.label}开始,期限 {due:%Y-%m-%d}"
    session.execute(
        insert(CaseEvent).from_select(
            ["case_id", "at", "user_id", "kind", "detail"],
            select(Case.id, literal(now()), literal(actor.user_id), literal(EVENT), literal(detail)).where(
                col(Case.id).in_(waiting)
            ),
        )
    )
    session.execute(
        insert(LadderStep).from_select(
            ["case_id", "step", "seq", "opened_on", "due_on", "state"],
            select(
                Case.id,
                literal(Step.SCHOOL.value),
                literal(1),
                literal(today()),
                literal(due),
                literal(StepState.OPEN.value),
            ).where(col(Case.id).in_(waiting)),
        )
    )
    return int(count)


def since_return(steps: list[LadderStep]) -> tuple[LadderStep | None, list[LadderStep]]:
    """The latest return of the current round (None if the child has not returned since the last school step)
    and the steps after it."""
    for index in range(len(steps) - 1, -1, -1):
        row = steps[index]
        if row.step == Step.RETURNED.value:
            return row, steps[index + 1 :]
        if row.step == Step.SCHOOL.value:
            return None, []
    return None, []


def open_follow_up(session: Session, case_id: int, returned_on: date, number: int) -> LadderStep | None:
    """The number-th follow-up after a return, if the policy has one."""
    term = term_on(session, returned_on)
    due = follow_up_due(returned_on, number, policy(), term_end=term.end if term else None, today=today())
    if due is None:
        return None
    return add_step(session, case_id, Step.FOLLOW_UP, seq=number, opened_on=today(), due_on=due)


CLOSURE_WITHDRAWN = "复学后撤回,须重新申请"


def returned_in(
    session: Session, *, actor: Actor, case: Case, on: date, status_change_id: int | None
) -> None:
    """The registry's 复学/劝返复学 was approved (or the return recorded by hand): the open step ends as done,
    the return is recorded, the first follow-up opens and the case stays open as 已返校/稳定 until 销号. A return
    already recorded in this round is only linked to the status change."""
    assert case.id is not None
    if not CaseCategory(case.category).out_of_school or case.status == CaseStatus.CLOSED.value:
        return
    steps = steps_of(session, case.id)
    returned, _ = since_return(steps)
    if returned is not None:
        if status_change_id is not None and returned.status_change_id is None:
            returned.status_change_id = status_change_id
        return
    current = open_step(session, case.id)
    withdrawn = ""
    if current is not None and Step(current.step) is Step.CLOSURE:
        # a 销号 request never ends done without a decision: withdrawn, to be asked again after the follow-ups
        end_step(session, current, StepState.REJECTED, actor, reason=CLOSURE_WITHDRAWN)
        withdrawn = f";待审批的销号申请{CLOSURE_WITHDRAWN}"
    elif current is not None:
        end_step(session, current, StepState.DONE, actor, reason="已复学")
    rounds = sum(1 for s in steps if s.step == Step.RETURNED.value) + 1
    add_step(
        session,
        case.id,
        Step.RETURNED,
        seq=rounds,
        opened_on=on,
        due_on=on,
        state=StepState.DONE.value,
        ended_on=on,
        ended_by=actor.user_id,
        status_change_id=status_change_id,
    )
    follow = open_follow_up(session, case.id, on, 1)
    case.status = CaseStatus.STABLE.value
    how = f"学籍异动 #{status_change_id} 已批准" if status_change_id else "人工登记"
    then = f",第 1 次返校跟踪期限 {follow.due_on:%Y-%m-%d}" if follow else ""
    detail = f"劝返复学:{on:%Y-%m-%d} 已复学({how}){then}{withdrawn}"
    event(session, case.id, actor, detail)
    record(
        session,
        actor=actor,
        action="ladder.return",
        entity_type="case",
        entity_id=case.id,
        after={"returned_on": on.isoformat(), "status_change_id": status_change_id},
        detail=detail,
    )


def carry_ladder(session: Session, *, old_case_id: int, new_case_id: int, actor: Actor | None = None) -> None:
    """A suspected dropout confirmed: the ladder goes on in the dropout case (its rows re-pointed in one
    UPDATE; audited as ladder.carry). When both cases have an open step, the one further along the ladder
    stays open and the other ends; the dropout case's own first school step, with no history and no notice, is
    removed with its start event rather than ended. A follow-up after a return does not go on: see
    dropped_again."""
    if old_case_id == new_case_id or not steps_of(session, old_case_id):
        return
    old_open, new_open = open_step(session, old_case_id), open_step(session, new_case_id)
    if old_open is not None and new_open is not None:
        keep_old = POSITION[Step(old_open.step)] >= POSITION[Step(new_open.step)]
        drop = new_open if keep_old else old_open
        fresh = steps_of(session, new_case_id) == [new_open] and new_open.step == Step.SCHOOL.value
        has_notice = session.scalar(select(Notice.id).where(Notice.step_id == drop.id))
        if drop is new_open and fresh and has_notice is None:
            session.execute(
                delete(CaseEvent).where(
                    col(CaseEvent.case_id) == new_case_id,
                    col(CaseEvent.kind) == EVENT,
                    col(CaseEvent.detail).startswith(f"劝返复学:{Step.SCHOOL.label}开始"),
                )
            )
            session.delete(new_open)
            session.flush()
        else:
            end_step(session, drop, StepState.DONE, actor, reason="确认辍学,劝返复学步骤并入辍学个案")
    session.execute(
        update(LadderStep).where(col(LadderStep.case_id) == old_case_id).values(case_id=new_case_id)
    )
    session.execute(update(Notice).where(col(Notice.case_id) == old_case_id).values(case_id=new_case_id))
    event(session, old_case_id, actor, f"劝返复学:确认辍学,劝返复学步骤并入辍学个案 #{new_case_id}")
    event(session, new_case_id, actor, f"劝返复学:由疑似辍学个案 #{old_case_id} 并入,劝返复学步骤继续")
    if actor is not None:
        record(
            session,
            actor=actor,
            action="ladder.carry",
            entity_type="case",
            entity_id=new_case_id,
            before={"case_id": old_case_id},
            after={"case_id": new_case_id},
            detail=f"确认辍学:疑似辍学个案 #{old_case_id} 的劝返复学步骤并入辍学个案 #{new_case_id}",
        )


def dropped_again(session: Session, *, actor: Actor, case: Case) -> None:
    """A dropout approved in the registry for a child who had returned in this round (a follow-up open, the
    follow-ups settled or a 销号 request waiting): the follow-up ends not in school (a waiting request ends
    refused) and a new round of the school's step opens; the case is followed again."""
    assert case.id is not None
    if not CaseCategory(case.category).out_of_school or case.status == CaseStatus.CLOSED.value:
        return
    returned, _ = since_return(steps_of(session, case.id))
    if returned is None:
        return
    current = open_step(session, case.id)
    if current is not None and Step(current.step) is Step.FOLLOW_UP:
        current.in_school = False
        end_step(session, current, StepState.DONE, actor, reason="学籍异动确认辍学")
    elif current is not None:
        end_step(session, current, StepState.REJECTED, actor, reason="学籍异动确认辍学,须重新劝返")
    case.status = CaseStatus.FOLLOWING.value
    due = due_for(session, Step.SCHOOL, today())
    add_step(session, case.id, Step.SCHOOL, seq=next_round(session, case.id), opened_on=today(), due_on=due)
    detail = f"劝返复学:复学后经学籍异动确认辍学,重新开始{Step.SCHOOL.label},期限 {due:%Y-%m-%d}"
    event(session, case.id, actor, detail)
    record(
        session,
        actor=actor,
        action="ladder.dropped_again",
        entity_type="case",
        entity_id=case.id,
        after={"step": Step.SCHOOL.value},
        detail=detail,
    )


def end_open(session: Session, *, actor: Actor, case: Case, reason: str) -> None:
    """A case closed by the system (death, transfer out) or by an approved 销号: its open step ends."""
    assert case.id is not None
    current = open_step(session, case.id)
    if current is not None:
        end_step(session, current, StepState.DONE, actor, reason=reason)
        event(session, case.id, actor, f"劝返复学:{Step(current.step).label}结束({reason})")


# ---- the nightly pass --------------------------------------------------------------------------------------


def _in_scope(actor: Actor) -> Select:
    return select(Case.id).join(Child, Case.child_id == Child.id).where(child_condition(actor))


def escalate(
    session: Session, actor: Actor, row: LadderStep, calendar: WorkCalendar | None = None
) -> Step | None:
    """Escalate one open step if its deadline has passed; returns the step that opened."""
    found = escalation(
        Step(row.step),
        StepState(row.state),
        row.due_on,
        today(),
        served_on=row.served_on,
        comply_by=row.comply_by,
    )
    if found is None:
        return None
    end_step(session, row, StepState.ESCALATED, actor, reason=found.reason)
    due = due_for(session, found.to, today(), calendar)
    add_step(session, row.case_id, found.to, seq=row.seq, opened_on=today(), due_on=due)
    event(
        session,
        row.case_id,
        actor,
        f"劝返复学:{Step(row.step).label}{found.reason};{found.to.label}开始,期限 {due:%Y-%m-%d}",
    )
    return found.to


@unit_of_work
def advance(session: Session, *, actor: Actor) -> dict[str, int]:
    """The nightly pass (xueji ladder advance; also run by xueji notify): open the first step of out-of-school
    cases that have none, escalate steps past their deadline. Idempotent; every escalation audited, and the
    pass in one entry with its counts."""
    require(session, actor, Action.LADDER_COUNTY)
    lock_keys.sqlite_first(session)
    scope = _in_scope(actor)
    overdue = (
        LadderStep.state == StepState.OPEN.value,
        col(LadderStep.step).in_([Step.SCHOOL.value, Step.TOWNSHIP.value]),
        col(LadderStep.due_on) < today(),
        col(LadderStep.case_id).in_(scope),
    )
    # The write lock of each overdue step's person, as every ladder action by hand takes it: an escalation and a
    # user's step never cross. (A case with no step yet is started here; nobody acts on its ladder before.)
    people = session.execute(
        select(Child.id, Child.student_id)
        .join(Case, Case.child_id == Child.id)
        .join(LadderStep, LadderStep.case_id == Case.id)
        .where(*overdue)
    ).all()
    if people:
        write_lock(session, *{f"student:{s}" if s is not None else f"child:{c}" for c, s in people})
    started = start_many(session, actor=actor, case_ids=scope)
    calendar = work_calendar(session)
    late = list(
        session.scalars(
            select(LadderStep)
            .where(
                *overdue,
                col(LadderStep.case_id).in_(
                    select(Case.id).where(col(Case.child_id).in_([c for c, _ in people]))
                ),
            )
            .order_by(col(LadderStep.id))
        )
    )
    moved: Counter[Step] = Counter()
    entries = []
    for row in late:
        before = Step(row.step)
        to = escalate(session, actor, row, calendar)
        if to is None:
            continue
        moved[to] += 1
        entries.append(
            Entry(
                "ladder.escalate",
                entity_type="case",
                entity_id=row.case_id,
                before={"step": before.value},
                after={"step": to.value},
                detail=f"{before.label}{row.reason}",
            )
        )
    if entries:
        record_many(session, actor=actor, entries=entries)
    counts = {
        "started": started,
        "to_township": moved[Step.TOWNSHIP],
        "to_county": moved[Step.COUNTY],
    }
    record(
        session,
        actor=actor,
        action="ladder.advance",
        entity_type="case",
        after=counts,
        detail=f"劝返复学每日推进:新开始 {started},升级至乡镇 {counts['to_township']},"
        f"升级至县教育局 {counts['to_county']}",
    )
    session.commit()
    return counts
