"""开学报到 and 流生 on SQLite and PostgreSQL: reports by class, the lost students a week after term start."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, func, select

from tests.factories import DEMO_SCHOOL, new_registrar
from xueji.auth import PermissionDenied
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.models import AuditLog, School, SchoolClass, StatusChange, Student, TermReport
from xueji.rules.status_changes import ChangeKind, Document
from xueji.services.registry.status_changes import ChangeRequest, submit_change
from xueji.services.registry.term_reports import (
    Leave,
    TermReportError,
    class_reports,
    export_lost,
    is_lost,
    lost_students,
    record_reports,
    report_progress,
)

pytestmark = pytest.mark.usefixtures("fixed_today")
NEIGHBOUR = "2143016967"  # 古港镇梅田小学
SICK = Leave("病假", date(2026, 11, 16), date(2026, 11, 27))


def demo_class(engine, school: str = DEMO_SCHOOL) -> tuple[int, list[int]]:
    """A class of the school and its enrolled students' ids."""
    with session_scope(engine) as session:
        class_id = session.scalar(
            select(SchoolClass.id)
            .join(School)
            .where(School.code == school)
            .order_by(SchoolClass.code)
            .limit(1)
        )
        ids = session.scalars(
            select(Student.id)
            .where(Student.class_id == class_id, Student.status == "enrolled")
            .order_by(Student.id)
        ).all()
    return class_id, list(ids)


def lost_by_hand(engine) -> set[int]:
    """Enrolled children with no report this term and no transfer or suspension under way, one by one."""
    with session_scope(engine) as session:
        enrolled = set(session.scalars(select(Student.id).where(Student.status == "enrolled")))
        reported = set(session.scalars(select(TermReport.student_id)))
        papers = {
            c.student_id
            for c in session.scalars(select(StatusChange))
            if c.kind in ("transfer_out", "transfer_in", "suspension")
            and (c.state == "submitted" or (c.state == "approved" and c.effective_date >= date(2026, 9, 1)))
        }
    return enrolled - reported - papers


def test_the_demo_has_lost_students_and_the_list_matches_a_hand_count(demo_engine, actors):
    expected = lost_by_hand(demo_engine)
    assert expected  # the demo county has a few children who never came
    with session_scope(demo_engine) as session:
        lost = lost_students(session, actor=actors["demo_county"])
        progress = report_progress(session, actor=actors["demo_county"])
    assert {r.student_id for r in lost.rows} == expected
    assert lost.since == date(2026, 9, 8) and lost.in_force
    assert all(r.days_absent == 83 for r in lost.rows)
    assert all("*" in (r.id_number or "*") for r in lost.rows)  # the county sees masked numbers
    assert sum(p.lost for p in progress) == len(expected)
    assert sum(p.enrolled for p in progress) == sum(
        p.reported + p.on_leave + p.not_reported for p in progress
    )


def test_recording_a_class_sets_exactly_what_was_given(demo_engine, actors):
    registrar = actors["demo_registrar"]
    class_id, ids = demo_class(demo_engine)
    absent, sick, rest = ids[0], ids[1], ids[2:]
    with session_scope(demo_engine) as session:
        saved = record_reports(session, actor=registrar, class_id=class_id, reported=rest, leave={sick: SICK})
        rows = {r.student_id: r for r in class_reports(session, actor=registrar, class_id=class_id)}
        lost = {r.student_id for r in lost_students(session, actor=registrar).rows}
        flags = (
            is_lost(session, actor=registrar, student_id=absent),
            is_lost(session, actor=registrar, student_id=sick),
        )
    assert (saved.reported, saved.on_leave, saved.not_reported) == (len(rest), 1, 1)
    assert (
        not rows[absent].reported
        and (rows[sick].leave_reason, rows[sick].leave_from, rows[sick].leave_until)
        == ("病假", date(2026, 11, 16), date(2026, 11, 27))
        and all(rows[i].reported for i in rest)
    )
    assert absent in lost and sick not in lost and not lost & set(rest)
    assert flags == (True, False)
    # un-ticking a child takes the report back; the audit entry names the change
    with session_scope(demo_engine) as session:
        record_reports(session, actor=registrar, class_id=class_id, reported=rest[1:], leave={sick: SICK})
        entry = session.scalar(
            select(AuditLog).where(AuditLog.action == "term_report").order_by(AuditLog.id.desc())
        )
        assert is_lost(session, actor=registrar, student_id=rest[0])
    assert entry.after["changed"] == [f"{_name(demo_engine, rest[0])}:已报到→未报到"]


def _name(engine, student_id: int) -> str:
    with session_scope(engine) as session:
        return session.get(Student, student_id).name


