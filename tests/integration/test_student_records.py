"""The student list's search and filters, a student's record, corrections, archiving and merging: through
the services, on SQLite and PostgreSQL."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.factories import DEMO_SCHOOL
from xueji.auth import PermissionDenied
from xueji.db import session_scope
from xueji.demo.registry_file import template_rows, template_workbook
from xueji.models import AuditLog, School, SchoolClass, Student
from xueji.rules.class_code import parse_class_code
from xueji.rules.pinyin import name_initials
from xueji.rules.status_changes import ChangeKind, Document
from xueji.rules.vocab import StudentStatus
from xueji.services.registry import student_record
from xueji.services.registry.file_import import import_file
from xueji.services.registry.status_changes import ChangeRequest, decide_change, submit_change
from xueji.services.registry.student_record import StudentRecordError
from xueji.services.registry.students import StudentFilter, export_roster, list_students

pytestmark = pytest.mark.usefixtures("fixed_today")


def listed(engine, actor, **filters):
    with session_scope(engine) as session:
        return list_students(session, actor=actor, filters=StudentFilter(**filters), limit=10_000)


def expected(engine, where) -> set[int]:
    """The ids the county officer should see for a condition, worked out with a plain query."""
    with session_scope(engine) as session:
        return set(
            session.scalars(
                select(Student.id)
                .outerjoin(SchoolClass, Student.class_id == SchoolClass.id)
                .where(where, Student.merged_into_id.is_(None), Student.archived_at.is_(None))
            )
        )


def first_student(engine, school: str = DEMO_SCHOOL) -> Student:
    with session_scope(engine) as session:
        student = session.scalar(
            select(Student)
            .join(School)
            .where(School.code == school, Student.status == "enrolled", Student.id_number.is_not(None))
            .order_by(Student.id)
        )
        session.expunge(student)
        return student


def test_each_filter_narrows_the_list_to_exactly_the_matching_students(demo_engine, actors):
    county = actors["demo_county"]
    everyone = listed(demo_engine, county)
    assert {r.id for r in everyone.rows} == expected(demo_engine, Student.id > 0)
    enrolled = listed(demo_engine, county, status=StudentStatus.ENROLLED)
    assert {r.id for r in enrolled.rows} == expected(demo_engine, Student.status == "enrolled")
    assert 0 < enrolled.total < everyone.total
    left_behind = listed(demo_engine, county, flags=("left_behind", "orphan"))
    assert {r.id for r in left_behind.rows} == expected(demo_engine, Student.left_behind | Student.orphan)
    seventh = listed(demo_engine, county, grade=7)
    assert seventh.total > 0
    assert {r.grade for r in seventh.rows} == {"七年级"}
    with session_scope(demo_engine) as session:
        school_id = session.scalar(select(School.id).where(School.code == DEMO_SCHOOL))
        class_id = session.scalar(select(SchoolClass.id).where(SchoolClass.school_id == school_id))
    at_school = listed(demo_engine, county, school_id=school_id)
    assert {r.school for r in at_school.rows} == {"古港镇完全小学"}
    in_class = listed(demo_engine, county, class_id=class_id)
    assert {r.id for r in in_class.rows} == expected(demo_engine, Student.class_id == class_id)


def test_search_by_pinyin_initials_id_tail_class_code_and_name(demo_engine, actors):
    county = actors["demo_county"]
    student = first_student(demo_engine)
    initials = name_initials(student.name)
    by_initials = listed(demo_engine, county, search=initials.upper())
    assert student.id in {r.id for r in by_initials.rows}
    assert all(name_initials(r.name).startswith(initials) for r in by_initials.rows)
    by_tail = listed(demo_engine, county, search=student.id_number[-6:].lower())
    assert [r.id for r in by_tail.rows] == [student.id]
    by_name = listed(demo_engine, county, search=student.name)
    assert student.id in {r.id for r in by_name.rows}
    with session_scope(demo_engine) as session:
        code = session.scalar(select(SchoolClass.code).where(SchoolClass.id == student.class_id))
    by_class = listed(demo_engine, county, search=code)
    assert {r.id for r in by_class.rows} >= expected(demo_engine, SchoolClass.code == code)
    assert listed(demo_engine, county, search="%").total == 0  # a wildcard is text, not a pattern


def test_a_teacher_finds_only_their_own_students_whatever_the_filter(demo_engine, actors):
    teacher = actors["demo_teacher"]
    mine = listed(demo_engine, teacher)
    assert 0 < mine.total < 100
    outsider = first_student(demo_engine, "2143016991")
    assert listed(demo_engine, teacher, search=outsider.id_number[-8:]).total == 0


def test_paging_walks_the_whole_filtered_list_once(demo_engine, actors):
    county = actors["demo_county"]
    filters = StudentFilter(status=StudentStatus.ENROLLED)
    seen: list[int] = []
    with session_scope(demo_engine) as session:
        total = list_students(session, actor=county, filters=filters, limit=1).total
        for offset in range(0, total, 97):
            seen += [
                r.id
                for r in list_students(session, actor=county, filters=filters, limit=97, offset=offset).rows
            ]
    assert len(seen) == len(set(seen)) == total


def test_the_filtered_export_holds_the_filtered_rows_and_is_audited(demo_engine, actors):
    county = actors["demo_county"]
    filters = StudentFilter(grade=3, flags=("left_behind",))
    with session_scope(demo_engine) as session:
        data = export_roster(session, actor=county, filters=filters)
        detail = session.scalar(select(AuditLog.detail).order_by(AuditLog.id.desc()))
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    body = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(body) == listed(demo_engine, county, grade=3, flags=("left_behind",)).total > 0
    assert {row[6] for row in body} == {"三年级"}
    assert {"留守儿童" in row[8] for row in body} == {True}
    assert "3年级" in detail and "留守儿童" in detail and "已脱敏" in detail


def test_the_record_is_masked_for_the_county_and_full_for_the_registrar(demo_engine, actors):
    student = first_student(demo_engine)
    with session_scope(demo_engine) as session:
        county = student_record.student_detail(session, actor=actors["demo_county"], student_id=student.id)
        registrar = student_record.student_detail(
            session, actor=actors["demo_registrar"], student_id=student.id
        )
    assert registrar.cells["id_number"] == student.id_number
    assert county.cells["id_number"] != student.id_number and "*" in county.cells["id_number"]
    assert all("*" in (m["电话"] or "*") for m in county.family)
    with pytest.raises(PermissionDenied), session_scope(demo_engine) as session:
        student_record.student_detail(session, actor=actors["demo_teacher"], student_id=student.id)


def correct(engine, actor, student_id, reason="依据户口簿更正", **changes):
    with session_scope(engine) as session:
        return student_record.correct_student(
            session, actor=actor, student_id=student_id, changes=changes, reason=reason
        )


def test_a_correction_is_checked_like_an_import_row_and_audited(demo_engine, actors):
    registrar = actors["demo_registrar"]
    student = first_student(demo_engine)
    changed = correct(demo_engine, registrar, student.id, name="曾新名", m1_phone="13800001111")
    assert changed == ["姓名", "家庭成员1"]
    with session_scope(demo_engine) as session:
        fresh = session.get(Student, student.id)
        entry = session.scalar(select(AuditLog).order_by(AuditLog.id.desc()))
    assert (fresh.name, fresh.name_initials) == ("曾新名", "zxm")
    assert entry.action == "correct" and entry.before["name"] == student.name
    assert entry.after["member1"]["phone"] == "138****1111"
    with pytest.raises(StudentRecordError) as refused:
        correct(
            demo_engine,
            registrar,
            student.id,
            birth_date="20201340",
            sex="女" if student.sex == "男" else "男",
        )
    message = str(refused.value)
    assert "出生日期" in message and "“20201340”" in message and "性别" in message
    with session_scope(demo_engine) as session:
        assert session.get(Student, student.id).birth_date == student.birth_date  # nothing half-written
    with pytest.raises(StudentRecordError, match="更正原因"):
        correct(demo_engine, registrar, student.id, reason=" ", name="李四")


def test_a_correction_refuses_a_duplicate_id_number_and_an_oversized_class(demo_engine, actors):
    registrar = actors["demo_registrar"]
    student = first_student(demo_engine)
    with session_scope(demo_engine) as session:
        other = session.scalar(
            select(Student)
            .where(
                Student.school_id == student.school_id,
                Student.id != student.id,
                Student.id_number.is_not(None),
            )
            .order_by(Student.id)
        )
        other_id_number, other_birth, other_sex = other.id_number, other.birth_date, other.sex
    with pytest.raises(StudentRecordError, match="查重"):
        correct(
            demo_engine,
            registrar,
            student.id,
            id_number=other_id_number,
            birth_date=f"{other_birth:%Y%m%d}",
            sex=other_sex,
        )
    with pytest.raises(StudentRecordError, match="没有班号"):
        correct(demo_engine, registrar, student.id, class_code="2026109", entry_month="202609")


def test_only_the_registrar_of_the_school_corrects(demo_engine, actors):
    student = first_student(demo_engine, "2143016991")
    with pytest.raises(PermissionDenied):
        correct(demo_engine, actors["demo_registrar"], student.id, name="李四")
    with pytest.raises(PermissionDenied):
        correct(demo_engine, actors["demo_county"], student.id, name="李四")


def test_a_child_who_left_is_archived_with_the_reason_never_deleted(demo_engine, actors):
    registrar, county = actors["demo_registrar"], actors["demo_county"]
    student = first_student(demo_engine)
    with pytest.raises(StudentRecordError, match="在读或休学"):
        with session_scope(demo_engine) as session:
            student_record.archive_student(session, actor=registrar, student_id=student.id, reason="离校")
    with session_scope(demo_engine) as session:
        change = submit_change(
            session,
            actor=registrar,
            request=ChangeRequest(
                student_id=student.id,
                kind=ChangeKind.TRANSFER_OUT,
                effective_date=student.birth_date.replace(year=2026, month=11, day=20),
                reason="随父母迁往广东",
                destination="广东省东莞市",
                documents=frozenset({Document.TRANSFER_CERTIFICATE}),
                override_reason="随父母工作调动",
            ),
        )
        decide_change(session, actor=county, change_id=change.id, approve=True, reason="")
    with session_scope(demo_engine) as session:
        student_record.archive_student(session, actor=registrar, student_id=student.id, reason="已转往东莞")
    assert student.id not in {r.id for r in listed(demo_engine, county, status=None).rows}
    assert student.id in {r.id for r in listed(demo_engine, county, archived=True).rows}
    with session_scope(demo_engine) as session:
        detail = student_record.student_detail(session, actor=county, student_id=student.id)
        assert session.get(Student, student.id) is not None
    assert detail.archived_reason == "已转往东莞"
    assert [h.kind for h in detail.history] == ["转出"]


def test_a_temporary_record_is_merged_into_the_record_with_the_id_number(demo_engine, actors):
    registrar = actors["demo_registrar"]
    row = next(iter(template_rows([(DEMO_SCHOOL, "primary")], 1, school_year=2026, seed=99)))
    with session_scope(demo_engine) as session:
        import_file(
            session,
            actor=registrar,
            data=template_workbook([{**row, "id_number": "", "name": row["name"] + "一"}]),  # a typo
            school_code=None,
        )
        import_file(session, actor=registrar, data=template_workbook([row]), school_code=None)
        temporary, real = session.scalars(
            select(Student.id).where(Student.name.startswith(row["name"])).order_by(Student.id)
        ).all()
    assert listed(demo_engine, registrar, search=row["name"]).total == 2
    with pytest.raises(StudentRecordError, match="有身份证件号"):
        with session_scope(demo_engine) as session:
            student_record.merge_students(
                session, actor=registrar, keep_id=temporary, duplicate_id=real, reason="重复"
            )
    with session_scope(demo_engine) as session:
        student_record.merge_students(
            session, actor=registrar, keep_id=real, duplicate_id=temporary, reason="同一人"
        )
    assert [r.id for r in listed(demo_engine, registrar, search=row["name"]).rows] == [real]
    with session_scope(demo_engine) as session:
        kept = student_record.student_detail(session, actor=registrar, student_id=real)
        merged = session.get(Student, temporary)
        entries = session.scalar(select(func.count()).where(AuditLog.action == "merge"))
    assert kept.merged_from == [row["name"] + "一"] and merged.merged_into_id == real
    assert entries == 2
    with pytest.raises(StudentRecordError, match="已合并"):
        correct(demo_engine, registrar, temporary, name="李四")


def test_two_different_children_are_never_merged(demo_engine, actors):
    registrar = actors["demo_registrar"]
    with session_scope(demo_engine) as session:
        a, b = session.scalars(
            select(Student.id)
            .join(School)
            .where(School.code == DEMO_SCHOOL, Student.id_number.is_not(None))
            .order_by(Student.id)
            .limit(2)
        ).all()
    with pytest.raises(StudentRecordError, match="不是同一名学生"):
        with session_scope(demo_engine) as session:
            student_record.merge_students(session, actor=registrar, keep_id=a, duplicate_id=b, reason="重复")


def test_grade_filter_matches_the_class_codes_grade(demo_engine, actors):
    for grade in (1, 6, 7, 9):
        rows = listed(demo_engine, actors["demo_county"], grade=grade).rows
        assert rows
        with session_scope(demo_engine) as session:
            codes = set(
                session.scalars(
                    select(SchoolClass.code)
                    .join(Student, Student.class_id == SchoolClass.id)
                    .where(Student.id.in_([r.id for r in rows]))
                )
            )
        assert {parse_class_code(c).grade(2026) for c in codes} == {grade}
