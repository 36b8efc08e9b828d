"""学籍异动 through the services, on SQLite and PostgreSQL: every kind, who decides, deadlines, races."""

from __future__ import annotations

import re
import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.factories import DEMO_SCHOOL, class_of, new_registrar
from xueji.auth import PermissionDenied
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.models import AuditLog, School, SchoolClass, StatusChange, Student
from xueji.rules.class_code import parse_class_code
from xueji.rules.status_changes import ChangeKind, Document
from xueji.services.registry.status_changes import (
    ChangeRequest,
    StatusChangeError,
    decide_change,
    list_changes,
    overdue_by_school,
    submit_change,
)
from xueji.services.registry.suspensions import expiring_suspensions
from xueji.services.registry.transfer_lookup import TransferLookupError, find_transfer_candidate

pytestmark = pytest.mark.usefixtures("fixed_today")
NEIGHBOUR = "2143016967"  # 古港镇梅田小学
TODAY = date(2026, 11, 23)
PROOFS = frozenset({Document.HOUSEHOLD_PROOF, Document.REGISTRY_FORM})  # what a transfer in carries


def student_in(engine, school: str, *, grade: int | None = None, status: str = "enrolled") -> Student:
    with session_scope(engine) as session:
        rows = session.execute(
            select(Student, SchoolClass.code)
            .join(School, Student.school_id == School.id)
            .join(SchoolClass, Student.class_id == SchoolClass.id)
            .where(School.code == school, Student.status == status)
            .order_by(Student.id)
        ).all()
        for student, code in rows:
            if grade is None or parse_class_code(code).grade(2026) == grade:
                session.expunge(student)
                return student
    raise AssertionError("no such student in the demo")


def submit(engine, actor, **fields):
    if fields["kind"] is ChangeKind.TRANSFER_IN:  # the receiving school finds the child by ID number first
        fields.setdefault("lookup_id", look_up(engine, actor, fields["student_id"]))
    with session_scope(engine) as session:
        return submit_change(session, actor=actor, request=ChangeRequest(**fields)).id


def look_up(engine, actor, student_id: int) -> int:
    with session_scope(engine) as session:
        number = session.get(Student, student_id).id_number
        return find_transfer_candidate(session, actor=actor, id_number=number).lookup_id


def submit_dropout(engine, actor, student_id: int, reason: str) -> int:
    return submit(
        engine, actor, student_id=student_id, kind=ChangeKind.DROPOUT, effective_date=TODAY, reason=reason
    )


def decide(engine, actor, change_id, approve=True, reason=""):
    with session_scope(engine) as session:
        return decide_change(session, actor=actor, change_id=change_id, approve=approve, reason=reason)


def reload(engine, student_id) -> Student:
    with session_scope(engine) as session:
        student = session.get(Student, student_id)
        session.expunge(student)
        return student


@pytest.fixture
def neighbour(demo_engine, actors):
    with session_scope(demo_engine) as session:
        return new_registrar(session, actors["demo_admin"], "reg_meitian", NEIGHBOUR)


def test_a_request_is_due_seven_working_days_after_submission(demo_engine, actors):
    child = student_in(demo_engine, DEMO_SCHOOL, grade=3)
    change_id = submit_dropout(demo_engine, actors["demo_registrar"], child.id, "外出打工")
    with session_scope(demo_engine) as session:
        change = session.get(StatusChange, change_id)
        assert change.due_date == date(2026, 12, 2) and not change.due_guessed
    assert reload(demo_engine, child.id).status == "enrolled"  # nothing changes before approval


