"""The audit log: one entry per write with before/after, exports and reveals recorded, every entry signed with
the key and carrying its channel and client address (tampering: test_audit_tamper.py)."""

import pytest
from sqlalchemy import func, select

from xueji.audit import context as audit_context
from xueji.audit import entry_mac, verify_chain
from xueji.audit.key import load_key
from xueji.cli import main as xueji_main
from xueji.db import session_scope
from xueji.models import AuditLog, SchoolClass
from xueji.services.registry import assignments, students
from xueji.services.system import accounts, holidays


def _count(session):
    return session.scalar(select(func.count()).select_from(AuditLog))


def _last(session):
    return session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()


def test_each_write_leaves_one_entry_with_before_and_after(demo_engine, actors):
    admin, registrar = actors["demo_admin"], actors["demo_registrar"]
    with session_scope(demo_engine) as session:
        writes = [
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
            lambda: holidays.save_days(
                session, actor=admin, rows=[{"day": "2026-12-31", "kind": "放假"}], source="测试"
            ),
        ]
        for write in writes:
            before = _count(session)
            write()
            assert _count(session) == before + 1
            entry = _last(session)
            assert entry.outcome == "success" and entry.after is not None
            assert entry.action in {"create", "update", "calendar"}
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
        with pytest.raises(holidays.HolidayError):
            holidays.save_days(session, actor=actors["demo_admin"], rows=[{"day": "不是日期"}], source="测试")
        assert _count(session) == before


def test_every_entry_is_signed_with_the_key_and_verifies(demo_engine, actors):
    with session_scope(demo_engine) as session:
        before = verify_chain(session).checked  # the demo's own entries (cases opened from registry flags)
        for day in ("2026-12-29", "2026-12-30", "2026-12-31"):
            holidays.save_days(
                session, actor=actors["demo_admin"], rows=[{"day": day, "kind": "放假"}], source="t"
            )
        check = verify_chain(session)
        assert check.ok and check.checked == before + 3 and check.legacy == 0
        assert check.key_id == load_key().key_id
        keys = set(session.scalars(select(AuditLog.key_id)))
    assert keys == {check.key_id}


def test_a_command_line_action_records_its_channel_and_the_ssh_client(
    demo_engine, use_database, tmp_path, monkeypatch
):
    monkeypatch.setenv("SSH_CONNECTION", "198.51.100.9 50122 10.0.0.5 22")
    assert xueji_main(["backup", str(tmp_path / "x.backup")]) == 0
    monkeypatch.delenv("SSH_CONNECTION")
    monkeypatch.delenv("SSH_CLIENT", raising=False)
    assert xueji_main(["backup", str(tmp_path / "y.backup")]) == 0
    with session_scope(demo_engine) as session:
        entries = session.scalars(
            select(AuditLog).where(AuditLog.action == "backup").order_by(AuditLog.id)
        ).all()
        assert [(e.channel, e.client_addr) for e in entries] == [("cli", "198.51.100.9"), ("cli", None)]
        # A service called outside the CLI and the app (this test) records neither.
        holidays.save_days(
            session, actor=actors_admin(session), rows=[{"day": "2026-12-31", "kind": "放假"}], source="t"
        )
        assert (_last(session).channel, _last(session).client_addr) == (None, None)
        assert verify_chain(session).ok


def test_the_origin_is_part_of_what_is_signed(demo_engine, actors):
    """Channel and address are covered by the HMAC: changing either breaks the entry's signature."""
    with session_scope(demo_engine) as session, audit_context.use(audit_context.Origin("web", "203.0.113.5")):
        holidays.save_days(
            session, actor=actors["demo_admin"], rows=[{"day": "2026-12-31", "kind": "放假"}], source="t"
        )
        entry = _last(session)
        assert (entry.channel, entry.client_addr) == ("web", "203.0.113.5")
        values = {c.name: getattr(entry, c.name) for c in AuditLog.__table__.columns}
        assert entry_mac(values, load_key()) == entry.mac
        assert entry_mac({**values, "client_addr": "10.0.0.1"}, load_key()) != entry.mac
        assert entry_mac({**values, "channel": "cli"}, load_key()) != entry.mac


def actors_admin(session):
    return accounts.actor_by_username(session, "demo_admin")


def test_the_auditor_reads_words_and_places_not_codes(demo_engine, actors):
    """Issue 24: the log's role, action, outcome and scope (in 范围 and in an account's before/after) in words."""
    from xueji.services.system import audit_log

    admin = actors["demo_admin"]
    with session_scope(demo_engine) as session:
        accounts.set_active(
            session, actor=admin, user_id=accounts.user_id_of(session, "demo_coordinator"), active=False
        )
        session.commit()
        frame, _ = audit_log.list_entries(
            session, actor=actors["demo_auditor"], filter=audit_log.AuditFilter()
        )
    change = frame[(frame["账号"] == "demo_admin") & (frame["对象类型"] == "账号")].iloc[0]
    assert (change["角色"], change["操作"], change["结果"]) == ("系统管理员", "修改", "成功")
    assert change["范围"] == "县区 浏阳市"
    assert "乡镇 " in change["修改前"] and "township:" not in change["修改前"], change["修改前"]
    assert "时间(北京时间)" in frame.columns
    codes = frame.drop(columns=["账号"]).to_numpy().ravel()
    assert not [v for v in codes if any(c in v for c in ("county:", "school:", "county_officer", "success"))]
