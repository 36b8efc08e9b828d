"""劝返复学: each out-of-school case's return ladder (rules.ladder), read and moved by its owners. Every write is
checked (permission, scope, the step's owner), audited, and leaves an event on the case's timeline.

The reads are here; the writes are in ladder_steps (by hand) and ladder_flow (called by other services, and the
nightly advance), importable from here under the names of the contract (issue 26)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Date,
    Select,
    String,
    Subquery,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlmodel import Session, col

from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.models import AppUser, Case, Child, LadderStep, Notice, School, Township, Village
from xueji.rules.cases import CaseCategory, CaseStatus, CloseReason
from xueji.rules.ladder import (
    EDUCATION_LINE,
    OWN_TOWNSHIP_STEPS,
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
from xueji.services.cases.ladder_base import LadderError, attempts_since, policy, round_start, steps_of
from xueji.services.cases.ladder_flow import (
    advance,
    carry_ladder,
    dropped_again,
    returned_in,
    since_return,
    start_in,
)
from xueji.services.cases.ladder_steps import (
    closure_parts,
    decide_closure,
    hand_up,
    owns_township_step,
    record_follow_up,
    record_measure,
    record_return,
    request_closure,
    serve_order,
    skip_step,
)
from xueji.services.common.access import child_condition, child_in_scope, require
from xueji.services.common.exports import export_table

_OUT = [c.value for c in CaseCategory if c.out_of_school]

__all__ = [
    "CaseLadder",
    "LadderCount",
    "LadderError",
    "LadderRow",
    "StepView",
    "advance",
    "carry_ladder",
    "case_ladder",
    "decide_closure",
    "dropped_again",
    "export_ladder",
    "hand_up",
    "ladder_counts",
    "ladder_rows",
    "overdue_by_township",
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
    attempts: int  # return attempts (劝返) recorded in this round (ladder_base.round_start)
    attempts_needed: int  # the setting (XUEJI_LADDER_ATTEMPTS)
    allowed: frozenset[str] = field(default_factory=frozenset)  # what this actor may do now: "hand_up",
    # "skip", "serve", "measure", "return", "follow_up", "request_closure", "decide_closure"
    attempts_from: date | None = None  # the day the attempts count from


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


def _allowed(
    actor: Actor, case: Case, child: Child, current: LadderStep | None, returned: bool
) -> frozenset[str]:
    """What this actor may do on the case now (the services check again when it is done)."""
    if case.status == CaseStatus.CLOSED.value:
        return frozenset()
    role, system = actor.role, actor.role is Role.SYSTEM
    step = Step(current.step) if current else None
    if step is not None and not owns_township_step(actor, step, child):
        step_owned = False
    else:
        step_owned = True
    education = (role in EDUCATION_LINE or system) and actor.can(Action.VISIT_LOG)
    allowed = set()
    if step is Step.SCHOOL and education:
        allowed.add("hand_up")
    if step in SKIPPABLE and (
        (role in owner_roles(step, policy()) and step_owned) or role is Role.COUNTY_OFFICER or system
    ):
        allowed.add("skip")
    if (
        step is Step.TOWNSHIP
        and step_owned
        and actor.can(Action.LADDER_ORDER)
        and current
        and current.served_on is None
    ):
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
    requester = current is not None and current.requested_by == actor.user_id and not system
    if (
        step is Step.CLOSURE
        and step_owned
        and not requester
        and actor.can(Action.CLOSURE_APPROVE)
        and (role is approver or system)
    ):
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
    since = round_start(case.opened_on, school) if school else None
    attempts = attempts_since(session, child.id, since) if since else 0
    if not CaseCategory(case.category).out_of_school:
        return CaseLadder(case_id, (), None, 0, policy().attempts)
    return CaseLadder(
        case_id=case_id,
        steps=views,
        current=current,
        attempts=attempts,
        attempts_needed=policy().attempts,
        allowed=_allowed(actor, case, child, current_row, returned is not None),
        attempts_from=since,
    )


def _overdue() -> ColumnElement[bool]:
    return and_(
        col(LadderStep.due_on) < today(),
        or_(LadderStep.step != Step.COUNTY.value, col(LadderStep.measure).is_(None)),
    )


def _case_in_scope(actor: Actor) -> list[ColumnElement[bool]]:
    return [col(Case.status) != CaseStatus.CLOSED.value, child_condition(actor)]


def _open_in_scope(actor: Actor) -> list[ColumnElement[bool]]:
    return [col(LadderStep.state) == StepState.OPEN.value, *_case_in_scope(actor)]


def _owned(actor: Actor) -> list[ColumnElement[bool]]:
    """Work still to do by its owner: a county step whose measure is recorded waits for the return, it is no
    longer the county's to do; and a township official answers for the written order and the 销号 decision of the
    children living in the township only (not of another township's children at its schools)."""
    waiting = or_(LadderStep.step != Step.COUNTY.value, col(LadderStep.measure).is_(None))
    if actor.role is not Role.TOWNSHIP_OFFICIAL:
        return [waiting]
    return [
        waiting,
        or_(
            col(LadderStep.step).not_in([s.value for s in OWN_TOWNSHIP_STEPS]),
            Child.township_id == actor.scope_id,
        ),
    ]


def _ready() -> Subquery:
    """可申请销号: the cases with ladder steps and none open (returned, follow-ups settled, or a refused request
    after them), with the day the last step ended."""
    is_open = case((LadderStep.state == StepState.OPEN.value, 1), else_=0)
    return (
        select(col(LadderStep.case_id).label("case_id"), func.max(LadderStep.ended_on).label("since"))
        .group_by(LadderStep.case_id)
        .having(func.sum(is_open) == 0)
        .subquery()
    )


def _places(query: Select) -> Select:
    return (
        query.join(Child, Case.child_id == Child.id)
        .outerjoin(School, Child.school_id == School.id)
        .join(Township, Child.township_id == Township.id)
        .outerjoin(Village, Child.village_id == Village.id)
    )


def _listed(actor: Actor, *, step: Step | None, overdue_only: bool, mine_only: bool, search: str) -> Subquery:
    """The list's rows: the open steps, and the cases 可申请销号 as a pseudo-step (never overdue)."""
    where = _open_in_scope(actor)
    if step is not None:
        where.append(LadderStep.step == step.value)
    if overdue_only:
        where.append(_overdue())
    mine = owned_steps(actor.role, policy())
    if mine_only:
        where.append(col(LadderStep.step).in_([s.value for s in mine]))
        where += _owned(actor)
    if search.strip():
        where.append(col(Child.name).contains(search.strip()))
    steps = _places(
        select(
            col(LadderStep.case_id).label("case_id"),
            col(Child.name).label("child"),
            col(School.name).label("school"),
            col(Township.name).label("township"),
            col(Village.name).label("village"),
            col(Case.category).label("category"),
            col(LadderStep.step).label("step"),
            col(LadderStep.seq).label("seq"),
            col(LadderStep.opened_on).label("opened_on"),
            col(LadderStep.due_on).label("due_on"),
            col(LadderStep.measure).label("measure"),
            case((_overdue(), 0), else_=1).label("rank"),
            col(LadderStep.id).label("row_id"),
        )
        .select_from(LadderStep)
        .join(Case, LadderStep.case_id == Case.id)
    ).where(*where)
    wanted = (step in (None, Step.READY)) and not overdue_only and (not mine_only or Step.READY in mine)
    if not wanted:
        return steps.subquery()
    ready = _ready()
    ready_where = [*_case_in_scope(actor), col(Case.category).in_(_OUT)]
    if search.strip():
        ready_where.append(col(Child.name).contains(search.strip()))
    ready_rows = _places(
        select(
            ready.c.case_id.label("case_id"),
            col(Child.name).label("child"),
            col(School.name).label("school"),
            col(Township.name).label("township"),
            col(Village.name).label("village"),
            col(Case.category).label("category"),
            literal(Step.READY.value).label("step"),
            literal(0).label("seq"),
            ready.c.since.label("opened_on"),
            ready.c.since.label("due_on"),
            cast(null(), String).label("measure"),
            literal(1).label("rank"),
            literal(0).label("row_id"),
        )
        .select_from(ready)
        .join(Case, ready.c.case_id == Case.id)
    ).where(*ready_where)
    if step is Step.READY:
        return ready_rows.subquery()
    return union_all(steps, ready_rows).subquery()


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
    """Open steps in scope, and the cases 可申请销号 (Step.READY), overdue first then by deadline, paged in SQL;
    and how many in all."""
    require(session, actor, Action.CASE_READ)
    listed = _listed(actor, step=step, overdue_only=overdue_only, mine_only=mine_only, search=search)
    total = session.scalar(select(func.count()).select_from(listed)) or 0
    ordered = select(listed).order_by(listed.c.rank, listed.c.due_on, listed.c.row_id, listed.c.case_id)
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
            overdue=is_overdue(Step(step_code), StepState.OPEN, due_on, today(), measure=measure)
            and step_code != Step.READY.value,
        )
        for case_id, child, school, township, village, category, step_code, seq, opened_on, due_on, measure, *_ in (
            session.execute(ordered.offset(offset).limit(limit))
        )
    ]
    return rows, int(total)