def test_a_transfer_in_is_submitted_by_the_receiving_school_and_moves_the_record_on_approval(
    demo_engine, actors, neighbour, monkeypatch
):
    monkeypatch.setenv(
        "XUEJI_TODAY", "2026-09-07"
    )  # in the term's transfer window (outside: the county decides)
    get_settings.cache_clear()
    child = student_in(demo_engine, DEMO_SCHOOL, grade=3)
    target = class_of(demo_engine, NEIGHBOUR, 3)
    change_id = submit(
        demo_engine,
        neighbour,
        student_id=child.id,
        kind=ChangeKind.TRANSFER_IN,
        effective_date=date(2026, 9, 7),
        reason="随父母迁居",
        documents=PROOFS | {Document.TRANSFER_CERTIFICATE},
        to_class_id=target,
    )
    with pytest.raises(PermissionDenied, match="转出学校"):
        decide(demo_engine, neighbour, change_id)  # the receiving side may not approve
    with pytest.raises(PermissionDenied):
        decide(demo_engine, actors["demo_county"], change_id)
    assert reload(demo_engine, child.id).school_id == child.school_id  # still one school, the old one
    decide(demo_engine, actors["demo_registrar"], change_id)
    moved = reload(demo_engine, child.id)
    with session_scope(demo_engine) as session:
        assert session.scalar(select(School.code).where(School.id == moved.school_id)) == NEIGHBOUR
    assert (moved.class_id, moved.status) == (target, "enrolled")


def test_grade_six_refuses_a_transfer_unless_an_override_reason_is_given(demo_engine, actors, neighbour):
    child = student_in(demo_engine, DEMO_SCHOOL, grade=6)
    fields = {
        "student_id": child.id,
        "kind": ChangeKind.TRANSFER_IN,
        "effective_date": TODAY,
        "reason": "随迁",
        "to_class_id": class_of(demo_engine, NEIGHBOUR, 6),
        "documents": PROOFS,
    }
    with pytest.raises(StatusChangeError, match="6年级原则上不办理转学"):
        submit(demo_engine, neighbour, **fields)
    assert submit(demo_engine, neighbour, **fields, override_reason="父母工作调动,县局同意")


def test_a_transfer_into_a_full_class_is_refused_naming_the_class_and_its_size(
    demo_engine, actors, neighbour, monkeypatch
):
    monkeypatch.setenv(
        "XUEJI_TODAY", "2026-09-07"
    )  # at the term's start (later: the 插班生 rule refuses first)
    get_settings.cache_clear()
    target = class_of(demo_engine, NEIGHBOUR, 3)
    with session_scope(demo_engine) as session:
        size = session.scalar(
            select(func.count()).where(Student.class_id == target, Student.status == "enrolled")
        )
        donors = session.scalars(
            select(Student.id)
            .join(School)
            .where(School.code == "2143016971", Student.status == "enrolled")
            .limit(55 - size)
        ).all()
        for student_id in donors:  # fill the class to exactly 55
            session.get(Student, student_id).class_id = target
        session.commit()
    child = student_in(demo_engine, DEMO_SCHOOL, grade=3)
    code = parse_class_code(next(iter(_codes(demo_engine, target))))
    with pytest.raises(StatusChangeError, match=re.escape(f"{code.name}已有55人,编入后将达56人")):
        submit(
            demo_engine,
            neighbour,
            student_id=child.id,
            kind=ChangeKind.TRANSFER_IN,
            effective_date=TODAY,
            reason="随迁",
            to_class_id=target,
            documents=PROOFS,
        )


def _codes(engine, class_id):
    with session_scope(engine) as session:
        yield session.scalar(select(SchoolClass.code).where(SchoolClass.id == class_id))


def test_suspension_needs_a_medical_certificate_and_at_most_a_year_then_resumption_not_below(
    demo_engine, actors
):
    registrar, county = actors["demo_registrar"], actors["demo_county"]
    child = student_in(demo_engine, DEMO_SCHOOL, grade=4)
    base = {
        "student_id": child.id,
        "kind": ChangeKind.SUSPENSION,
        "effective_date": TODAY,
        "reason": "住院治疗",
    }
    with pytest.raises(StatusChangeError, match="已过2026-2027学年第一学期期中"):  # 2026-11-10
        submit(
            demo_engine,
            registrar,
            **base,
            suspension_until=date(2027, 6, 30),
            documents=frozenset({Document.MEDICAL_CERTIFICATE}),
        )
    base["override_reason"] = "确诊后须立即住院"
    with pytest.raises(StatusChangeError, match="医疗证明"):
        submit(demo_engine, registrar, **base, suspension_until=date(2027, 6, 30))
    with pytest.raises(StatusChangeError, match="最长一年"):
        submit(
            demo_engine,
            registrar,
            **base,
            suspension_until=date(2027, 12, 1),
            documents=frozenset({Document.MEDICAL_CERTIFICATE}),
        )
    change_id = submit(
        demo_engine,
        registrar,
        **base,
        suspension_until=date(2027, 6, 30),
        documents=frozenset({Document.MEDICAL_CERTIFICATE}),
    )
    decide(demo_engine, county, change_id)
    assert reload(demo_engine, child.id).status == "suspended"
    back = {"student_id": child.id, "kind": ChangeKind.RESUMPTION, "effective_date": TODAY, "reason": "病愈"}
    with pytest.raises(StatusChangeError, match="不能低于休学时的年级"):
        submit(demo_engine, registrar, **back, to_class_id=class_of(demo_engine, DEMO_SCHOOL, 3))
    change_id = submit(demo_engine, registrar, **back, to_class_id=class_of(demo_engine, DEMO_SCHOOL, 4))
    decide(demo_engine, county, change_id)
    assert reload(demo_engine, child.id).status == "enrolled"


