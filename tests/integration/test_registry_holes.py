"""The smaller holes of issue 21, closed on SQLite and PostgreSQL: a transfer in only for a child found through the
audited ID-number lookup; the correction's duplicate check audited and silent about children outside the user's
scope; sweep and family-member updates keeping the values they replace in the audit log."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.factories import DEMO_SCHOOL, class_of, new_registrar
from xueji.auth import PermissionDenied
from xueji.clock import now
from xueji.db import session_scope
from xueji.models import AuditLog, FamilyMember, Household, School, StatusChange, Student, SweepChild
from xueji.rules.status_changes import ChangeKind, Document
from xueji.rules.sweeps import ChildFacts, FoundStatus, HouseholdFacts, VillageStatus
from xueji.services.registry import student_record, transfer_lookup
from xueji.services.registry.status_changes import ChangeRequest, submit_change
from xueji.services.sweeps import fieldwork, sheet_import

pytestmark = pytest.mark.usefixtures("fixed_today")
NEIGHBOUR = "2143016967"  # 古港镇梅田小学
THIRD = "2143016971"
TODAY = date(2026, 11, 23)


def demo_student(engine, school: str = DEMO_SCHOOL, *, skip: int = 0) -> Student:
    """An enrolled third-grader with an ID number (transfers in grades 6 and 9 need a special reason)."""
    with session_scope(engine) as session:
        student = session.scalars(
            select(Student)
            .where(
                Student.class_id == class_of(engine, school, 3),
                Student.status == "enrolled",
                Student.id_number.is_not(None),
            )
            .order_by(Student.id)
            .offset(skip)
            .limit(1)
        ).one()
        session.expunge(student)
        return student


def last_entry(engine, **where) -> AuditLog:
    with session_scope(engine) as session:
        query = select(AuditLog).order_by(AuditLog.id.desc()).limit(1)
        for key, value in where.items():
            query = query.where(getattr(AuditLog, key) == value)
        entry = session.scalar(query)
        session.expunge(entry)
        return entry


def count(engine, model) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


# ---- 转入: only through the audited lookup -------------------------------------------------------------------


@pytest.fixture
def registrars(demo_engine, actors):
    with session_scope(demo_engine) as session:
        return (
            new_registrar(session, actors["demo_admin"], "reg_meitian", NEIGHBOUR),
            new_registrar(session, actors["demo_admin"], "reg_third", THIRD),
        )


def look_up(engine, actor, student: Student) -> int:
    with session_scope(engine) as session:
        return transfer_lookup.find_transfer_candidate(
            session, actor=actor, id_number=student.id_number
        ).lookup_id


def transfer_in(engine, actor, student: Student, lookup_id: int | None) -> int:
    with session_scope(engine) as session:
        return submit_change(
            session,
            actor=actor,
            request=ChangeRequest(
                student_id=student.id,
                kind=ChangeKind.TRANSFER_IN,
                effective_date=TODAY,
                reason="随父母迁居",
                documents=frozenset({Document.HOUSEHOLD_PROOF, Document.REGISTRY_FORM}),
                to_class_id=class_of(engine, NEIGHBOUR, 3),
                lookup_id=lookup_id,
                override_reason="父母工作调动",  # the demo's today is past the term's transfer window
            ),
        ).id


def test_a_transfer_in_by_internal_id_alone_is_refused_and_audited(demo_engine, registrars):
    receiving, _ = registrars
    child = demo_student(demo_engine)
    with pytest.raises(PermissionDenied, match="完整身份证号查询"):
        transfer_in(demo_engine, receiving, child, None)
    denied = last_entry(demo_engine, action="denied")
    assert (denied.user_id, denied.entity_type, denied.entity_id) == (
        receiving.user_id,
        "student",
        str(child.id),
    )
    assert _requests_for(demo_engine, child.id) == []


def _requests_for(engine, student_id: int) -> list[int]:
    with session_scope(engine) as session:
        return list(session.scalars(select(StatusChange.id).where(StatusChange.student_id == student_id)))


def test_a_lookup_proves_only_this_registrars_search_for_this_child_a_short_while_ago(
    demo_engine, registrars, monkeypatch
):
    receiving, other = registrars
    child, sibling = demo_student(demo_engine), demo_student(demo_engine, skip=1)
    theirs = look_up(demo_engine, other, child)  # another school's registrar looked the child up
    with pytest.raises(PermissionDenied):
        transfer_in(demo_engine, receiving, child, theirs)
    mine_for_sibling = look_up(demo_engine, receiving, sibling)  # a lookup of another child
    with pytest.raises(PermissionDenied):
        transfer_in(demo_engine, receiving, child, mine_for_sibling)
    fresh = look_up(demo_engine, receiving, child)
    later = now() + timedelta(minutes=31)
    with monkeypatch.context() as patched, pytest.raises(PermissionDenied):
        patched.setattr(transfer_lookup, "now", lambda: later)  # past the 30 minutes a lookup stays good
        transfer_in(demo_engine, receiving, child, fresh)
    assert _requests_for(demo_engine, child.id) == []
    with session_scope(demo_engine) as session:
        denials = session.scalar(
            select(func.count()).where(AuditLog.action == "denied", AuditLog.entity_id == str(child.id))
        )
    assert denials == 3
    change_id = transfer_in(demo_engine, receiving, child, fresh)  # within the time: accepted
    assert _requests_for(demo_engine, child.id) == [change_id]


# ---- 更正查重: audited, and silent about a child outside the scope ----------------------------------------------


def correct_id_number(engine, actor, student: Student, number: str) -> str:
    """Correct the student's ID number (with the birth date and sex it holds); return the refusal."""
    sex = "男" if int(number[16]) % 2 else "女"
    with session_scope(engine) as session, pytest.raises(student_record.StudentRecordError) as refused:
        student_record.correct_student(
            session,
            actor=actor,
            student_id=student.id,
            changes={"id_number": number, "birth_date": number[6:14], "sex": sex},
            reason="依据户口簿更正",
        )
    return str(refused.value)


