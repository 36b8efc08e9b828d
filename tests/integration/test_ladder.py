"""The return ladder's service on both databases: each write with its refusals (wrong role, out of scope, too
few attempts, an order served with no notice, 销号 before the follow-ups, the wrong approver), the nightly pass
(escalation, idempotent) and the lists."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.factories import taught_student, visit_facts
from xueji.auth import PermissionDenied
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.models import AuditLog, Case, CaseEvent, LadderStep, Notice
from xueji.rules.cases import CaseCategory, CaseStatus, CloseReason, RiskLevel
from xueji.rules.ladder import CountyMeasure, Step, StepState
from xueji.rules.notices import NoticeKind
from xueji.rules.visits import ReturnOutcome, VisitKind
from xueji.services.cases import handling, ladder, visits


def on_day(monkeypatch: pytest.MonkeyPatch, day: str) -> None:
    monkeypatch.setenv("XUEJI_TODAY", day)
    get_settings.cache_clear()


def attempt(session, actor, child_id: int, day: date) -> None:
    visits.log_visit(
        session,
        actor=actor,
        child_id=child_id,
        facts=visit_facts(
            kind=VisitKind.RETURN_ATTEMPT,
            visit_date=day,
            outcome=ReturnOutcome.REFUSED,
            child_situation="仍在家中",
            risk_after=RiskLevel.HIGH,
            next_visit_on=None,
        ),
    )


@pytest.fixture
def case(demo_engine, actors, fixed_today) -> tuple[int, int]:
    """A suspected dropout of the demo teacher's class, opened by the registrar on the demo's day: (case, child)."""
    with session_scope(demo_engine) as session:
        _, student_id = taught_student(session)
        opened = handling.open_case(
            session,
            actor=actors["demo_registrar"],
            category=CaseCategory.SUSPECTED_DROPOUT,
            risk=RiskLevel.HIGH,
            risk_reason="连续一周未到校",
            student_id=student_id,
        )
        return int(opened.id), opened.child_id


def refused(engine, case_id: int, action: str) -> int:
    with session_scope(engine) as session:
        return session.scalar(
            select(func.count()).where(
                AuditLog.action == f"ladder.{action}",
                AuditLog.outcome == "refused",
                AuditLog.entity_id == str(case_id),
            )
        )


def test_the_school_step_and_handing_up(demo_engine, actors, case):
    case_id, child_id = case
    teacher, registrar, county = actors["demo_teacher"], actors["demo_registrar"], actors["demo_county"]
    with session_scope(demo_engine) as session:
        seen = ladder.case_ladder(session, actor=teacher, case_id=case_id)
    assert seen.current is not None and seen.current.step is Step.SCHOOL
    assert (seen.current.opened_on, seen.current.due_on) == (date(2026, 11, 23), date(2026, 12, 7))
    assert seen.current.owner == "学校(教育线)" and not seen.current.overdue
    assert {"hand_up", "skip", "return", "request_closure"} <= seen.allowed and "serve" not in seen.allowed
    with session_scope(demo_engine) as session:
        attempt(session, teacher, child_id, date(2026, 11, 23))
    with session_scope(demo_engine) as session, pytest.raises(ladder.LadderError, match="已记录 1 次劝返"):
        ladder.hand_up(session, actor=teacher, case_id=case_id, note="家长不同意")
    assert refused(demo_engine, case_id, "hand_up") == 1
    with session_scope(demo_engine) as session, pytest.raises(PermissionDenied):
        ladder.hand_up(session, actor=county, case_id=case_id, note="家长不同意")  # not the education line
    with session_scope(demo_engine) as session:
        attempt(session, registrar, child_id, date(2026, 11, 23))
        ladder.hand_up(session, actor=teacher, case_id=case_id, note="两次劝返无果")
        seen = ladder.case_ladder(session, actor=registrar, case_id=case_id)
        events = session.scalars(
            select(CaseEvent.detail).where(CaseEvent.case_id == case_id, CaseEvent.kind == "ladder")
        ).all()
    assert [(s.step, s.state) for s in seen.steps] == [
        (Step.SCHOOL, StepState.DONE),
        (Step.TOWNSHIP, StepState.OPEN),
    ]
    assert (
        seen.attempts == 2 and seen.current.owner == "乡镇" and seen.allowed == {"return", "request_closure"}
    )
    assert any("提请乡镇" in e for e in events)


def test_another_schools_registrar_is_out_of_scope(demo_engine, actors, case):
    from tests.factories import new_registrar

    case_id, _ = case
    with session_scope(demo_engine) as session:
        other = new_registrar(session, actors["demo_admin"], "other_reg", "2143016966")
    with session_scope(demo_engine) as session, pytest.raises(PermissionDenied):
        ladder.skip_step(session, actor=other, case_id=case_id, reason="家长已搬离本地")


def test_serving_the_order_needs_the_notice_then_the_time_limit_counts(
    demo_engine, actors, case, monkeypatch
):
    case_id, _ = case
    township, registrar = actors["demo_township"], actors["demo_registrar"]
    with session_scope(demo_engine) as session:
        ladder.skip_step(session, actor=registrar, case_id=case_id, reason="家长明确拒绝,学校无力劝返")
    serve = {"served_on": date(2026, 11, 23), "served_to": "李某(父亲)", "comply_by": date(2026, 12, 8)}
    with session_scope(demo_engine) as session, pytest.raises(ladder.LadderError, match="请先生成"):
        ladder.serve_order(session, actor=township, case_id=case_id, **serve)
    with session_scope(demo_engine) as session, pytest.raises(PermissionDenied):
        ladder.serve_order(session, actor=registrar, case_id=case_id, **serve)
    assert refused(demo_engine, case_id, "serve") == 1
    with session_scope(demo_engine) as session:
        step_id = session.scalar(
            select(LadderStep.id).where(LadderStep.case_id == case_id, LadderStep.state == "open")
        )
        session.add(
            Notice(case_id=case_id, step_id=step_id, kind=NoticeKind.ORDER.value, township_id=township.scope_id,
                   year=2026, seq=99, number="古港镇控辍〔2026〕99号", issued_on=date(2026, 11, 23),
                   template="test", sha256="0" * 64, content=b"x")
        )  # fmt: skip
        session.commit()
        ladder.serve_order(session, actor=township, case_id=case_id, **serve)
        seen = ladder.case_ladder(session, actor=township, case_id=case_id)
    assert seen.current.due_on == date(2026, 12, 8) and seen.current.served_to == "李某(父亲)"
    assert seen.current.notices[0][2] == "古港镇控辍〔2026〕99号"
    # the time limit passes without a return: the nightly pass hands the case to the county
    on_day(monkeypatch, "2026-12-09")
    with session_scope(demo_engine) as session:
        counts = ladder.advance(session, actor=actors["demo_county"])
        again = ladder.advance(session, actor=actors["demo_county"])
        seen = ladder.case_ladder(session, actor=township, case_id=case_id)
    assert counts["to_county"] >= 1 and again == {"started": 0, "to_township": 0, "to_county": 0}
    assert (
        seen.steps[1].state is StepState.ESCALATED
        and seen.steps[1].reason == "限期已过仍未复学,已升级至县教育局"
    )
    assert seen.current.step is Step.COUNTY and seen.current.owner == "县教育局"
    with session_scope(demo_engine) as session, pytest.raises(ladder.LadderError, match="不能跳过"):
        ladder.skip_step(session, actor=actors["demo_county"], case_id=case_id, reason="不需要县级措施")
    with session_scope(demo_engine) as session, pytest.raises(PermissionDenied):
        ladder.record_measure(
            session,
            actor=township,
            case_id=case_id,
            measure=CountyMeasure.COURT,
            detail="起诉",
            on=date(2026, 12, 9),
        )
    on_day(monkeypatch, "2027-01-20")
    with session_scope(demo_engine) as session:
        assert ladder.case_ladder(session, actor=township, case_id=case_id).current.overdue
        ladder.record_measure(
            session,
            actor=actors["demo_county"],
            case_id=case_id,
            measure=CountyMeasure.COURT,
            detail="提请法院支持",
            on=date(2027, 1, 20),
        )
        seen = ladder.case_ladder(session, actor=township, case_id=case_id)
        mine, _ = ladder.ladder_rows(session, actor=actors["demo_county"], mine_only=True)
    assert (
        seen.current.step is Step.COUNTY
        and not seen.current.overdue
        and seen.current.measure is CountyMeasure.COURT
    )
    assert case_id not in {
        r.case_id for r in mine
    }  # measured: waiting for the return, no longer the county's to do


def test_advance_escalates_the_school_step_once_and_lists_it(demo_engine, actors, case, monkeypatch):
    case_id, _ = case
    county, township = actors["demo_county"], actors["demo_township"]
    with session_scope(demo_engine) as session:
        rows, total = ladder.ladder_rows(session, actor=township, search="", limit=500)
        assert case_id in {r.case_id for r in rows} and total >= 1
    on_day(monkeypatch, "2026-12-08")  # the school's ten working days ended on 7 December
    with session_scope(demo_engine) as session:
        late, _ = ladder.ladder_rows(session, actor=township, overdue_only=True, limit=500)
        assert case_id in {r.case_id for r in late}
        before = ladder.ladder_counts(session, actor=township)[Step.SCHOOL]
        ladder.advance(session, actor=county)
        steps = session.execute(
            select(LadderStep.step, LadderStep.state, LadderStep.opened_on, LadderStep.due_on)
            .where(LadderStep.case_id == case_id)
            .order_by(LadderStep.id)
        ).all()
        ladder.advance(session, actor=county)
        assert (
            session.execute(
                select(LadderStep.step, LadderStep.state, LadderStep.opened_on, LadderStep.due_on)
                .where(LadderStep.case_id == case_id)
                .order_by(LadderStep.id)
            ).all()
            == steps
        )
        after = ladder.ladder_counts(session, actor=township)
        mine, _ = ladder.ladder_rows(session, actor=township, mine_only=True, limit=500)
        data = ladder.export_ladder(session, actor=township)
    assert [(s, st) for s, st, _, _ in steps] == [("school", "escalated"), ("township", "open")]
    assert steps[1][2:] == (date(2026, 12, 8), date(2026, 12, 22))  # due counted from the escalation day
    assert after[Step.SCHOOL][1] == 0 and before[1] >= 1
    assert case_id in {r.case_id for r in mine if r.step is Step.TOWNSHIP}
    assert data[:2] == b"PK"
    with session_scope(demo_engine) as session:
        escalations = session.scalar(
            select(func.count()).where(
                AuditLog.action == "ladder.escalate", AuditLog.entity_id == str(case_id)
            )
        )
        passes = session.scalar(select(func.count()).where(AuditLog.action == "ladder.advance"))
    assert escalations == 1 and passes >= 2


def test_return_follow_ups_and_closure(demo_engine, actors, case, monkeypatch):
    case_id, _ = case
    teacher, registrar, township, county = (
        actors[u] for u in ("demo_teacher", "demo_registrar", "demo_township", "demo_county")
    )
    with session_scope(demo_engine) as session:
        ladder.record_return(session, actor=teacher, case_id=case_id, on=date(2026, 11, 23))
    with session_scope(demo_engine) as session, pytest.raises(ladder.LadderError, match="已登记复学"):
        ladder.record_return(session, actor=teacher, case_id=case_id, on=date(2026, 11, 23))
    with session_scope(demo_engine) as session:
        seen = ladder.case_ladder(session, actor=teacher, case_id=case_id)
        assert session.get(Case, case_id).status == CaseStatus.STABLE.value
    assert seen.current.step is Step.FOLLOW_UP and seen.current.due_on == date(2026, 11, 30)
    with (
        session_scope(demo_engine) as session,
        pytest.raises(ladder.LadderError, match="第 1 次、第 2 次、第 3 次"),
    ):
        ladder.request_closure(
            session, actor=registrar, case_id=case_id, reason=CloseReason.RETURNED, evidence="已返校"
        )
    assert refused(demo_engine, case_id, "closure_request") == 1
    on_day(monkeypatch, "2026-11-30")
    with session_scope(demo_engine) as session:
        ladder.record_follow_up(
            session, actor=teacher, case_id=case_id, on=date(2026, 11, 30), in_school=True, detail="按时到校"
        )
        ladder.skip_step(session, actor=registrar, case_id=case_id, reason="已转入寄宿班,由宿管每日核实")
        nxt = ladder.case_ladder(session, actor=teacher, case_id=case_id).current
    assert (nxt.step, nxt.seq) == (Step.FOLLOW_UP, 3)  # the term's end
    with (
        session_scope(demo_engine) as session,
        pytest.raises(ladder.LadderError, match="最早可在 2027-01-18"),
    ):
        ladder.record_follow_up(  # not weeks before its date
            session, actor=teacher, case_id=case_id, on=date(2026, 11, 30), in_school=True, detail="在校"
        )
    assert refused(demo_engine, case_id, "follow_up") == 1
    on_day(monkeypatch, "2027-01-18")
    with session_scope(demo_engine) as session:
        ladder.record_follow_up(
            session, actor=teacher, case_id=case_id, on=date(2027, 1, 18), in_school=True, detail="在校"
        )
        ready, _ = ladder.ladder_rows(session, actor=registrar, step=Step.READY, limit=500)
        mine, _ = ladder.ladder_rows(session, actor=teacher, mine_only=True, limit=500)
        counted = ladder.ladder_counts(session, actor=registrar)[Step.READY]
        assert "request_closure" in ladder.case_ladder(session, actor=teacher, case_id=case_id).allowed
    assert [(r.step, r.owner, r.overdue) for r in ready if r.case_id == case_id] == [
        (Step.READY, "学校(教育线)", False)
    ]
    assert case_id in {r.case_id for r in mine if r.step is Step.READY}
    assert counted.open >= 1 and counted.overdue == 0 and counted.earliest_waiting <= date(2027, 1, 18)
    with session_scope(demo_engine) as session:
        ladder.request_closure(
            session, actor=teacher, case_id=case_id, reason=CloseReason.RETURNED, evidence="三次跟踪均在校"
        )
    with session_scope(demo_engine) as session, pytest.raises(ladder.LadderError, match="审批中"):
        ladder.request_closure(
            session, actor=teacher, case_id=case_id, reason=CloseReason.RETURNED, evidence="再次申请"
        )
    with session_scope(demo_engine) as session, pytest.raises(ladder.LadderError, match="销号由乡镇干部审批"):
        ladder.decide_closure(session, actor=county, case_id=case_id, approve=True, note="")
    with session_scope(demo_engine) as session, pytest.raises(ladder.LadderError, match="须写明原因"):
        ladder.decide_closure(session, actor=township, case_id=case_id, approve=False, note="")
    with session_scope(demo_engine) as session:
        ladder.decide_closure(session, actor=township, case_id=case_id, approve=False, note="回执不全")
        assert ladder.case_ladder(session, actor=township, case_id=case_id).current is None
        ready, _ = ladder.ladder_rows(session, actor=teacher, step=Step.READY, limit=500)
        assert case_id in {r.case_id for r in ready}  # refused: listed again as 可申请销号
        ladder.request_closure(
            session, actor=teacher, case_id=case_id, reason=CloseReason.RETURNED, evidence="补齐回执"
        )
        ladder.decide_closure(session, actor=township, case_id=case_id, approve=True, note="同意")
        closed = session.get(Case, case_id)
        assert (closed.status, closed.close_reason, closed.close_evidence) == (
            "closed",
            "returned",
            "补齐回执",
        )


def test_a_follow_up_out_of_school_starts_the_school_step_again(demo_engine, actors, case):
    case_id, _ = case
    teacher = actors["demo_teacher"]
    with session_scope(demo_engine) as session:
        ladder.record_return(session, actor=teacher, case_id=case_id, on=date(2026, 11, 23))
        ladder.record_follow_up(
            session, actor=teacher, case_id=case_id, on=date(2026, 11, 23), in_school=False, detail="又不来了"
        )
        seen = ladder.case_ladder(session, actor=teacher, case_id=case_id)
        assert session.get(Case, case_id).status == CaseStatus.FOLLOWING.value
    assert (seen.current.step, seen.current.seq) == (Step.SCHOOL, 2)
    assert seen.steps[-2].in_school is False
