"""劝返复学: each out-of-school case's return ladder (rules.ladder), read and moved by its owners. Every write is
checked (permission, scope, the step's owner), audited, and leaves an event on the case's timeline.

The reads are here; the writes are in ladder_steps (by hand) and ladder_flow (called by other services, and the
nightly advance), importable from here under the names of the contract (issue 26)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlmodel import Session, col

from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.models import AppUser, Case, Child, LadderStep, Notice, School, Township, Village
from xueji.rules.cases import CaseCategory, CaseStatus, CloseReason
from xueji.rules.ladder import (
    EDUCATION_LINE,
    SKIPPABLE,
    CountyMeasure,
    Step,
    StepState,
    is_overdue,
    owned_steps,
    owner_label,
    owner_roles,
)
from xueji.rules.notices import NoticeKind
from xueji.rules.vocab import Role
from xueji.services.cases.ladder_base import LadderError, attempts_since, policy, steps_of
from xueji.services.cases.ladder_flow import advance, moved_in, returned_in, since_return, start_in
from xueji.services.cases.ladder_steps import (
    closure_parts,
    decide_closure,
    hand_up,
    record_follow_up,
    record_measure,
    record_return,
    request_closure,
    serve_order,
    skip_step,
)
from xueji.services.common.access import child_condition, child_in_scope, require
from xueji.services.common.exports import export_table

__all__ = [
    "CaseLadder",
    "LadderError",
    "LadderRow",
    "StepView",
    "advance",
    "case_ladder",
    "decide_closure",
    "export_ladder",
    "hand_up",
    "ladder_counts",
    "ladder_rows",
    "moved_in",
    "policy",
    "record_follow_up",
    "record_measure",
    "record_return",
    "request_closure",
    "returned_in",
    "serve_order",
    "skip_step",
    "start_in",
]


@dataclass(frozen=True)
class StepView:
    """One step of a case's ladder, as the timeline shows it."""

    id: int
    step: Step
    seq: int
    state: StepState
    owner: str  # who owns it, in words: 学校(教育线) / 乡镇 / 县教育局
    opened_on: date
    due_on: date
    overdue: bool  # open and past its deadline (for a served order: past the time limit it gave)
    ended_on: date | None = None
    ended_by: str | None = None  # the account's name
    reason: str | None = None
    served_on: date | None = None
    served_to: str | None = None
    comply_by: date | None = None
    measure: CountyMeasure | None = None
    detail: str | None = None
    in_school: bool | None = None
    close_reason: CloseReason | None = None
    status_change_id: int | None = None
    notices: tuple[tuple[int, str, str], ...] = ()  # (notice id, kind label, 文号 or "")


@dataclass(frozen=True)
class CaseLadder:
    case_id: int
    steps: tuple[StepView, ...]  # oldest first
    current: StepView | None  # the open step, if any
    attempts: int  # return attempts (劝返) recorded since the school's step opened
    attempts_needed: int  # the setting (XUEJI_LADDER_ATTEMPTS)
    allowed: frozenset[str] = field(default_factory=frozenset)  # what this actor may do now: "hand_up",
    # "skip", "serve", "measure", "return", "follow_up", "request_closure", "decide_closure"


@dataclass(frozen=True)
class LadderRow:
    """One case on the ladder list."""

    case_id: int
    child: str
    school: str
    township: str
    village: str
    category: str  # label
    step: Step
    seq: int
    owner: str
    opened_on: date
    due_on: date
    overdue: bool


def _view(row: LadderStep, names: dict[int, str], notices: dict[int, list[tuple[int, str, str]]]) -> StepView:
    step = Step(row.step)
    detail = row.detail
    if step is Step.CLOSURE:
        evidence, school = closure_parts(row.detail)
        detail = evidence + (f"(接收学校:{school})" if school else "")
    return StepView(
        id=int(row.id or 0),
        step=step,
        seq=row.seq,
        state=StepState(row.state),
        owner=owner_label(step, policy()),
        opened_on=row.opened_on,
        due_on=row.due_on,
        overdue=is_overdue(step, StepState(row.state), row.due_on, today(), measure=row.measure),
        ended_on=row.ended_on,
        ended_by=names.get(row.ended_by) if row.ended_by else None,
        reason=row.reason,
        served_on=row.served_on,
        served_to=row.served_to,
        comply_by=row.comply_by,
        measure=CountyMeasure(row.measure) if row.measure else None,
        detail=detail,
        in_school=row.in_school,
        close_reason=CloseReason(row.close_reason) if row.close_reason else None,
        status_change_id=row.status_change_id,
        notices=tuple(notices.get(int(row.id or 0), [])),
    )


