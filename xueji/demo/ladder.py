"""The demo's return ladder: every out-of-school case gets its school step (the nightly pass, as after an
upgrade), then a few cases of 古港镇 are moved, through the ladder's services and by the demo accounts, to states a
visitor can see: one at the school with one return attempt, one handed up to the township (no notice yet), one
at the township past its deadline (the one the notices' demo gives its 限期复学通知书: find it with
township_overdue_case), one at the county with a measure, one back in school with a follow-up due, and one whose
销号 waits for the township's approval."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlmodel import Session, col

from xueji.auth import Actor
from xueji.clock import today
from xueji.models import AppUser, Case, Child, HomeVisit, LadderStep, Student
from xueji.rules.cases import CaseStatus, CloseReason, RiskLevel
from xueji.rules.ladder import CountyMeasure, Step, StepState
from xueji.rules.visits import ReturnOutcome, VisitKind, VisitMethod
from xueji.rules.vocab import StudentStatus
from xueji.services.cases import ladder
from xueji.services.system.accounts import actor_of, system_actor

if TYPE_CHECKING:
    from xueji.demo.build import DemoContext

DEMO_TOWNSHIP = "430181108000"  # 古港镇: the demo township official's


def township_overdue_case(session: Session) -> int | None:
    """The demo case at the township's step past its deadline (the notices' demo issues its order there)."""
    return session.scalar(
        select(LadderStep.case_id)
        .where(
            LadderStep.step == Step.TOWNSHIP.value,
            LadderStep.state == StepState.OPEN.value,
            col(LadderStep.due_on) < today(),
        )
        .order_by(col(LadderStep.case_id))
        .limit(1)
    )


def _actor(session: Session, username: str) -> Actor | None:
    user = session.scalar(select(AppUser).where(AppUser.username == username))
    return actor_of(user) if user is not None else None


def _attempts(session: Session, child_id: int, count: int, visitor: str) -> None:
    for _ in range(count):
        session.add(
            HomeVisit(
                child_id=child_id,
                visit_date=today(),
                kind=VisitKind.RETURN_ATTEMPT.value,
                method=VisitMethod.HOME.value,
                visitors=visitor,
                met_with="父母",
                child_situation="仍在家中,未到校",
                risk_after=RiskLevel.HIGH.value,
                next_step="联合村干部再次上门劝返",
                outcome=ReturnOutcome.REFUSED.value,
            )
        )
    session.flush()


def _backdate(session: Session, case_id: int, opened_on: date, due_on: date) -> None:
    """The open step as if it had opened earlier (demo history; the services date it today)."""
    session.execute(
        update(LadderStep)
        .where(col(LadderStep.case_id) == case_id, col(LadderStep.state) == StepState.OPEN.value)
        .values(opened_on=opened_on, due_on=due_on)
    )


def load_ladder(session: Session, ctx: DemoContext) -> None:
    """Start the ladder for every out-of-school case, then show each step on one case of 古港镇."""
    ladder.advance(session, actor=system_actor(session))
    township, county = _actor(session, "demo_township"), _actor(session, "demo_county")
    township_id = ctx.township_ids.get(DEMO_TOWNSHIP)
    if township is None or county is None or township_id is None:
        return
    rows = session.execute(
        select(Case.id, Case.child_id, Case.opened_on, Student.status)
        .join(Child, Case.child_id == Child.id)
        .outerjoin(Student, Child.student_id == Student.id)
        .join(LadderStep, LadderStep.case_id == Case.id)
        .where(
            Child.township_id == township_id,
            Case.status != CaseStatus.CLOSED.value,
            LadderStep.state == StepState.OPEN.value,
            LadderStep.step == Step.SCHOOL.value,
        )
        .order_by(Case.id)
    ).all()
    enrolled = [r for r in rows if r.status == StudentStatus.ENROLLED.value]
    others = [r for r in rows if r not in enrolled[:2]]
    back = enrolled[:2]
    day = today()
    note = "已两次上门劝返,家长仍不同意送学,提请乡镇下达限期复学通知"
    for n, (case_id, child_id, _opened, _status) in enumerate(others[:4]):
        if n == 0:  # at the school, one attempt so far
            _attempts(session, child_id, 1, "周老师")
            continue
        _attempts(session, child_id, 2, "周老师")
        ladder.hand_up(session, actor=township, case_id=case_id, note=note)
        if n == 2:  # the township's step, past its deadline (no order served)
            _backdate(session, case_id, day - timedelta(days=20), day - timedelta(days=3))
        if n == 3:  # the county, with a measure
            ladder.skip_step(
                session, actor=township, case_id=case_id, reason="监护人常年在外务工,通知无法当面送达"
            )
            ladder.record_measure(
                session,
                actor=county,
                case_id=case_id,
                measure=CountyMeasure.ADMINISTRATIVE,
                detail="县教育局约谈监护人,责令限期送子女入学",
                on=day,
            )
    if back:  # back in school, the first follow-up due in a few days
        ladder.record_return(session, actor=township, case_id=back[0].id, on=day - timedelta(days=3))
    if len(back) > 1:  # back in school, followed to the end: 销号 waits for the township
        case_id = back[1].id
        ladder.record_return(session, actor=township, case_id=case_id, on=max(back[1].opened_on, day))
        for n in range(len(ladder.policy().follow_ups)):
            _backdate(session, case_id, day, day)  # demo history: each follow-up due today
            ladder.record_follow_up(
                session,
                actor=township,
                case_id=case_id,
                on=day,
                in_school=True,
                detail=f"第 {n + 1} 次回访:按时到校,情绪稳定",
            )
        ladder.request_closure(  # asked by the school's side: the township cannot approve its own request
            session,
            actor=system_actor(session),
            case_id=case_id,
            reason=CloseReason.RETURNED,
            evidence="复学后各次返校跟踪均在校",
        )
