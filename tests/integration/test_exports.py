"""Exports are masked by default, unmasked only for roles that may see full values, and always audited."""

from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from xueji.auth import PermissionDenied
from xueji.cli import main as xueji_main
from xueji.db import session_scope
from xueji.models import AuditLog
from xueji.services.registry import students


def _id_column(data: bytes) -> list[str]:
    sheet = load_workbook(BytesIO(data), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    column = rows[0].index("身份证号")
    return [r[column] for r in rows[1:] if r[column]]


def test_the_roster_export_is_masked_by_default(demo_engine, actors):
    with session_scope(demo_engine) as session:
        ids = _id_column(students.export_roster(session, actor=actors["demo_registrar"]))
    assert ids and all("********" in v for v in ids)


def test_an_unmasked_export_needs_a_role_that_may_see_full_values(demo_engine, actors):
    with session_scope(demo_engine) as session:
        full = _id_column(students.export_roster(session, actor=actors["demo_teacher"], unmasked=True))
        assert full and all("*" not in v for v in full)
        county = _id_column(students.export_roster(session, actor=actors["demo_county"], unmasked=True))
        assert len(county) > len(full)
        with pytest.raises(PermissionDenied):
            students.export_roster(session, actor=actors["demo_auditor"])


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
        assert session.scalar(select(func.count()).where(AuditLog.action == "denied")) == 1