def test_bad_reports_are_refused_and_nothing_is_saved(demo_engine, actors):
    registrar = actors["demo_registrar"]
    class_id, ids = demo_class(demo_engine)
    _, other_ids = demo_class(demo_engine, NEIGHBOUR)
    with session_scope(demo_engine) as session:
        before = session.scalar(select(func.count()).select_from(TermReport))
    bad = [
        ({"reported": [ids[0]], "leave": {ids[0]: SICK}}, "不能同时为已报到和请假"),
        ({"reported": ids[2:], "leave": {ids[1]: Leave(" ", SICK.start, SICK.until)}}, "请假须填写事由"),
        ({"reported": ids[2:], "leave": {ids[1]: Leave("病假")}}, "请假须填写开始和截止日期"),
        (
            {"reported": ids[2:], "leave": {ids[1]: Leave("病假", date(2026, 11, 2), date(2026, 10, 30))}},
            "请假截止日期不能早于开始日期",
        ),
        ({"reported": [*ids, other_ids[0]], "leave": {}}, "不在本班在读名单中"),
    ]
    for given, message in bad:
        with session_scope(demo_engine) as session, pytest.raises(TermReportError, match=message):
            record_reports(session, actor=registrar, class_id=class_id, **given)
    with session_scope(demo_engine) as session:
        assert session.scalar(select(func.count()).select_from(TermReport)) == before


def test_only_the_registrar_of_the_school_records_reports(demo_engine, actors):
    class_id, ids = demo_class(demo_engine)
    with session_scope(demo_engine) as session:
        other = new_registrar(session, actors["demo_admin"], "reg_meitian", NEIGHBOUR)
    for actor in (actors["demo_county"], actors["demo_teacher"], other):
        with session_scope(demo_engine) as session, pytest.raises(PermissionDenied):
            record_reports(session, actor=actor, class_id=class_id, reported=ids, leave={})
    with session_scope(demo_engine) as session:
        denials = session.scalar(select(func.count()).where(AuditLog.action == "denied"))
    assert denials == 3


def test_a_transfer_or_suspension_under_way_is_not_a_lost_student(demo_engine, actors):
    registrar = actors["demo_registrar"]
    class_id, ids = demo_class(demo_engine)
    with session_scope(demo_engine) as session:
        session.execute(delete(TermReport).where(TermReport.student_id.in_(ids[:3])))
        session.commit()
        submit_change(
            session,
            actor=registrar,
            request=ChangeRequest(
                ids[0],
                ChangeKind.SUSPENSION,
                date(2026, 11, 2),
                "住院",
                frozenset({Document.MEDICAL_CERTIFICATE}),
                suspension_until=date(2027, 6, 30),
            ),
        )
    with session_scope(demo_engine) as session:
        submit_change(
            session,
            actor=registrar,
            request=ChangeRequest(
                ids[1],
                ChangeKind.TRANSFER_OUT,
                date(2026, 11, 23),
                "随父母迁居",
                destination="广东省东莞市某小学",
                override_reason="随父母迁居外省",
            ),
        )
    with session_scope(demo_engine) as session:
        lost = {r.student_id for r in lost_students(session, actor=registrar).rows}
    assert ids[2] in lost and ids[0] not in lost and ids[1] not in lost


def test_within_the_first_week_nobody_is_lost_yet(demo_engine, actors, monkeypatch):
    monkeypatch.setenv("XUEJI_TODAY", "2026-09-07")
    get_settings.cache_clear()
    with session_scope(demo_engine) as session:
        lost = lost_students(session, actor=actors["demo_county"])
        progress = report_progress(session, actor=actors["demo_county"])
    assert lost.rows == [] and not lost.in_force and lost.since == date(2026, 9, 8)
    assert sum(p.lost for p in progress) == 0 and sum(p.not_reported for p in progress) > 0


def test_the_export_is_masked_even_for_the_registrar_and_audited(demo_engine, actors):
    registrar = actors["demo_registrar"]
    class_id, ids = demo_class(demo_engine)
    with session_scope(demo_engine) as session:
        record_reports(session, actor=registrar, class_id=class_id, reported=ids[1:], leave={})
        shown = lost_students(session, actor=registrar).rows
        data = export_lost(session, actor=registrar)
        entry = session.scalar(select(AuditLog).order_by(AuditLog.id.desc()))
    sheet = load_workbook(io.BytesIO(data), read_only=True)["流生名单"]
    exported = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(exported) == len(shown) >= 1
    assert all("*" in row[4] for row in exported if row[4]) and any(
        "*" not in (r.id_number or "*") for r in shown
    )
    assert (entry.action, entry.detail) == ("export", f"流生名单 {len(shown)} 行;2026-2027学年第一学期")