@pytest.mark.parametrize(
    ("kind", "extra", "result"),
    [
        (
            ChangeKind.TRANSFER_OUT,
            {"destination": "广东省东莞市某小学", "override_reason": "父母工作调动"},  # past the window
            "transferred_out",
        ),
        (ChangeKind.DROPOUT, {}, "dropped_out"),
        (ChangeKind.GRADUATION, {}, "graduated"),
        (ChangeKind.DEATH, {"documents": frozenset({Document.DEATH_CERTIFICATE})}, "deceased"),
    ],
)
def test_the_county_approves_a_change_of_the_school_and_the_status_follows(
    demo_engine, actors, kind, extra, result
):
    child = student_in(demo_engine, DEMO_SCHOOL, grade=5)
    change_id = submit(
        demo_engine,
        actors["demo_registrar"],
        student_id=child.id,
        kind=kind,
        effective_date=TODAY,
        reason="核实",
        **extra,
    )
    with pytest.raises(PermissionDenied):
        decide(demo_engine, actors["demo_registrar"], change_id)  # never their own school's request
    decide(demo_engine, actors["demo_county"], change_id)
    assert reload(demo_engine, child.id).status == result


def test_a_dropout_who_is_brought_back_is_enrolled_again(demo_engine, actors):
    registrar, county = actors["demo_registrar"], actors["demo_county"]
    child = student_in(demo_engine, DEMO_SCHOOL, grade=5)
    decide(
        demo_engine,
        county,
        submit_dropout(demo_engine, registrar, child.id, "厌学在家"),
    )
    change_id = submit(
        demo_engine,
        registrar,
        student_id=child.id,
        kind=ChangeKind.RETURN,
        effective_date=TODAY,
        reason="劝返成功",
        to_class_id=class_of(demo_engine, DEMO_SCHOOL, 5),
    )
    decide(demo_engine, county, change_id)
    assert reload(demo_engine, child.id).status == "enrolled"


def test_a_rejection_needs_a_reason_and_changes_nothing(demo_engine, actors):
    child = student_in(demo_engine, DEMO_SCHOOL, grade=2)
    change_id = submit_dropout(demo_engine, actors["demo_registrar"], child.id, "疑似辍学")
    with pytest.raises(StatusChangeError, match="驳回须填写理由"):
        decide(demo_engine, actors["demo_county"], change_id, approve=False)
    decide(demo_engine, actors["demo_county"], change_id, approve=False, reason="学生在校,情况不实")
    assert reload(demo_engine, child.id).status == "enrolled"
    rows = [r for r in list_changes_for(demo_engine, actors["demo_registrar"]) if r.id == change_id]
    assert [(r.kind, r.state, r.days_left) for r in rows] == [("辍学", "已驳回", None)]


def list_changes_for(engine, actor):
    with session_scope(engine) as session:
        return list_changes(session, actor=actor)


def test_only_one_open_request_per_student(demo_engine, actors):
    child = student_in(demo_engine, DEMO_SCHOOL, grade=2)
    fields = {"student_id": child.id, "kind": ChangeKind.DROPOUT, "effective_date": TODAY, "reason": "辍学"}
    submit(demo_engine, actors["demo_registrar"], **fields)
    with pytest.raises(StatusChangeError, match="已有一份待审批"):
        submit(demo_engine, actors["demo_registrar"], **fields)


