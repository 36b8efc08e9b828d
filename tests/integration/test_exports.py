"""Exports are masked by default; full ID and phone numbers leave in a file only for the roles that may take them
(services.common.exports.UNMASKED_EXPORTS) and only with a written reason, which the audit entry records; every
export and every refusal is audited."""

from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.factories import DEMO_SCHOOL
from xueji.auth import Action, Actor, PermissionDenied
from xueji.cli import main as xueji_main
from xueji.db import session_scope
from xueji.models import AuditLog
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.common.exports import may_export_unmasked
from xueji.services.home_teaching import board, records
from xueji.services.registry import rosters, students
from xueji.services.registry.rosters import RosterKind

REASON = "报送县资助中心核对名单"


def _id_column(data: bytes, header: str = "身份证号") -> list[str]:
    """Every non-empty value of the column, over every sheet of the workbook."""
    values = []
    for sheet in load_workbook(BytesIO(data), read_only=True).worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        column = rows[0].index(header)
        values += [r[column] for r in rows[1:] if r[column]]
    return values


def _last(session, action: str) -> AuditLog:
    return session.scalars(
        select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id.desc()).limit(1)
    ).one()


def _count(session, action: str) -> int:
    return int(session.scalar(select(func.count()).where(AuditLog.action == action)) or 0)


def test_the_roster_export_is_masked_by_default(demo_engine, actors):
    with session_scope(demo_engine) as session:
        ids = _id_column(students.export_roster(session, actor=actors["demo_registrar"]))
        assert "已脱敏" in _last(session, "export").detail
    assert ids and all("********" in v for v in ids)


def test_only_the_registrar_the_teacher_and_the_operator_may_export_rosters_unmasked():
    may = {role for role in Role if may_export_unmasked(_actor(role), Action.STUDENT_EXPORT)}
    assert may == {Role.REGISTRAR, Role.TEACHER, Role.SYSTEM}
    sheet = {role for role in Role if may_export_unmasked(_actor(role), Action.SWEEP_RECORD)}
    assert sheet == {Role.TOWNSHIP_OFFICIAL, Role.TEACHER, Role.SYSTEM}


def _actor(role: Role) -> Actor:
    return Actor(user_id=1, username="x", role=role, scope_kind=ScopeKind.COUNTY, scope_id=1)


def test_an_unmasked_export_with_a_reason_is_full_and_its_audit_entry_records_the_reason(demo_engine, actors):
    with session_scope(demo_engine) as session:
        data = students.export_roster(session, actor=actors["demo_teacher"], unmasked=True, reason=REASON)
        entry = _last(session, "export")
    full = _id_column(data)
    assert full and all("*" not in v and len(v) == 18 for v in full)
    assert entry.username == "demo_teacher"
    assert f"未脱敏;事由:{REASON}" in entry.detail


@pytest.mark.parametrize("reason", ["", "   \n "])
def test_an_unmasked_export_without_a_reason_is_refused_and_audited(demo_engine, actors, reason):
    with session_scope(demo_engine) as session:
        with pytest.raises(PermissionDenied, match="须填写事由"):
            students.export_roster(session, actor=actors["demo_registrar"], unmasked=True, reason=reason)
        assert _count(session, "export") == 0
        denied = _last(session, "denied")
    assert denied.username == "demo_registrar" and denied.outcome == "denied"
    assert "student.export" in denied.detail and "须填写事由" in denied.detail


@pytest.mark.parametrize("username", ["demo_county", "demo_township", "demo_coordinator"])
def test_a_whole_county_or_township_unmasked_is_refused_even_with_a_reason(demo_engine, actors, username):
    with session_scope(demo_engine) as session:
        with pytest.raises(PermissionDenied, match="不能导出含完整身份证号"):
            students.export_roster(session, actor=actors[username], unmasked=True, reason=REASON)
        with pytest.raises(PermissionDenied, match="不能导出含完整身份证号"):
            rosters.export_roster(
                session,
                actor=actors[username],
                school_code=DEMO_SCHOOL,
                kind=RosterKind.ENROLLED,
                unmasked=True,
                reason=REASON,
            )
        assert _count(session, "export") == 0
        assert _count(session, "denied") == 2
        # the masked export stays theirs
        masked = _id_column(students.export_roster(session, actor=actors[username]))
    assert masked and all("********" in v for v in masked)