def _allowed(actor: Actor, case: Case, current: LadderStep | None, returned: bool) -> frozenset[str]:
    """What this actor may do on the case now (the services check again when it is done)."""
    if case.status == CaseStatus.CLOSED.value:
        return frozenset()
    role, system = actor.role, actor.role is Role.SYSTEM
    step = Step(current.step) if current else None
    education = (role in EDUCATION_LINE or system) and actor.can(Action.VISIT_LOG)
    allowed = set()
    if step is Step.SCHOOL and education:
        allowed.add("hand_up")
    if step in SKIPPABLE and (role in owner_roles(step, policy()) or role is Role.COUNTY_OFFICER or system):
        allowed.add("skip")
    if step is Step.TOWNSHIP and actor.can(Action.LADDER_ORDER) and current and current.served_on is None:
        allowed.add("serve")
    if step is Step.COUNTY and actor.can(Action.LADDER_COUNTY):
        allowed.add("measure")
    if not returned and step in (None, Step.SCHOOL, Step.TOWNSHIP, Step.COUNTY):
        if actor.can(Action.VISIT_LOG) or actor.can(Action.CASE_MANAGE):
            allowed.add("return")
    if step is Step.FOLLOW_UP and education:
        allowed.add("follow_up")
    if step is not Step.CLOSURE and education:
        allowed.add("request_closure")
    approver = policy().closure_approver
    if step is Step.CLOSURE and actor.can(Action.CLOSURE_APPROVE) and (role is approver or system):
        allowed.add("decide_closure")
    return frozenset(allowed)


def case_ladder(session: Session, *, actor: Actor, case_id: int) -> CaseLadder:
    """The ladder of one case in the actor's scope (CASE_READ)."""
    require(session, actor, Action.CASE_READ)
    case = session.get(Case, case_id)
    if case is None:
        raise LadderError("没有找到该个案")
    child = child_in_scope(session, actor, case.child_id, Action.CASE_READ)
    rows = steps_of(session, case_id)
    users = {r.ended_by for r in rows if r.ended_by} | {r.requested_by for r in rows if r.requested_by}
    names: dict[int, str] = (
        dict(
            session.execute(select(AppUser.id, AppUser.display_name).where(col(AppUser.id).in_(users))).all()
        )
        if users
        else {}
    )
    notices: dict[int, list[tuple[int, str, str]]] = {}
    for nid, step_id, kind, number in session.execute(
        select(Notice.id, Notice.step_id, Notice.kind, Notice.number)
        .where(col(Notice.step_id).in_([r.id for r in rows]))
        .order_by(col(Notice.id))
    ):
        notices.setdefault(step_id, []).append((nid, NoticeKind(kind).label, number or ""))
    views = tuple(_view(r, names, notices) for r in rows)
    current_row = next((r for r in rows if r.state == StepState.OPEN.value), None)
    current = next((v for v in views if v.state is StepState.OPEN), None)
    school = next((r for r in reversed(rows) if r.step == Step.SCHOOL.value), None)
    returned, _ = since_return(rows)
    assert child.id is not None
    attempts = attempts_since(session, child.id, school.opened_on) if school else 0
    if not CaseCategory(case.category).out_of_school:
        return CaseLadder(case_id, (), None, 0, policy().attempts)
    return CaseLadder(
        case_id=case_id,
        steps=views,
        current=current,
        attempts=attempts,
        attempts_needed=policy().attempts,
        allowed=_allowed(actor, case, current_row, returned is not None),
    )


def _overdue() -> ColumnElement[bool]:
    return and_(
        col(LadderStep.due_on) < today(),
        or_(LadderStep.step != Step.COUNTY.value, col(LadderStep.measure).is_(None)),
    )


