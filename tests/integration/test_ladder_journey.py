"""A whole out-of-school case on both databases: a lost student (开学未报到) → the school's attempts → the
deadline passes and the township's step opens → the order generated (python-docx reads it back) and served →
its time limit passes, the county records a measure → the registry's 复学 approved → the follow-ups → 销号
requested and approved; every move in the audit log."""

from __future__ import annotations

import io
from datetime import date

import docx
import pytest
from sqlalchemy import select

from tests.factories import visit_facts
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.models import AuditLog, Case, Child, Student
from xueji.rules.cases import CaseCategory, CaseStatus, CloseReason, RiskLevel
from xueji.rules.ladder import CountyMeasure, Step, StepState
from xueji.rules.notices import NoticeKind
from xueji.rules.status_changes import ChangeKind
from xueji.rules.visits import ReturnOutcome, VisitKind
from xueji.services.cases import ladder, notices, opening, visits
from xueji.services.registry.status_changes import ChangeRequest, decide_change, submit_change


def on_day(monkeypatch: pytest.MonkeyPatch, day: str) -> None:
    monkeypatch.setenv("XUEJI_TODAY", day)
    get_settings.cache_clear()


def test_a_lost_student_from_the_school_to_an_approved_closing(demo_engine, actors, fixed_today, monkeypatch):
    registrar = actors["demo_registrar"]
    township, county = actors["demo_township"], actors["demo_county"]
    with session_scope(demo_engine) as session:
        # a lost student of the demo school whose case the registrar opens (the demo's own are set aside)
        demo_cases = session.scalars(
            select(Case.id).join(Child).where(Case.category == CaseCategory.SUSPECTED_DROPOUT.value)
        ).all()
        for case_id in demo_cases:
            session.get(Case, case_id).status = CaseStatus.CLOSED.value
        session.commit()
        assert opening.open_lost_cases(session, actor=registrar) >= 1
        case, child, student = session.execute(
            select(Case, Child, Student)
            .join(Child, Case.child_id == Child.id)
            .join(Student, Child.student_id == Student.id)
            .where(Case.category == CaseCategory.SUSPECTED_DROPOUT.value, Case.status != "closed")
            .order_by(Case.id)
        ).first()
        case_id, child_id, student_id, name = case.id, child.id, student.id, student.name
        start = ladder.case_ladder(session, actor=registrar, case_id=case_id)
    assert start.current.step is Step.SCHOOL and start.current.due_on == date(2026, 12, 7)
    with session_scope(demo_engine) as session:
        visits.log_visit(
            session,
            actor=registrar,
            child_id=child_id,
            facts=visit_facts(
                kind=VisitKind.RETURN_ATTEMPT,
                visit_date=date(2026, 11, 23),
                outcome=ReturnOutcome.REFUSED,
                child_situation="在家",
                risk_after=RiskLevel.HIGH,
                next_visit_on=None,
            ),
        )
    # one attempt only and the school's deadline passes: the nightly pass escalates to the township
    on_day(monkeypatch, "2026-12-08")
    with session_scope(demo_engine) as session:
        ladder.advance(session, actor=county)
        now = ladder.case_ladder(session, actor=township, case_id=case_id)
    assert now.steps[0].state is StepState.ESCALATED and now.current.step is Step.TOWNSHIP
    with session_scope(demo_engine) as session:
        notice = notices.issue_notice(session, actor=township, case_id=case_id, kind=NoticeKind.ORDER)
        number, content = notice.number, notice.content
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(content)).paragraphs)
    text += "\n".join(
        c.text for t in docx.Document(io.BytesIO(content)).tables for r in t.rows for c in r.cells
    )
    assert number and number in text and name in text
    with session_scope(demo_engine) as session:
        ladder.serve_order(
            session,
            actor=township,
            case_id=case_id,
            served_on=date(2026, 12, 8),
            served_to="监护人(父亲)",
            comply_by=date(2026, 12, 23),
        )
    on_day(monkeypatch, "2026-12-24")
    with session_scope(demo_engine) as session:
        assert ladder.advance(session, actor=county)["to_county"] >= 1
        ladder.record_measure(
            session,
            actor=county,
            case_id=case_id,
            measure=CountyMeasure.ADMINISTRATIVE,
            detail="约谈监护人",
            on=date(2026, 12, 24),
        )
    # the registry's 复学 approved: the return is recorded on the ladder, the case stays open for follow-ups
    with session_scope(demo_engine) as session:
        student = session.get(Student, student_id)
        assert student.status == "enrolled"  # a lost student keeps the record: 复学 returns the child to it
    with session_scope(demo_engine) as session:
        change = submit_change(
            session,
            actor=registrar,
            request=ChangeRequest(
                student_id=student_id,
                kind=ChangeKind.DROPOUT,
                effective_date=date(2026, 12, 24),
                reason="长期未到校",
            ),
        )
        decide_change(session, actor=county, change_id=change.id, approve=True)
        dropout_id = session.scalar(
            select(Case.id).where(
                Case.child_id == child_id, Case.category == "dropout", Case.status != "closed"
            )
        )
        class_id = session.get(Student, student_id).class_id
        back = submit_change(
            session,
            actor=registrar,
            request=ChangeRequest(
                student_id=student_id,
                kind=ChangeKind.RETURN,
                effective_date=date(2026, 12, 24),
                reason="劝返成功",
                to_class_id=class_id,
            ),
        )
        decide_change(session, actor=county, change_id=back.id, approve=True)
        seen = ladder.case_ladder(session, actor=registrar, case_id=dropout_id)
    assert [s.step for s in seen.steps] == [
        Step.SCHOOL,
        Step.TOWNSHIP,
        Step.COUNTY,
        Step.RETURNED,
        Step.FOLLOW_UP,
    ]
    assert seen.steps[3].status_change_id == back.id and seen.current.due_on == date(2026, 12, 31)
    for day in ("2026-12-31", "2027-01-23", "2027-01-24"):
        on_day(monkeypatch, day)
        with session_scope(demo_engine) as session:
            ladder.record_follow_up(
                session,
                actor=registrar,
                case_id=dropout_id,
                on=date.fromisoformat(day),
                in_school=True,
                detail="在校",
            )
    with session_scope(demo_engine) as session:
        assert ladder.case_ladder(session, actor=registrar, case_id=dropout_id).current is None
        ladder.request_closure(
            session,
            actor=registrar,
            case_id=dropout_id,
            reason=CloseReason.RETURNED,
            evidence="复学后三次跟踪均在校",
        )
        ladder.decide_closure(session, actor=township, case_id=dropout_id, approve=True, note="同意销号")
        closed = session.get(Case, dropout_id)
        actions = set(
            session.scalars(
                select(AuditLog.action).where(
                    AuditLog.entity_type == "case", AuditLog.entity_id.in_([str(case_id), str(dropout_id)])
                )
            )
        )
    assert closed.status == "closed" and closed.close_reason == "returned"
    assert {
        "ladder.escalate",
        "ladder.serve",
        "ladder.measure",
        "ladder.return",
        "ladder.follow_up",
        "ladder.closure_request",
        "ladder.closure_decide",
        "close",
    } <= actions
