"""The printed rosters: which students each lists, one sheet per class, masking per role, text stays text."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from tests.factories import DEMO_SCHOOL
from xueji.auth import PermissionDenied
from xueji.db import session_scope
from xueji.models import AuditLog, School, SchoolClass, Student
from xueji.services.registry.rosters import RosterKind, export_roster, roster_sheets

YEAR = 2026  # the school year of the demo's today
pytestmark = pytest.mark.usefixtures("fixed_today")


def _expected(session, kind: RosterKind) -> int:
    """The same set counted independently, from class codes and statuses."""
    rows = session.execute(
        select(SchoolClass.code, Student.status)
        .join(Student, Student.class_id == SchoolClass.id)
        .join(School, Student.school_id == School.id)
        .where(School.code == DEMO_SCHOOL)
    ).all()
    if kind is RosterKind.NEW:
        return sum(code.startswith(str(YEAR)) and status == "enrolled" for code, status in rows)
    if kind is RosterKind.ENROLLED:
        return sum(status == "enrolled" for _, status in rows)
    return sum(
        code.startswith(f"{YEAR - 5}1") and status in ("enrolled", "graduated") for code, status in rows
    )


@pytest.mark.parametrize("kind", list(RosterKind))
def test_each_roster_lists_exactly_its_students_one_sheet_per_class(demo_engine, actors, kind):
    with session_scope(demo_engine) as session:
        sheets = roster_sheets(session, actor=actors["demo_registrar"], school_code=DEMO_SCHOOL, kind=kind)
        assert sum(len(f) for f in sheets.values()) == _expected(session, kind) > 0
    for name, frame in sheets.items():
        assert set(frame["班级"]) == {name}
        assert list(frame["序号"]) == list(range(1, len(frame) + 1))


def test_the_registrar_sees_full_numbers_and_the_county_masked_ones(demo_engine, actors):
    with session_scope(demo_engine) as session:
        full = roster_sheets(
            session, actor=actors["demo_registrar"], school_code=DEMO_SCHOOL, kind=RosterKind.ENROLLED
        )
        masked = roster_sheets(
            session, actor=actors["demo_county"], school_code=DEMO_SCHOOL, kind=RosterKind.ENROLLED
        )
    first_full, first_masked = next(iter(full.values())), next(iter(masked.values()))
    assert not any("*" in v for v in first_full["身份证件号"].dropna())
    assert all("*" in v for v in first_masked["身份证件号"].dropna())
    assert all("*" in v for v in first_masked["学籍号"].dropna())  # G + the ID number: masked as well
    assert all("*" in v for v in first_masked["联系电话"].dropna())


def test_a_teacher_prints_only_their_own_students(demo_engine, actors):
    with session_scope(demo_engine) as session:
        sheets = roster_sheets(
            session, actor=actors["demo_teacher"], school_code=DEMO_SCHOOL, kind=RosterKind.ENROLLED
        )
        school_total = session.scalar(
            select(func.count())
            .select_from(Student)
            .join(School, Student.school_id == School.id)
            .where(School.code == DEMO_SCHOOL, Student.status == "enrolled")
        )
    assert 0 < sum(len(f) for f in sheets.values()) < school_total


def test_a_roster_of_another_township_is_refused(demo_engine, actors):
    with session_scope(demo_engine) as session, pytest.raises(PermissionDenied):
        export_roster(
            session, actor=actors["demo_township"], school_code="2143016991", kind=RosterKind.ENROLLED
        )


def test_an_exported_cell_that_looks_like_a_formula_stays_text_and_the_export_is_audited(demo_engine, actors):
    payloads = ['=HYPERLINK("http://x","点击")', "+1+2", "-3+4", "@SUM(A1)", "\tcmd"]
    with session_scope(demo_engine) as session:
        ids = session.scalars(
            select(Student.id)
            .join(School, Student.school_id == School.id)
            .where(School.code == DEMO_SCHOOL, Student.status == "enrolled")
            .order_by(Student.id)
            .limit(len(payloads))
        ).all()
        for student_id, payload in zip(ids, payloads, strict=True):
            session.execute(update(Student).where(Student.id == student_id).values(home_address=payload))
        session.commit()
        data = export_roster(
            session, actor=actors["demo_registrar"], school_code=DEMO_SCHOOL, kind=RosterKind.ENROLLED
        )
        entry = session.scalars(select(AuditLog).order_by(AuditLog.id.desc()).limit(1)).one()
    assert entry.action == "export" and entry.detail.startswith("在校生名册")
    found = {}
    for sheet in load_workbook(io.BytesIO(data)).worksheets:
        header = [c.value for c in sheet[1]]
        column = header.index("家庭地址")
        for row in sheet.iter_rows(min_row=2):
            cell = row[column]
            if cell.value in payloads:
                found[cell.value] = (cell.data_type, cell.quotePrefix)
    assert found == dict.fromkeys(payloads, ("s", True))
