"""设为班主任: the registrar names a class's head teacher among their school's teacher accounts; audited, scoped."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from tests.factories import audit_entries, new_teacher
from xueji.auth import Actor, PermissionDenied
from xueji.db import session_scope
from xueji.models import School, SchoolClass
from xueji.services.registry import assignments
from xueji.services.registry.assignments import AssignmentError


def _class_without_head(engine: Engine, school_code: str) -> int:
    with session_scope(engine) as session:
        return int(
            session.scalar(
                select(SchoolClass.id)
                .join(School)
                .where(School.code == school_code)
                .order_by(SchoolClass.head_teacher_id.is_(None).desc(), SchoolClass.id)  # type: ignore[union-attr]
                .limit(1)
            )
        )


def test_the_registrar_names_a_head_teacher_and_the_old_one_is_named(
    demo_engine: Engine, actors: dict[str, Actor]
):
    registrar = actors["demo_registrar"]
    class_id = _class_without_head(demo_engine, "2143016965")
    with session_scope(demo_engine) as session:
        teacher, _ = new_teacher(session, actors["demo_admin"], "new_head", "吴老师")
        before = session.get(SchoolClass, class_id).head_teacher_name  # type: ignore[union-attr]
        had_head = session.get(SchoolClass, class_id).head_teacher_id is not None  # type: ignore[union-attr]
    with session_scope(demo_engine) as session:
        replaced = assignments.set_head_teacher(
            session, actor=registrar, teacher_id=teacher.id, class_id=class_id
        )
    assert replaced == (before if had_head else None)
    with session_scope(demo_engine) as session:
        cls = session.get(SchoolClass, class_id)
        assert cls is not None and cls.head_teacher_id == teacher.id and cls.head_teacher_name == "吴老师"
        assert audit_entries(session, "school_class", class_id) == 1
        with pytest.raises(AssignmentError, match="已是该班班主任"):
            assignments.set_head_teacher(session, actor=registrar, teacher_id=teacher.id, class_id=class_id)


def test_another_schools_class_is_refused(demo_engine: Engine, actors: dict[str, Actor]):
    other_class = _class_without_head(demo_engine, "2143016966")
    with session_scope(demo_engine) as session:
        teacher, _ = new_teacher(session, actors["demo_admin"], "new_head2")
    with session_scope(demo_engine) as session, pytest.raises(PermissionDenied):
        assignments.set_head_teacher(
            session, actor=actors["demo_registrar"], teacher_id=teacher.id, class_id=other_class
        )
    with session_scope(demo_engine) as session:
        assert session.get(SchoolClass, other_class).head_teacher_id != teacher.id  # type: ignore[union-attr]
