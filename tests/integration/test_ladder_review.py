"""The ladder after its review, on both databases: no approving one's own 销号 request; a township acts on its own
children's orders and 销号 only; a return links only a registry record in scope (audited); a refused request
reopens the step it ended; a pending request is withdrawn by a return, never approved by it; a dropout approved
after a return starts a new round (ladder.carry audited); 已返校/稳定 only through the ladder; the per-township
overdue figure and the earliest deadlines in SQL; the export keeps the page's filters."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import func, select, update

from tests.integration.test_ladder import (
    attempt,
    case,  # noqa: F401 - the fixture, read through opened_case
    on_day,
    refused,
)
from xueji.auth import PermissionDenied
from xueji.db import session_scope
from xueji.models import AuditLog, Case, CaseEvent, Child, LadderStep, Student, Township
from xueji.rules.cases import CaseStatus, CloseReason
from xueji.rules.ladder import Step, StepState
from xueji.rules.status_changes import ChangeKind
from xueji.services.cases import handling, ladder
from xueji.services.cases.handling import CaseError
from xueji.services.registry.status_changes import ChangeRequest, decide_change, submit_change


@pytest.fixture
def opened_case(request: pytest.FixtureRequest) -> tuple[int, int]:
    """test_ladder's case: a suspected dropout of the demo teacher's class (case, child)."""
    return request.getfixturevalue("case")


def _request_elsewhere(session, actor, case_id: int) -> None:
    ladder.request_closure(
        session,
        actor=actor,
        case_id=case_id,
        reason=CloseReason.ENROLLED_ELSEWHERE,
        evidence="接收学校回执",
        receiving_school="广州市某小学",
    )


def _steps(session, case_id: int) -> list[tuple[str, int, str]]:
    return list(
        session.execute(
            select(LadderStep.step, LadderStep.seq, LadderStep.state)
            .where(LadderStep.case_id == case_id)
            .order_by(LadderStep.id)
        ).all()
    )


def test_a_requester_cannot_approve_and_a_refusal_reopens_the_step(demo_engine, actors, opened_case):
    case_id, _ = opened_case
    township, registrar = actors["demo_township"], actors["demo_registrar"]
    with session_scope(demo_engine) as session:
        _request_elsewhere(session, township, case_id)  # the township is on the education line too
        assert "decide_closure" not in ladder.case_ladder(session, actor=township, case_id=case_id).allowed
    with session_scope(demo_engine) as session, pytest.raises(ladder.LadderError, match="不能审批自己的申请"):
        ladder.decide_closure(session, actor=township, case_id=case_id, approve=True, note="")
    assert refused(demo_engine, case_id, "closure_decide") == 1
    with session_scope(demo_engine) as session:
        assert session.get(Case, case_id).status != CaseStatus.CLOSED.value
    # asked by the school instead: the township decides, refuses, and the school's step opens again
    with session_scope(demo_engine) as session:
        session.execute(
            update(LadderStep).where(LadderStep.step == "closure").values(requested_by=registrar.user_id)
        )
        session.commit()
        ladder.decide_closure(session, actor=township, case_id=case_id, approve=False, note="回执不是原件")
        seen = ladder.case_ladder(session, actor=registrar, case_id=case_id)
    assert [(s.step, s.seq, s.state) for s in seen.steps] == [
        (Step.SCHOOL, 1, StepState.DONE),
        (Step.CLOSURE, 1, StepState.REJECTED),
        (Step.SCHOOL, 1, StepState.OPEN),
    ]
    assert seen.current.opened_on == seen.steps[0].opened_on and seen.current.due_on >= date(2026, 12, 7)


def test_a_township_acts_only_on_its_own_childrens_orders(demo_engine, actors, opened_case):
    case_id, child_id = opened_case
    township, teacher = actors["demo_township"], actors["demo_teacher"]
    with session_scope(demo_engine) as session:
        other = session.scalar(select(Township.id).where(Township.id != township.scope_id).limit(1))
        session.get(Child, child_id).township_id = other  # lives elsewhere, attends a school of ours
        session.commit()
        attempt(session, teacher, child_id, date(2026, 11, 23))
        attempt(session, teacher, child_id, date(2026, 11, 23))
        ladder.hand_up(session, actor=teacher, case_id=case_id, note="两次劝返无果")
        seen = ladder.case_ladder(session, actor=township, case_id=case_id)
        mine, _ = ladder.ladder_rows(session, actor=township, mine_only=True, limit=1000)
        listed, _ = ladder.ladder_rows(session, actor=township, limit=1000)
        counted = ladder.ladder_counts(session, actor=township).get(Step.TOWNSHIP)
        theirs = sum(1 for r in listed if r.step is Step.TOWNSHIP and r.case_id != case_id)
    assert seen.current.step is Step.TOWNSHIP and not {"serve", "skip"} & seen.allowed
    assert case_id in {r.case_id for r in listed} and case_id not in {r.case_id for r in mine}
    assert (counted.open if counted else 0) == theirs
    with session_scope(demo_engine) as session, pytest.raises(ladder.LadderError, match="户籍所在乡镇"):
        ladder.skip_step(session, actor=township, case_id=case_id, reason="家长已搬离本地")
    assert refused(demo_engine, case_id, "skip") == 1


def test_a_return_links_only_a_registry_record_in_scope(demo_engine, actors, opened_case):
    case_id, child_id = opened_case
    registrar = actors["demo_registrar"]
    with session_scope(demo_engine) as session:
        child = session.get(Child, child_id)
        own = session.get(Student, child.student_id)
        foreign = session.scalar(
            select(Student).where(
                Student.school_id != own.school_id,
                Student.status == "enrolled",
                Student.id_number.is_not(None),
                ~select(Child.id).where(Child.student_id == Student.id).exists(),
            )
        )
        child.student_id, child.id_number = None, foreign.id_number
        session.commit()
        foreign_id = foreign.id
    with session_scope(demo_engine) as session, pytest.raises(PermissionDenied):
        ladder.record_return(session, actor=registrar, case_id=case_id, on=date(2026, 11, 23))
    with session_scope(demo_engine) as session:
        assert session.get(Child, child_id).student_id is None
        child = session.get(Child, child_id)
        child.id_number = own.id_number
        session.commit()
        ladder.record_return(session, actor=registrar, case_id=case_id, on=date(2026, 11, 23))
        linked = session.scalar(
            select(AuditLog).where(
                AuditLog.action == "ladder.link_student", AuditLog.entity_id == str(child_id)
            )
        )
        assert session.get(Child, child_id).student_id == own.id != foreign_id
    assert linked is not None and f"#{own.id}" in linked.detail


def test_a_return_withdraws_a_pending_request(demo_engine, actors, opened_case):
    case_id, _ = opened_case
    registrar = actors["demo_registrar"]
    with session_scope(demo_engine) as session:
        _request_elsewhere(session, registrar, case_id)
        row = session.get(Case, case_id)
        ladder.returned_in(session, actor=registrar, case=row, on=date(2026, 11, 23), status_change_id=None)
        session.commit()
        closure = session.scalar(
            select(LadderStep).where(LadderStep.case_id == case_id, LadderStep.step == "closure")
        )
        assert (closure.state, closure.reason) == ("rejected", "复学后撤回,须重新申请")
        assert ladder.case_ladder(session, actor=registrar, case_id=case_id).current.step is Step.FOLLOW_UP


def test_stable_only_through_the_ladder(demo_engine, actors, opened_case):
    case_id, _ = opened_case
    with session_scope(demo_engine) as session, pytest.raises(CaseError, match="登记复学"):
        handling.set_status(
            session, actor=actors["demo_registrar"], case_id=case_id, status=CaseStatus.STABLE
        )
    with session_scope(demo_engine) as session:
        assert session.get(Case, case_id).status != CaseStatus.STABLE.value
        assert session.scalar(
            select(func.count()).where(
                AuditLog.action == "update", AuditLog.outcome == "refused", AuditLog.entity_id == str(case_id)
            )
        )


def test_a_dropout_after_a_return_starts_a_new_round(demo_engine, actors, opened_case):
    case_id, child_id = opened_case
    teacher, registrar, county = actors["demo_teacher"], actors["demo_registrar"], actors["demo_county"]
    with session_scope(demo_engine) as session:
        ladder.record_return(session, actor=teacher, case_id=case_id, on=date(2026, 11, 23))
        student_id = session.get(Child, child_id).student_id

    def approve(kind: ChangeKind, **more) -> None:
        with session_scope(demo_engine) as session:
            change = submit_change(
                session,
                actor=registrar,
                request=ChangeRequest(
                    student_id=student_id, kind=kind, effective_date=date(2026, 11, 23), reason="核实", **more
                ),
            )
            decide_change(session, actor=county, change_id=change.id, approve=True)

    approve(ChangeKind.DROPOUT)
    with session_scope(demo_engine) as session:
        dropout = session.scalar(
            select(Case.id).where(
                Case.child_id == child_id, Case.category == "dropout", Case.status != "closed"
            )
        )
        steps = _steps(session, dropout)
        starts = session.scalar(
            select(func.count()).where(
                CaseEvent.case_id == dropout, CaseEvent.detail.startswith("劝返复学:学校和家庭劝返开始")
            )
        )
        carried = session.scalar(select(AuditLog).where(AuditLog.action == "ladder.carry"))
        status = session.get(Case, dropout).status
        class_id = session.get(Student, student_id).class_id
    assert steps == [
        ("school", 1, "done"),
        ("returned", 1, "done"),
        ("follow_up", 1, "done"),
        ("school", 2, "open"),
    ]
    assert starts == 0 and status == CaseStatus.FOLLOWING.value
    assert carried.before == {"case_id": case_id} and carried.after == {"case_id": dropout}
    approve(ChangeKind.RETURN, to_class_id=class_id)  # back again, then confirmed out again
    approve(ChangeKind.DROPOUT)
    with session_scope(demo_engine) as session:
        again = _steps(session, dropout)[-3:]
    assert again == [("returned", 2, "done"), ("follow_up", 1, "done"), ("school", 3, "open")]


def test_overdue_by_township_and_earliest_deadlines_match_the_list(
    demo_engine, actors, monkeypatch, fixed_today
):
    county = actors["demo_county"]
    on_day(monkeypatch, "2026-12-08")
    with session_scope(demo_engine) as session:
        late, _ = ladder.ladder_rows(session, actor=county, overdue_only=True, limit=5000)
        by_township = ladder.overdue_by_township(session, actor=county)
        counts = ladder.ladder_counts(session, actor=county)
        for step, found in counts.items():
            rows, _ = ladder.ladder_rows(session, actor=county, step=step, limit=5000)
            assert found.earliest_due == min((r.due_on for r in rows if r.overdue), default=None)
            assert found.earliest_waiting == min((r.due_on for r in rows if not r.overdue), default=None)
    assert by_township == dict(Counter(r.township for r in late)) and sum(by_township.values()) > 0


def test_the_export_keeps_the_search(demo_engine, actors, opened_case):
    _, child_id = opened_case
    township = actors["demo_township"]
    with session_scope(demo_engine) as session:
        name = session.get(Child, child_id).name
        found = ladder.export_ladder(session, actor=township, search=name)
        none = ladder.export_ladder(session, actor=township, search="无此姓名")
        everyone = ladder.export_ladder(session, actor=township)
    read = [pd.read_excel(io.BytesIO(b), engine="openpyxl") for b in (found, none, everyone)]
    assert set(read[0]["儿童"]) == {name} and read[1].empty and len(read[2]) > len(read[0])