def test_two_officers_approving_the_same_request_at_once_exactly_one_wins(demo_engine, actors):
    child = student_in(demo_engine, DEMO_SCHOOL, grade=2)
    change_id = submit_dropout(demo_engine, actors["demo_registrar"], child.id, "辍学")
    start, outcomes = threading.Barrier(2), []

    def approve():
        start.wait()
        try:
            decide(demo_engine, actors["demo_county"], change_id)
            outcomes.append("won")
        except StatusChangeError as error:
            outcomes.append(str(error))

    threads = [threading.Thread(target=approve) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["won", "该申请已被他人处理,请刷新后查看结果"]
    with session_scope(demo_engine) as session:
        assert session.scalar(select(func.count()).where(AuditLog.action == "approve")) == 1


def test_overdue_requests_are_counted_per_school_for_the_county(demo_engine, actors, monkeypatch):
    child = student_in(demo_engine, DEMO_SCHOOL, grade=2)
    submit_dropout(demo_engine, actors["demo_registrar"], child.id, "辍学")
    monkeypatch.setenv("XUEJI_TODAY", "2026-12-10")
    from xueji.config import get_settings

    get_settings.cache_clear()
    with session_scope(demo_engine) as session:
        assert overdue_by_school(session, actor=actors["demo_county"]) == [("古港镇完全小学", 1, 1)]
        (row,) = list_changes(session, actor=actors["demo_county"], open_only=True)
        assert row.days_left == -6 and row.can_decide


def test_the_receiving_school_finds_a_child_only_by_the_full_id_number_and_the_lookup_is_audited(
    demo_engine, actors, neighbour
):
    child = student_in(demo_engine, DEMO_SCHOOL, grade=3)
    with session_scope(demo_engine) as session:
        found = find_transfer_candidate(session, actor=neighbour, id_number=child.id_number.lower())
        entry = session.scalar(select(AuditLog).order_by(AuditLog.id.desc()))
    assert (found.student_id, found.name, found.grade) == (child.id, child.name, "三年级")
    assert (entry.action, entry.entity_id, entry.outcome) == ("transfer_lookup", str(child.id), "success")
    assert found.lookup_id == entry.id
    with pytest.raises(TransferLookupError, match="完整、正确的18位"), session_scope(demo_engine) as session:
        find_transfer_candidate(session, actor=neighbour, id_number=child.id_number[-6:])
    with pytest.raises(TransferLookupError, match="已在本校"), session_scope(demo_engine) as session:
        find_transfer_candidate(session, actor=actors["demo_registrar"], id_number=child.id_number)
    with pytest.raises(PermissionDenied), session_scope(demo_engine) as session:
        find_transfer_candidate(session, actor=actors["demo_teacher"], id_number=child.id_number)


def test_a_suspension_shows_up_a_month_before_it_ends_and_stays_once_ended(demo_engine, actors, monkeypatch):
    registrar, county = actors["demo_registrar"], actors["demo_county"]
    child = student_in(demo_engine, DEMO_SCHOOL, grade=4)
    change_id = submit(
        demo_engine,
        registrar,
        student_id=child.id,
        kind=ChangeKind.SUSPENSION,
        effective_date=date(2026, 11, 2),  # before mid-term
        reason="住院治疗",
        suspension_until=date(2027, 3, 1),
        documents=frozenset({Document.MEDICAL_CERTIFICATE}),
    )
    decide(demo_engine, county, change_id)

    def listed_on(day: str) -> list:
        monkeypatch.setenv("XUEJI_TODAY", day)
        get_settings.cache_clear()
        with session_scope(demo_engine) as session:
            listed = expiring_suspensions(session, actor=registrar)  # the demo's own suspensions aside
            return [(r.student_id, r.days_left) for r in listed if r.student_id == child.id]

    assert listed_on("2027-01-28") == []
    assert listed_on("2027-01-29") == [(child.id, 31)]
    assert listed_on("2027-03-05") == [(child.id, -4)]
    assert listed_on("2027-01-29") == [(child.id, 31)]
    with session_scope(demo_engine) as session:
        assert (
            expiring_suspensions(session, actor=new_registrar(session, actors["demo_admin"], "r2", NEIGHBOUR))
            == []
        )