class LadderCount(NamedTuple):
    """One step's figures in scope: how many open, how many past their deadline, the earliest deadline of the
    overdue ones and of the others (None when there are none)."""

    open: int
    overdue: int
    earliest_due: date | None  # of the overdue steps
    earliest_waiting: date | None  # of the steps still within their deadline


def ladder_counts(session: Session, *, actor: Actor) -> dict[Step, LadderCount]:
    """Per step, (open, overdue, earliest overdue deadline, earliest deadline ahead) in the actor's scope, in one
    SQL query, for 我的待办 and the robots' digests; Step.READY counts the cases 可申请销号 (their day: when the last
    step ended). A township official's written orders and 销号 decisions count only for its own township's
    children."""
    require(session, actor, Action.CASE_READ)
    late = _overdue()
    steps: Select = (
        select(
            col(LadderStep.step).label("step"),
            func.count().label("n"),
            func.sum(case((late, 1), else_=0)).label("late"),
            func.min(case((late, LadderStep.due_on), else_=None)).label("first_late"),
            func.min(case((late, None), else_=LadderStep.due_on)).label("first_waiting"),
        )
        .join(Case, LadderStep.case_id == Case.id)
        .join(Child, Case.child_id == Child.id)
        .where(*_open_in_scope(actor), *_owned(actor))
        .group_by(LadderStep.step)
    )
    ready = _ready()
    ready_count: Select = (
        select(
            literal(Step.READY.value),
            func.count(),
            literal(0),
            cast(null(), Date),
            func.min(ready.c.since),
        )
        .select_from(ready)
        .join(Case, ready.c.case_id == Case.id)
        .join(Child, Case.child_id == Child.id)
        .where(*_case_in_scope(actor), col(Case.category).in_(_OUT))
    )
    return {
        Step(code): LadderCount(int(n), int(overdue or 0), first_late, first_waiting)
        for code, n, overdue, first_late, first_waiting in session.execute(union_all(steps, ready_count))
        if n
    }


