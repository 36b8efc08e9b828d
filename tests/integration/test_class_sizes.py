"""班额: oversized classes and the balance per grade, counted in SQL, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from collections import defaultdict

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from xueji.config import get_settings
from xueji.db import session_scope
from xueji.models import AuditLog, School, SchoolClass, Student
from xueji.rules.class_code import parse_class_code
from xueji.services.registry.class_sizes import export_class_sizes, grade_balance, oversized_classes

pytestmark = pytest.mark.usefixtures("fixed_today")


def sizes_by_hand(engine) -> dict[tuple[str, str], int]:
    """(school, class code) → enrolled students, for every current class, counted one by one."""
    with session_scope(engine) as session:
        classes = session.execute(select(SchoolClass.id, SchoolClass.code, School.name).join(School)).all()
        students = session.scalars(select(Student.class_id).where(Student.status == "enrolled")).all()
    counts: dict[int, int] = defaultdict(int)
    for class_id in students:
        counts[class_id] += 1
    return {
        (school, code): counts[class_id]
        for class_id, code, school in classes
        if parse_class_code(code).is_current(2026)
    }


def test_every_class_over_the_limit_is_listed_and_no_other(demo_engine, actors, monkeypatch):
    monkeypatch.setenv("XUEJI_CLASS_SIZE_LIMIT", "15")
    get_settings.cache_clear()
    expected = {
        (s, parse_class_code(c).name, n) for (s, c), n in sizes_by_hand(demo_engine).items() if n > 15
    }
    assert expected  # the small demo has classes of 8 to 20
    with session_scope(demo_engine) as session:
        listed = oversized_classes(session, actor=actors["demo_county"])
        mine = oversized_classes(session, actor=actors["demo_registrar"])
    assert {(r.school, r.class_name, r.size) for r in listed} == expected
    assert [r.size for r in listed] == sorted((r.size for r in listed), reverse=True)
    assert {r.school for r in mine} <= {"古港镇完全小学"}


def test_the_balance_per_grade_matches_the_class_sizes(demo_engine, actors):
    by_grade: dict[tuple[str, str], list[int]] = defaultdict(list)
    for (school, code), n in sizes_by_hand(demo_engine).items():
        by_grade[(school, parse_class_code(code).grade_label(2026))].append(n)
    with session_scope(demo_engine) as session:
        rows = grade_balance(session, actor=actors["demo_county"])
    assert {(r.school, r.grade): (r.classes, r.smallest, r.largest) for r in rows} == {
        key: (len(v), min(v), max(v)) for key, v in by_grade.items()
    }
    assert all(r.balanced == (r.largest - r.smallest <= 10) for r in rows)


def test_the_export_holds_both_tables_and_is_audited(demo_engine, actors):
    with session_scope(demo_engine) as session:
        data = export_class_sizes(session, actor=actors["demo_county"])
        rows = len(grade_balance(session, actor=actors["demo_county"]))
        entry = session.scalar(select(AuditLog.detail).order_by(AuditLog.id.desc()))
        exports = session.scalar(select(func.count()).where(AuditLog.action == "export"))
    book = load_workbook(io.BytesIO(data), read_only=True)
    assert book.sheetnames == ["大班额", "各年级班额"]
    assert len(list(book["各年级班额"].iter_rows(min_row=2))) == rows
    assert entry.startswith("班额统计") and exports == 1