def test_a_reason_longer_than_the_bound_is_refused(demo_engine, actors):
    with session_scope(demo_engine) as session, pytest.raises(PermissionDenied, match="事由不能超过"):
        students.export_roster(session, actor=actors["demo_registrar"], unmasked=True, reason="核" * 201)


def test_the_printed_roster_is_masked_unless_asked_with_a_reason(demo_engine, actors):
    registrar = actors["demo_registrar"]
    with session_scope(demo_engine) as session:
        masked = rosters.export_roster(
            session, actor=registrar, school_code=DEMO_SCHOOL, kind=RosterKind.ENROLLED
        )
        assert "已脱敏" in _last(session, "export").detail
        full = rosters.export_roster(
            session,
            actor=registrar,
            school_code=DEMO_SCHOOL,
            kind=RosterKind.ENROLLED,
            unmasked=True,
            reason=REASON,
        )
        assert f"事由:{REASON}" in _last(session, "export").detail
    assert all("*" in v for v in _id_column(masked, "身份证件号"))
    assert all("*" in v for v in _id_column(masked, "联系电话"))
    numbers = _id_column(full, "身份证件号")
    assert numbers and all("*" not in v for v in numbers)


def test_the_home_teaching_report_carries_masked_numbers_whatever_the_role(demo_engine, actors):
    registrar = actors["demo_registrar"]
    with session_scope(demo_engine) as session:
        term = records.latest_term(session)
        shown = board.board(session, actor=registrar, term=term)
        data = board.term_report(session, actor=registrar, term=term)
    assert any(r.id_number and "*" not in r.id_number for r in shown)  # the registrar sees them on screen
    summary = load_workbook(BytesIO(data), read_only=True)["汇总"]
    rows = list(summary.iter_rows(values_only=True))
    column = rows[0].index("身份证号")
    numbers = [r[column] for r in rows[1:] if r[column]]
    assert numbers and all("*" in v for v in numbers)


def test_the_export_command_acts_as_the_named_account_and_is_audited(
    demo_engine, use_database, tmp_path, capsys
):
    target = tmp_path / "名册.xlsx"
    assert xueji_main(["export", "students", str(target), "--as", "demo_teacher"]) == 0
    assert all("********" in v for v in _id_column(target.read_bytes()))
    assert xueji_main(["export", "students", str(tmp_path / "x.xlsx"), "--as", "demo_admin"]) == 1
    assert "无权" in capsys.readouterr().err
    with session_scope(demo_engine) as session:
        exports = session.scalars(select(AuditLog).where(AuditLog.action == "export")).all()
        assert [e.username for e in exports] == ["demo_teacher"]
        assert _count(session, "denied") == 1


def test_the_command_line_exports_unmasked_only_with_a_reason(demo_engine, use_database, tmp_path, capsys):
    target = tmp_path / "full.xlsx"
    assert xueji_main(["export", "students", str(target), "--unmasked"]) == 1
    assert "须填写事由" in capsys.readouterr().err and not target.exists()
    assert xueji_main(["export", "students", str(target), "--unmasked", "--reason", REASON]) == 0
    full = _id_column(target.read_bytes())
    assert full and all("*" not in v for v in full)
    roster = tmp_path / "roster.xlsx"
    command = ["export", "roster", "--school", DEMO_SCHOOL, "--kind", "在校生名册", "-o", str(roster)]
    assert xueji_main([*command, "--unmasked", "--reason", REASON, "--as", "demo_county"]) == 1
    assert "不能导出含完整身份证号" in capsys.readouterr().err and not roster.exists()
    assert xueji_main(command) == 0
    assert all("*" in v for v in _id_column(roster.read_bytes(), "身份证件号"))
    with session_scope(demo_engine) as session:
        details = session.scalars(
            select(AuditLog.detail).where(AuditLog.action == "export").order_by(AuditLog.id)
        ).all()
        assert _count(session, "denied") == 2
    assert len(details) == 2
    assert f"未脱敏;事由:{REASON}" in details[0] and details[1].endswith("已脱敏")
