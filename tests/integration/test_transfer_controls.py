"""转学 controls through the services, on SQLite and PostgreSQL: proofs for a transfer in, the grade placed in, the
window at the start of each term (outside it: a reason and the county decides), mid-year entrants into full
classes. The demo's today (2026-11-23) is the 84th day of the autumn term, outside the window."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.factories import DEMO_SCHOOL, class_of, new_registrar
from tests.integration.test_status_changes import NEIGHBOUR, decide, reload, student_in, submit
from xueji.auth import PermissionDenied
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.models import AuditLog, School, SchoolClass, StatusChange, Student
from xueji.rules.class_code import parse_class_code
from xueji.rules.status_changes import ChangeKind, Document
from xueji.services.registry.status_changes import StatusChangeError, list_changes
from xueji.services.registry.transfer_controls import placement_choices, window_today

pytestmark = pytest.mark.usefixtures("fixed_today")
PROOFS = frozenset({Document.HOUSEHOLD_PROOF, Document.REGISTRY_FORM})


@pytest.fixture
def neighbour(demo_engine, actors):
    with session_scope(demo_engine) as session:
        return new_registrar(session, actors["demo_admin"], "reg_meitian", NEIGHBOUR)


def on_day(monkeypatch, day: str) -> None:
    monkeypatch.setenv("XUEJI_TODAY", day)
    get_settings.cache_clear()


def transfer_in(engine, actor, child, grade: int, **extra) -> int:
    fields = {
        "student_id": child.id,
        "kind": ChangeKind.TRANSFER_IN,
        "effective_date": date.fromisoformat(str(get_settings().today)),
        "reason": "随父母迁居",
        "to_class_id": class_of(engine, NEIGHBOUR, grade),
        "documents": PROOFS,
    }
    return submit(engine, actor, **(fields | extra))


def row_of(engine, actor, change_id):
    with session_scope(engine) as session:
        return next(r for r in list_changes(session, actor=actor) if r.id == change_id)


def test_in_the_window_a_transfer_in_with_both_proofs_goes_to_the_sending_school(
    demo_engine, actors, neighbour, monkeypatch
):
    on_day(monkeypatch, "2026-09-07")  # the 7th day of the term
    child = student_in(demo_engine, DEMO_SCHOOL, grade=3)
    change_id = transfer_in(demo_engine, neighbour, child, 3)
    row = row_of(demo_engine, neighbour, change_id)
    assert (row.outside_window, row.decider, row.note) == (False, "转出学校", "")
    with pytest.raises(PermissionDenied):
        decide(demo_engine, actors["demo_county"], change_id)
    decide(demo_engine, actors["demo_registrar"], change_id)
    assert reload(demo_engine, child.id).class_id == class_of(demo_engine, NEIGHBOUR, 3)


def test_a_missing_proof_is_refused_unless_the_registrar_says_why_it_comes_later(
    demo_engine, actors, neighbour, monkeypatch
):
    on_day(monkeypatch, "2026-09-07")
    child = student_in(demo_engine, DEMO_SCHOOL, grade=3)
    partial = frozenset({Document.HOUSEHOLD_PROOF, Document.TRANSFER_CERTIFICATE})
    with pytest.raises(StatusChangeError, match="转入须核验转出学校学籍登记表;材料暂缺时须填写证明待补说明"):
        transfer_in(demo_engine, neighbour, child, 3, documents=partial)
    change_id = transfer_in(
        demo_engine, neighbour, child, 3, documents=partial, proofs_later="原校盖章后下周一补交"
    )
    with session_scope(demo_engine) as session:
        change = session.get(StatusChange, change_id)
        assert (change.documents, change.placement_reason) == (
            "household_proof,transfer_certificate",
            "证明待补:原校盖章后下周一补交",
        )
    assert row_of(demo_engine, actors["demo_registrar"], change_id).note == (
        "证明待补:原校盖章后下周一补交;缺转出学校学籍登记表"
    )


def test_the_grade_placed_in_must_match_the_record_a_lower_one_is_a_repeat_with_a_reason(
    demo_engine, actors, neighbour, monkeypatch
):
    on_day(monkeypatch, "2026-09-07")
    child = student_in(demo_engine, DEMO_SCHOOL, grade=4)
    with pytest.raises(StatusChangeError, match="编入5年级高于学籍所在的4年级:不能跳级编入"):
        transfer_in(demo_engine, neighbour, child, 5, placement_reason="成绩好")
    with pytest.raises(StatusChangeError, match=re.escape("属留级(原则上取消留级):确需编入时须填写留级原因")):
        transfer_in(demo_engine, neighbour, child, 3)
    change_id = transfer_in(demo_engine, neighbour, child, 3, placement_reason="外省转回,教材衔接,家长申请")
    row = row_of(demo_engine, actors["demo_registrar"], change_id)
    assert row.note == "留级:外省转回,教材衔接,家长申请" and row.can_decide  # the approver sees why


def test_outside_the_window_a_transfer_in_needs_a_reason_and_the_county_decides(
    demo_engine, actors, neighbour
):
    child = student_in(demo_engine, DEMO_SCHOOL, grade=3)
    with pytest.raises(
        StatusChangeError, match=re.escape("已过本学期转学窗口(开学后 14 天,今天是开学第 84 天)")
    ):
        transfer_in(demo_engine, neighbour, child, 3)
    change_id = transfer_in(demo_engine, neighbour, child, 3, override_reason="父母11月调动工作")
    with session_scope(demo_engine) as session:
        assert session.get(StatusChange, change_id).outside_window
    assert row_of(demo_engine, neighbour, change_id).decider == "县教育局"
    with pytest.raises(PermissionDenied, match="窗口期外的转入申请由县教育局审批"):
        decide(demo_engine, actors["demo_registrar"], change_id)  # the sending school no longer decides
    with session_scope(demo_engine) as session:
        denied = session.scalar(
            select(AuditLog).where(AuditLog.action == "denied").order_by(AuditLog.id.desc())
        )
        assert (denied.user_id, denied.entity_id) == (actors["demo_registrar"].user_id, str(change_id))
    county_row = row_of(demo_engine, actors["demo_county"], change_id)
    assert county_row.can_decide and county_row.outside_window
    decide(demo_engine, actors["demo_county"], change_id)
    assert reload(demo_engine, child.id).status == "enrolled"
    assert reload(demo_engine, child.id).class_id == class_of(demo_engine, NEIGHBOUR, 3)


def test_a_transfer_out_outside_the_window_needs_a_reason_and_is_marked(demo_engine, actors):
    child = student_in(demo_engine, DEMO_SCHOOL, grade=5)
    fields = {
        "student_id": child.id,
        "kind": ChangeKind.TRANSFER_OUT,
        "effective_date": date(2026, 11, 23),
        "reason": "随父母迁往广东",
        "destination": "广东省东莞市某小学",
    }
    with pytest.raises(StatusChangeError, match="请填写特殊情况说明"):
        submit(demo_engine, actors["demo_registrar"], **fields)
    change_id = submit(demo_engine, actors["demo_registrar"], **fields, override_reason="父母工作调动")
    row = row_of(demo_engine, actors["demo_county"], change_id)
    assert (row.outside_window, row.decider, row.can_decide) == (True, "县教育局", True)


def test_in_the_holidays_transfers_need_no_reason(demo_engine, actors, neighbour, monkeypatch):
    on_day(monkeypatch, "2027-02-01")  # winter holiday: the spring term starts on 22 February
    child = student_in(demo_engine, DEMO_SCHOOL, grade=3)
    with session_scope(demo_engine) as session:
        assert "假期中" in window_today(session, actor=neighbour).notice
    change_id = transfer_in(demo_engine, neighbour, child, 3)
    assert row_of(demo_engine, neighbour, change_id).decider == "转出学校"


def _fill(engine, class_id: int, size: int) -> str:
    """Bring a class to `size` enrolled children with pupils of another school; return its name."""
    with session_scope(engine) as session:
        now = session.scalar(
            select(func.count()).where(Student.class_id == class_id, Student.status == "enrolled")
        )
        donors = session.scalars(
            select(Student.id)
            .join(School)
            .where(School.code == "2143016971", Student.status == "enrolled")
            .limit(size - now)
        ).all()
        for student_id in donors:
            session.get(Student, student_id).class_id = class_id
        session.commit()
        return parse_class_code(
            session.scalar(select(SchoolClass.code).where(SchoolClass.id == class_id))
        ).name


def test_a_mid_year_entrant_is_refused_into_a_class_at_the_limit_naming_it_and_its_size(
    demo_engine, actors, neighbour, monkeypatch
):
    monkeypatch.setenv("XUEJI_MIDYEAR_CLASS_LIMIT", "40")
    get_settings.cache_clear()
    target = class_of(demo_engine, NEIGHBOUR, 3)
    name = _fill(demo_engine, target, 40)
    child = student_in(demo_engine, DEMO_SCHOOL, grade=3)
    with pytest.raises(StatusChangeError) as refused:
        transfer_in(demo_engine, neighbour, child, 3, override_reason="父母调动")
    assert str(refused.value) == (
        f"{name}已有40人,达到插班上限(40人):开学 14 天后,满额的班级不再接收插班生,请编入其他班级"
    )
    with session_scope(demo_engine) as session:
        (choice,) = [c for c in placement_choices(session, actor=neighbour) if c.id == target]
    assert (choice.grade, choice.size, choice.label) == (3, 40, f"{name}(三年级,40人)")
    on_day(monkeypatch, "2026-09-07")  # at the term's start the class still takes the child (limit 55)
    assert transfer_in(demo_engine, neighbour, child, 3)


def test_a_resumption_goes_back_to_the_grade_at_suspension_not_lower_not_above_the_record(
    demo_engine, actors, monkeypatch
):
    registrar, county = actors["demo_registrar"], actors["demo_county"]
    child = student_in(demo_engine, DEMO_SCHOOL, grade=4)
    suspension = submit(
        demo_engine,
        registrar,
        student_id=child.id,
        kind=ChangeKind.SUSPENSION,
        effective_date=date(2026, 11, 23),
        reason="住院治疗",
        suspension_until=date(2027, 9, 30),
        documents=frozenset({Document.MEDICAL_CERTIFICATE}),
        override_reason="确诊后须立即住院",  # after mid-term (h3's rule)
    )
    decide(demo_engine, county, suspension)
    on_day(monkeypatch, "2027-09-20")  # a year on: the child's class is in grade 5 now
    back = {"student_id": child.id, "kind": ChangeKind.RESUMPTION, "effective_date": date(2027, 9, 20)}
    grade = {g: class_of(demo_engine, DEMO_SCHOOL, g, school_year=2027) for g in (3, 4, 6)}
    with pytest.raises(StatusChangeError, match=re.escape("不能低于休学时的年级(4年级)")):
        submit(demo_engine, registrar, **back, reason="病愈", to_class_id=grade[3])
    with pytest.raises(StatusChangeError, match="编入6年级高于学籍所在的5年级"):
        submit(demo_engine, registrar, **back, reason="病愈", to_class_id=grade[6])
    change_id = submit(demo_engine, registrar, **back, reason="病愈", to_class_id=grade[4])
    with session_scope(demo_engine) as session:
        assert session.get(StatusChange, change_id).placement_reason is None  # back to its grade: no repeat
