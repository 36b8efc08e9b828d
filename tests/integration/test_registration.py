"""新生注册进度 on SQLite and PostgreSQL: the gaps counted in SQL agree with the pure rule, child by child."""

from __future__ import annotations

import io
from collections import defaultdict

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, func, select, update

from tests.factories import DEMO_SCHOOL
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.models import AuditLog, FamilyMember, School, SchoolClass, Student
from xueji.rules.class_code import parse_class_code
from xueji.rules.registration import RegistrationState, record_gaps
from xueji.services.registry.registration import export_registration, incomplete_records, intake_progress

pytestmark = pytest.mark.usefixtures("fixed_today")


def intake_by_hand(engine) -> dict[int, tuple[str, str, list]]:
    """student id → (school, intake label, gaps by the pure rule), for every grade-1 and grade-7 child."""
    with session_scope(engine) as session:
        students = session.execute(
            select(Student.id, Student.id_number, School.name, SchoolClass.code)
            .join(School, Student.school_id == School.id)
            .join(SchoolClass, Student.class_id == SchoolClass.id)
            .where(Student.status.in_(["enrolled", "suspended"]))
        ).all()
        family = defaultdict(list)
        for member in session.scalars(select(FamilyMember)):
            family[member.student_id].append(member.model_dump())
    result = {}
    for sid, id_number, school, code in students:
        grade = parse_class_code(code).grade(2026)
        if grade in (1, 7):
            intake = "一年级新生" if grade == 1 else "七年级新生"
            result[sid] = (school, intake, record_gaps({"id_number": id_number}, family[sid]))
    return result


def spoil_some_records(engine) -> None:
    """Every kind of gap at least once among the demo school's grade-1 children."""
    with session_scope(engine) as session:
        ids = session.scalars(
            select(Student.id)
            .join(SchoolClass)
            .join(School, Student.school_id == School.id)
            .where(School.code == DEMO_SCHOOL, SchoolClass.code.startswith("20261"))
            .order_by(Student.id)
        ).all()
        session.execute(
            update(Student).where(Student.id == ids[0]).values(id_number=None, registry_number=None)
        )
        session.execute(delete(FamilyMember).where(FamilyMember.student_id == ids[1]))
        session.execute(update(FamilyMember).where(FamilyMember.student_id == ids[2]).values(phone=" "))
        session.execute(
            update(FamilyMember).where(FamilyMember.student_id == ids[3]).values(is_guardian=False)
        )
        session.commit()


def test_the_gaps_in_sql_are_the_pure_rules_gaps_child_by_child(demo_engine, actors):
    spoil_some_records(demo_engine)
    expected = {sid: gaps for sid, (_, _, gaps) in intake_by_hand(demo_engine).items() if gaps}
    assert len({g for gaps in expected.values() for g in gaps}) == 4  # every kind of gap occurs
    with session_scope(demo_engine) as session:
        listed = incomplete_records(session, actor=actors["demo_county"])
    assert {r.student_id: r.gaps for r in listed} == expected


def test_progress_per_school_is_counted_as_by_hand(demo_engine, actors):
    spoil_some_records(demo_engine)
    by_hand: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for school, intake, gaps in intake_by_hand(demo_engine).values():
        by_hand[(school, intake)][0] += 1
        by_hand[(school, intake)][1] += not gaps
    with session_scope(demo_engine) as session:
        rows = intake_progress(session, actor=actors["demo_county"])
        schools = session.scalar(select(func.count()).select_from(School))
    assert {(r.school, r.intake): [r.students, r.complete] for r in rows} == dict(by_hand)
    assert len({r.school for r in rows}) == schools
    for r in rows:  # 2026-11-23: both deadlines have passed
        assert r.state is (RegistrationState.COMPLETE if r.complete == r.students else RegistrationState.LATE)
        assert sum(r.gaps.values()) >= r.students - r.complete
    mine = next(r for r in rows if r.school == "古港镇完全小学")
    assert mine.state is RegistrationState.LATE and "无身份证号(临时学籍) 1 人" in mine.gap_summary()


def test_before_the_deadline_an_incomplete_intake_is_open_not_late(demo_engine, actors, monkeypatch):
    spoil_some_records(demo_engine)
    monkeypatch.setenv("XUEJI_TODAY", "2026-10-15")  # after grade 1's deadline, before grade 7's
    get_settings.cache_clear()
    with session_scope(demo_engine) as session:
        rows = intake_progress(session, actor=actors["demo_county"])
    states = {(r.intake, r.state) for r in rows if r.complete < r.students}
    assert ("一年级新生", RegistrationState.LATE) in states
    assert all(state is RegistrationState.OPEN for intake, state in states if intake == "七年级新生")
    monkeypatch.setenv("XUEJI_GRADE1_REGISTRATION_DEADLINE", "10-20")
    get_settings.cache_clear()
    with session_scope(demo_engine) as session:
        rows = intake_progress(session, actor=actors["demo_county"])
    assert all(r.state is not RegistrationState.LATE for r in rows)


def test_a_school_with_no_intake_yet_is_listed_as_late(demo_engine, actors):
    with session_scope(demo_engine) as session:
        school_id = session.scalar(select(School.id).where(School.code == DEMO_SCHOOL))
        session.execute(
            update(Student)
            .where(
                Student.school_id == school_id,
                Student.class_id.in_(select(SchoolClass.id).where(SchoolClass.code.startswith("20261"))),
            )
            .values(status="transferred_out")
        )
        session.commit()
        rows = intake_progress(session, actor=actors["demo_registrar"])
    assert [(r.school, r.students, r.state) for r in rows] == [("古港镇完全小学", 0, RegistrationState.LATE)]


def test_the_registrar_sees_their_school_and_the_export_is_audited(demo_engine, actors):
    spoil_some_records(demo_engine)
    with session_scope(demo_engine) as session:
        mine = incomplete_records(session, actor=actors["demo_registrar"])
        data = export_registration(session, actor=actors["demo_registrar"])
        entry = session.scalar(select(AuditLog).order_by(AuditLog.id.desc()))
    assert mine and {r.school for r in mine} == {"古港镇完全小学"}
    book = load_workbook(io.BytesIO(data), read_only=True)
    assert book.sheetnames == ["注册进度", "待补全学籍"]
    assert len(list(book["待补全学籍"].iter_rows(min_row=2))) == len(mine)
    assert (entry.action, entry.username) == ("export", "demo_registrar")
    assert entry.detail.startswith("新生注册进度")