def test_the_duplicate_check_does_not_name_a_child_of_another_school_and_is_audited(demo_engine, actors):
    registrar = actors["demo_registrar"]
    mine, elsewhere = demo_student(demo_engine), demo_student(demo_engine, NEIGHBOUR)
    with session_scope(demo_engine) as session:
        other_school = session.scalar(select(School.name).where(School.id == elsewhere.school_id))
    message = correct_id_number(demo_engine, registrar, mine, elsewhere.id_number)
    assert "已在其他学校登记学籍" in message and "转入申请" in message
    assert elsewhere.name not in message and other_school not in message
    entry = last_entry(demo_engine, action="duplicate_check")
    assert (entry.user_id, entry.outcome, entry.entity_id) == (
        registrar.user_id,
        "refused",
        str(elsewhere.id),
    )
    assert elsewhere.name not in (entry.detail or "") and f"#{mine.id}" in entry.detail
    with session_scope(demo_engine) as session:
        assert session.get(Student, mine.id).id_number == mine.id_number  # nothing written


def test_the_duplicate_check_names_a_child_of_ones_own_school_and_is_audited(demo_engine, actors):
    registrar = actors["demo_registrar"]
    mine, twin = demo_student(demo_engine), demo_student(demo_engine, skip=1)
    message = correct_id_number(demo_engine, registrar, mine, twin.id_number)
    assert twin.name in message and "合并" in message
    entry = last_entry(demo_engine, action="duplicate_check")
    assert (entry.outcome, entry.entity_id) == ("refused", str(twin.id))


# ---- before-values: sweeps and family members --------------------------------------------------------------


def gugang_village(engine) -> int:
    from xueji.models import SweepVillage, Township, Village

    with session_scope(engine) as session:
        return session.scalar(
            select(SweepVillage.id)
            .join(Village, SweepVillage.village_id == Village.id)
            .join(Township, Village.township_id == Township.id)
            .where(Township.code == "430181108000", SweepVillage.status == VillageStatus.IN_PROGRESS.value)
            .order_by(Village.code)
            .limit(1)
        )


