"""Writers that race on one thing, on both databases: the narrow write locks (xueji.locks.write_lock, keys in
xueji.services.common.lock_keys) keep each invariant. Threads start together at a barrier, each in its own
session, as two browser sessions would; no database error reaches any of them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import DBAPIError

from xueji.auth import Actor
from xueji.db import session_scope
from xueji.models import (
    AuditLog,
    Case,
    Child,
    HomeVisit,
    LadderStep,
    Notice,
    SchoolClass,
    StatusChange,
    Student,
)
from xueji.rules.cases import CaseStatus, RiskLevel
from xueji.rules.notices import NoticeKind
from xueji.rules.status_changes import ChangeKind, ChangeState
from xueji.rules.visits import VisitFacts, VisitKind, VisitMethod
from xueji.services.cases.notices import issue_notice
from xueji.services.cases.visits import log_visit
from xueji.services.registry.status_changes import (
    ChangeRequest,
    StatusChangeError,
    decide_change,
    submit_change,
)

pytestmark = pytest.mark.usefixtures("fixed_today")
TODAY = date(2026, 11, 23)
RACERS = 6


def race(engine: Engine, writes: list[Callable[[Any], object]]) -> list[object]:
    """Run each write in its own thread and session, all released at once; what each returned or raised. A
    database error is re-raised: it is the failure these tests exist for."""
    start = threading.Barrier(len(writes))

    def one(write: Callable[[Any], object]) -> object:
        with session_scope(engine) as session:
            start.wait()
            try:
                return write(session)
            except DBAPIError:
                raise
            except Exception as exc:  # a service's refusal, as the user would read it
                return exc

    with ThreadPoolExecutor(max_workers=len(writes)) as pool:
        return [f.result() for f in [pool.submit(one, w) for w in writes]]


def _enrolled(engine: Engine, registrar: Actor) -> int:
    with session_scope(engine) as session:
        found = session.scalar(
            select(Student.id)
            .where(Student.school_id == registrar.scope_id, Student.status == "enrolled")
            .where(~select(StatusChange.id).where(StatusChange.student_id == Student.id).exists())
            .order_by(Student.id)
        )
        assert found is not None
        return found


def _dropout(student_id: int) -> ChangeRequest:
    return ChangeRequest(
        student_id=student_id, kind=ChangeKind.DROPOUT, effective_date=TODAY, reason="长期未到校,多次劝返无果"
    )


def test_one_students_change_submitted_at_once_is_kept_once(demo_engine, actors) -> None:
    registrar = actors["demo_registrar"]
    student_id = _enrolled(demo_engine, registrar)
    outcomes = race(
        demo_engine,
        [lambda s: submit_change(s, actor=registrar, request=_dropout(student_id)) for _ in range(RACERS)],
    )
    kept = [o for o in outcomes if isinstance(o, StatusChange)]
    refused = [o for o in outcomes if isinstance(o, StatusChangeError)]
    assert len(kept) == 1 and len(refused) == RACERS - 1, outcomes
    with session_scope(demo_engine) as session:
        waiting = session.scalar(
            select(func.count()).where(
                StatusChange.student_id == student_id, StatusChange.state == ChangeState.SUBMITTED
            )
        )
        assert waiting == 1


def test_approvers_racing_for_one_request_decide_it_once(demo_engine, actors) -> None:
    registrar, county = actors["demo_registrar"], actors["demo_county"]
    with session_scope(demo_engine) as session:
        change = submit_change(session, actor=registrar, request=_dropout(_enrolled(demo_engine, registrar)))
    decisions = [
        (lambda s, approve=i % 2 == 0: decide_change(
            s, actor=county, change_id=change.id, approve=approve, reason="" if approve else "材料不全"
        ))
        for i in range(RACERS)
    ]  # fmt: skip
    outcomes = race(demo_engine, decisions)
    won = [o for o in outcomes if isinstance(o, StatusChange)]
    assert len(won) == 1 and all(isinstance(o, StatusChangeError) for o in outcomes if o not in won), outcomes
    with session_scope(demo_engine) as session:
        stored = session.get(StatusChange, change.id)
        assert stored is not None and stored.state == won[0].state
        student = session.get(Student, change.student_id)
        assert student is not None
        assert student.status == ("dropped_out" if stored.state == ChangeState.APPROVED else "enrolled")
        decided = session.scalar(
            select(func.count()).where(
                AuditLog.entity_type == "status_change",
                AuditLog.entity_id == str(change.id),
                AuditLog.action.in_(["approve", "reject"]),  # type: ignore[attr-defined]
            )
        )
        assert decided == 1


def test_notices_of_one_township_at_once_take_distinct_numbers(demo_engine, actors) -> None:
    township = actors["demo_township"]
    with session_scope(demo_engine) as session:
        cases = list(
            session.scalars(
                select(Case.id)
                .join(Child, Case.child_id == Child.id)
                .where(
                    Case.category.in_(("suspected_dropout", "dropout")),  # type: ignore[attr-defined]
                    Case.status != CaseStatus.CLOSED.value,
                    Child.township_id == township.scope_id,
                )
                .order_by(Case.id)
                .limit(4)
            )
        )
        assert len(cases) >= 3, "the demo township has out-of-school cases"
        for case_id in cases:  # each at the township's step, where an order (责令) may be issued
            session.execute(
                update(LadderStep)
                .where(LadderStep.case_id == case_id, LadderStep.state == "open")
                .values(state="done")
            )
            session.add(
                LadderStep(case_id=case_id, step="township", opened_on=TODAY, due_on=date(2026, 12, 4))
            )
        session.commit()
        before = session.scalar(
            select(func.max(Notice.seq)).where(Notice.township_id == township.scope_id, Notice.year == 2026)
        )
    writes = [
        (lambda s, c=case_id, k=kind: issue_notice(s, actor=township, case_id=c, kind=k))
        for case_id in cases
        for kind in (NoticeKind.ORDER, NoticeKind.PERSUASION)
    ]
    outcomes = race(demo_engine, writes)
    issued = [o for o in outcomes if isinstance(o, Notice)]
    assert len(issued) == len(writes), outcomes
    seqs = sorted(n.seq or 0 for n in issued)
    assert seqs == list(range((before or 0) + 1, (before or 0) + 1 + len(writes)))
    assert len({n.number for n in issued}) == len(writes)


def test_a_students_first_visits_at_once_make_one_child(demo_engine, actors) -> None:
    teacher = actors["demo_teacher"]
    with session_scope(demo_engine) as session:
        student_id = session.scalar(
            select(Student.id)
            .join(SchoolClass, Student.class_id == SchoolClass.id)
            .where(SchoolClass.head_teacher_id == teacher.user_id, Student.status == "enrolled")
            .where(~select(Child.id).where(Child.student_id == Student.id).exists())
            .order_by(Student.id)
        )
        assert student_id is not None, "the demo teacher heads a class with a student never visited"

    def visit(n: int) -> Callable[[Any], object]:
        facts = VisitFacts(
            visit_date=TODAY,
            kind=VisitKind.VISIT,
            method=VisitMethod.HOME,
            visitors="周老师",
            met_with="母亲",
            child_situation="按时到校",
            family_situation="",
            risk_after=RiskLevel.LOW,
            next_step=f"race-{n}",
        )
        return lambda s: log_visit(s, actor=teacher, facts=facts, student_id=student_id)

    outcomes = race(demo_engine, [visit(n) for n in range(RACERS)])
    assert all(isinstance(o, HomeVisit) for o in outcomes), outcomes
    with session_scope(demo_engine) as session:
        children = session.scalars(select(Child.id).where(Child.student_id == student_id)).all()
        assert len(children) == 1
        stored = session.scalar(select(func.count()).where(HomeVisit.child_id == children[0]))
        assert stored == RACERS
