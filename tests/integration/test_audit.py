"""The audit log: one entry per write with before/after, exports and reveals recorded, tampering detected."""

from sqlalchemy import func, select, text

from tests.factories import new_teacher
from xueji.audit import verify_chain
from xueji.cli import main as xueji_main
from xueji.db import session_scope
from xueji.models import AuditLog, SchoolClass
from xueji.services.registry import assignments, students
from xueji.services.system import accounts


def _count(session):
    return session.scalar(select(func.count()).select_from(AuditLog))


def _last(session):
    return session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()


def test_each_write_leaves_one_entry_with_before_and_after(demo_engine, actors):
    admin, registrar = actors["demo_admin"], actors["demo_registrar"]
    with session_scope(demo_engine) as session:
        writes = [
            lambda: new_teacher(session, admin, "li_t", "李老师"),
            lambda: accounts.reset_password(
                session, actor=admin, user_id=accounts.user_id_of(session, "li_t")
            ),
            lambda: accounts.set_active(
                session, actor=admin, user_id=accounts.user_id_of(session, "demo_coordinator"), active=False
            ),
            lambda: assignments.assign_class(
                session,
                actor=registrar,
                teacher_id=actors["demo_teacher"].user_id,
                class_id=session.scalar(
                    select(SchoolClass.id).where(
                        SchoolClass.school_id == registrar.scope_id, SchoolClass.code.like("2026%")
                    )
                ),
            ),
        ]
        for write in writes:
            before = _count(session)
            write()
            assert _count(session) == before + 1
            entry = _last(session)
            assert entry.outcome == "success" and entry.after is not None
            assert entry.action in {"create", "password_reset", "update"}
        reset = session.scalar(select(AuditLog).where(AuditLog.action == "password_reset"))
        assert reset.before["须改密码"] is True and "password" not in str(reset.after).lower()
        disabled = session.scalar(select(AuditLog).where(AuditLog.detail == "停用账号"))
        assert disabled.before["启用"] is True and disabled.after["启用"] is False
        assert (
            disabled.username == "demo_admin"
            and disabled.role == "admin"
            and disabled.scope.startswith("county:")
        )


def test_a_reveal_and_an_export_are_recorded(demo_engine, actors):
    county = actors["demo_county"]
    with session_scope(demo_engine) as session:
        student_id = students.list_students(session, actor=county, limit=1).rows[0].id
        shown = students.reveal_identifiers(session, actor=county, student_id=student_id, reason="核实身份")
        entry = _last(session)
        assert (entry.action, entry.entity_id, entry.detail) == ("reveal", str(student_id), "事由:核实身份")
        assert shown.id_number is None or "*" not in shown.id_number
        students.export_roster(session, actor=county)
        entry = _last(session)
        assert entry.action == "export" and "已脱敏" in entry.detail


def test_a_failed_write_leaves_no_entry(demo_engine, actors):
    with session_scope(demo_engine) as session:
        before = _count(session)
        try:
            new_teacher(session, actors["demo_admin"], "demo_teacher", "重复")
        except accounts.AccountError:
            session.rollback()
        assert _count(session) == before


def _some_entries(demo_engine, actors):
    with session_scope(demo_engine) as session:
        before = verify_chain(session).checked  # the demo's own entries (cases opened from registry flags)
        for name in ("a_t", "b_t", "c_t"):
            new_teacher(session, actors["demo_admin"], name)
        assert verify_chain(session).ok and verify_chain(session).checked == before + 3


def test_a_tampered_entry_fails_xueji_audit_verify(demo_engine, actors, use_database, capsys):
    _some_entries(demo_engine, actors)
    assert xueji_main(["audit", "verify"]) == 0
    with demo_engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET detail = '改过' WHERE id = (SELECT min(id) FROM audit_log)"))
    assert xueji_main(["audit", "verify"]) == 1
    assert "被修改" in capsys.readouterr().err


def test_a_deleted_entry_breaks_the_chain(demo_engine, actors):
    _some_entries(demo_engine, actors)
    with demo_engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id = (SELECT min(id) + 1 FROM audit_log)"))
    with session_scope(demo_engine) as session:
        check = verify_chain(session)
    assert not check.ok and "链接" in check.reason


def test_removing_the_last_entry_is_detected(demo_engine, actors):
    _some_entries(demo_engine, actors)
    with demo_engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)"))
    with session_scope(demo_engine) as session:
        assert not verify_chain(session).ok