def record(engine, actor, village: int, *, phone: str, address: str, status: FoundStatus, place: str = ""):
    with session_scope(engine) as session:
        return fieldwork.record_household(
            session,
            actor=actor,
            sweep_village_id=village,
            household=HouseholdFacts(
                head_name="钱大海",
                group_name="七组",
                phone=phone,
                address=address,
                visited_on=date(2026, 11, 20),
            ),
            children=[ChildFacts(name="钱小海", status=status, birth_date=date(2014, 5, 6), place=place)],
        ).id


def test_a_household_recorded_again_keeps_the_values_it_replaces(demo_engine, actors):
    teacher, village = actors["demo_teacher"], gugang_village(demo_engine)
    household = record(
        demo_engine,
        teacher,
        village,
        phone="13800001111",
        address="七组12号",
        status=FoundStatus.NOT_ENROLLED,
    )
    created = last_entry(demo_engine, entity_type="household")
    assert created.action == "create" and created.before is None
    record(
        demo_engine,
        teacher,
        village,
        phone="13900002222",
        address="七组15号",
        status=FoundStatus.ELSEWHERE,
        place="广东省东莞市",
    )
    with session_scope(demo_engine) as session:
        child_id = session.scalar(select(SweepChild.id).where(SweepChild.household_id == household))
    entry = last_entry(demo_engine, entity_type="household")
    assert entry.action == "update"
    assert entry.before["household"] == {"address": "七组12号", "phone": "138****1111"}
    assert entry.after["household"] == {"address": "七组15号", "phone": "139****2222"}
    assert entry.before[f"child{child_id}"] == {"status": "not_enrolled", "place": None}
    assert entry.after[f"child{child_id}"] == {"status": "elsewhere", "place": "广东省东莞市"}


def test_a_sheet_that_changes_a_household_keeps_the_values_it_replaces(demo_engine, actors):
    teacher, village = actors["demo_teacher"], gugang_village(demo_engine)
    household = record(
        demo_engine,
        teacher,
        village,
        phone="13800001111",
        address="七组12号",
        status=FoundStatus.NOT_ENROLLED,
    )
    with session_scope(demo_engine) as session:
        _, data = sheet_import.village_sheet(
            session, actor=teacher, sweep_village_id=village, reason="入户排查核对身份"
        )
    book = load_workbook(io.BytesIO(data))
    sheet = book["排查登记"]
    headers = {cell.value: cell.column for cell in sheet[2] if cell.value}
    for row in range(3, sheet.max_row + 1):
        if sheet.cell(row, headers["户主姓名"]).value == "钱大海":
            sheet.cell(row, headers["地址"]).value = "七组20号"
    out = io.BytesIO()
    book.save(out)
    households = count(demo_engine, Household)
    with session_scope(demo_engine) as session:
        sheet_import.commit_sweep(session, actor=teacher, sweep_village_id=village, data=out.getvalue())
    assert count(demo_engine, Household) == households
    entry = last_entry(demo_engine, entity_type="household", entity_id=str(household))
    assert entry.detail.startswith("排查导入")
    assert (entry.before, entry.after["household"]) == (
        {"household": {"address": "七组12号"}},
        {"address": "七组20号"},
    )


def test_a_family_member_corrected_keeps_the_values_it_replaces(demo_engine, actors):
    registrar = actors["demo_registrar"]
    student = demo_student(demo_engine)
    with session_scope(demo_engine) as session:
        member = session.scalar(
            select(FamilyMember).where(FamilyMember.student_id == student.id, FamilyMember.seq == 1)
        )
        old = (member.name, member.relation)
    with session_scope(demo_engine) as session:
        student_record.correct_student(
            session,
            actor=registrar,
            student_id=student.id,
            changes={"m1_name": "郑新", "m1_relation": "舅舅"},
            reason="家长来校更正监护人",
        )
    entry = last_entry(demo_engine, action="correct")
    assert (entry.before["member1"]["name"], entry.before["member1"]["relation"]) == old
    assert (entry.after["member1"]["name"], entry.after["member1"]["relation"]) == ("郑新", "舅舅")