def overdue_by_township(session: Session, *, actor: Actor) -> dict[str, int]:
    """Overdue open steps per township (the child's), counted in SQL with GROUP BY: the county's 我的待办 column."""
    require(session, actor, Action.CASE_READ)
    query = (
        select(Township.name, func.count())
        .select_from(LadderStep)
        .join(Case, LadderStep.case_id == Case.id)
        .join(Child, Case.child_id == Child.id)
        .join(Township, Child.township_id == Township.id)
        .where(*_open_in_scope(actor), _overdue())
        .group_by(Township.name)
    )
    return {name: int(n) for name, n in session.execute(query)}


def export_ladder(
    session: Session,
    *,
    actor: Actor,
    step: Step | None = None,
    overdue_only: bool = False,
    mine_only: bool = False,
    search: str = "",
) -> bytes:
    """The list as xlsx, with the page's filters (audited export). It carries no ID or phone numbers."""
    rows, _ = ladder_rows(
        session,
        actor=actor,
        step=step,
        overdue_only=overdue_only,
        mine_only=mine_only,
        search=search,
        limit=100_000,
    )
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
    what = (
        (step.label if step else "全部步骤")
        + (",仅逾期" if overdue_only else "")
        + (",待我处理" if mine_only else "")
        + (f",搜索“{search.strip()}”" if search.strip() else "")
    )
    return export_table(
        session, actor=actor, action=Action.CASE_READ, frame=frame, sheet="劝返复学", detail=what,
        entity_type="case",
    )  # fmt: skip