def _open_in_scope(actor: Actor) -> list[ColumnElement[bool]]:
    return [
        col(LadderStep.state) == StepState.OPEN.value,
        col(Case.status) != CaseStatus.CLOSED.value,
        child_condition(actor),
    ]


def ladder_rows(
    session: Session,
    *,
    actor: Actor,
    step: Step | None = None,
    overdue_only: bool = False,
    mine_only: bool = False,  # only the steps this actor's role owns
    search: str = "",
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[LadderRow], int]:
    """Open steps in scope, overdue first then by deadline, paged in SQL; and how many in all."""
    require(session, actor, Action.CASE_READ)
    where = _open_in_scope(actor)
    if step is not None:
        where.append(LadderStep.step == step.value)
    if overdue_only:
        where.append(_overdue())
    if mine_only:
        where.append(col(LadderStep.step).in_([s.value for s in owned_steps(actor.role, policy())]))
    if search.strip():
        where.append(col(Child.name).contains(search.strip()))
    base = (
        select(
            LadderStep.case_id,
            Child.name,
            School.name,
            Township.name,
            Village.name,
            Case.category,
            LadderStep.step,
            LadderStep.seq,
            LadderStep.opened_on,
            LadderStep.due_on,
            LadderStep.measure,
        )
        .join(Case, LadderStep.case_id == Case.id)
        .join(Child, Case.child_id == Child.id)
        .outerjoin(School, Child.school_id == School.id)
        .join(Township, Child.township_id == Township.id)
        .outerjoin(Village, Child.village_id == Village.id)
        .where(*where)
    )
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    ordered = base.order_by(case((_overdue(), 0), else_=1), LadderStep.due_on, LadderStep.id)
    rows = [
        LadderRow(
            case_id=case_id,
            child=child,
            school=school or "",
            township=township or "",
            village=village or "",
            category=CaseCategory(category).label,
            step=Step(step_code),
            seq=seq,
            owner=owner_label(Step(step_code), policy()),
            opened_on=opened_on,
            due_on=due_on,
            overdue=is_overdue(Step(step_code), StepState.OPEN, due_on, today(), measure=measure),
        )
        for case_id, child, school, township, village, category, step_code, seq, opened_on, due_on, measure in (
            session.execute(ordered.offset(offset).limit(limit))
        )
    ]
    return rows, int(total)


def ladder_counts(session: Session, *, actor: Actor) -> dict[Step, tuple[int, int]]:
    """Per step, (open, overdue) in the actor's scope, counted in SQL, for 我的待办 and the robots' digests."""
    require(session, actor, Action.CASE_READ)
    query = (
        select(LadderStep.step, func.count(), func.sum(case((_overdue(), 1), else_=0)))
        .join(Case, LadderStep.case_id == Case.id)
        .join(Child, Case.child_id == Child.id)
        .where(*_open_in_scope(actor))
        .group_by(LadderStep.step)
    )
    return {Step(code): (int(n), int(late or 0)) for code, n, late in session.execute(query)}


def export_ladder(
    session: Session, *, actor: Actor, step: Step | None = None, overdue_only: bool = False
) -> bytes:
    """The list as xlsx (audited export). It carries no ID or phone numbers."""
    rows, _ = ladder_rows(session, actor=actor, step=step, overdue_only=overdue_only, limit=100_000)
    frame = pd.DataFrame(
        [
            {
                "儿童": r.child,
                "学校": r.school,
                "乡镇": r.township,
                "村(社区)": r.village,
                "类别": r.category,
                "当前步骤": r.step.label if r.step is not Step.FOLLOW_UP else f"第 {r.seq} 次{r.step.label}",
                "负责": r.owner,
                "开始日期": r.opened_on,
                "期限": r.due_on,
                "是否逾期": "逾期" if r.overdue else "",
            }
            for r in rows
        ],
        columns=[
            "儿童",
            "学校",
            "乡镇",
            "村(社区)",
            "类别",
            "当前步骤",
            "负责",
            "开始日期",
            "期限",
            "是否逾期",
        ],
    )
    what = (step.label if step else "全部步骤") + (",仅逾期" if overdue_only else "")
    return export_table(
        session, actor=actor, action=Action.CASE_READ, frame=frame, sheet="劝返复学", detail=what,
        entity_type="case",
    )  # fmt: skip
