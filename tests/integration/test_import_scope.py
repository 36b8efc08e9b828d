"""The registry import refuses a school outside the actor's scope inside the services themselves, whoever
calls them and whatever school they pass: the plan and the commit take the schools from the database and
deny (and audit) one the actor may not touch; nothing is written. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from tests.factories import DEMO_SCHOOL
from xueji.auth import PermissionDenied
from xueji.db import session_scope
from xueji.demo.registry_file import template_rows, template_workbook
from xueji.models import AuditLog, School, Student
from xueji.services.registry.file_import import SchoolRef, check_file, commit_import, plan_import
from xueji.services.system.accounts import system_actor

pytestmark = pytest.mark.usefixtures("fixed_today")
OTHER_SCHOOL = "2143016967"  # 古港镇梅田小学: same township, outside the registrar's scope


def school(engine: Engine, code: str) -> SchoolRef:
    with session_scope(engine) as session:
        s = session.scalar(select(School).where(School.code == code))
        return SchoolRef(s.id, s.code, s.name, s.kind)


def counts(engine: Engine) -> tuple[int, int]:
    with session_scope(engine) as session:
        students = session.scalar(select(func.count()).select_from(Student)) or 0
        denials = session.scalar(select(func.count()).where(AuditLog.outcome == "denied")) or 0
        return students, denials


def other_school_file(engine: Engine) -> bytes:
    return template_workbook(list(template_rows([(OTHER_SCHOOL, "primary")], 5, school_year=2026, seed=11)))


def test_a_commit_into_a_school_outside_the_scope_is_denied_audited_and_writes_nothing(demo_engine, actors):
    registrar = actors["demo_registrar"]
    data = other_school_file(demo_engine)
    with session_scope(demo_engine) as session:
        sheet = check_file(session, actor=registrar, data=data)
    students, denials = counts(demo_engine)
    with session_scope(demo_engine) as session, pytest.raises(PermissionDenied, match=f"学校 {OTHER_SCHOOL}"):
        commit_import(
            session,
            actor=registrar,
            sheet=sheet,
            schools=[school(demo_engine, OTHER_SCHOOL)],
            only_school=True,
            file_name="外校.xlsx",
        )
    assert counts(demo_engine) == (students, denials + 1)
    with session_scope(demo_engine) as session:
        entry = session.scalar(
            select(AuditLog).where(AuditLog.outcome == "denied").order_by(AuditLog.id.desc())
        )
        assert (entry.username, entry.entity_type, entry.entity_id) == (
            "demo_registrar",
            "school",
            str(school(demo_engine, OTHER_SCHOOL).id),
        )


def test_the_plan_refuses_it_too_even_beside_the_registrars_own_school(demo_engine, actors):
    registrar = actors["demo_registrar"]
    with session_scope(demo_engine) as session:
        sheet = check_file(session, actor=registrar, data=other_school_file(demo_engine))
    schools = [school(demo_engine, DEMO_SCHOOL), school(demo_engine, OTHER_SCHOOL)]
    with session_scope(demo_engine) as session, pytest.raises(PermissionDenied, match="不在您的管辖范围内"):
        plan_import(session, actor=registrar, sheet=sheet, schools=schools, only_school=False)


def test_a_school_passed_under_a_false_code_is_taken_as_the_database_has_it(demo_engine, actors):
    """The registrar's own school id carrying the other school's code: the other school's rows do not slip
    into the registrar's school, they are rejected as belonging elsewhere."""
    registrar = actors["demo_registrar"]
    own = school(demo_engine, DEMO_SCHOOL)
    disguised = SchoolRef(own.id, OTHER_SCHOOL, "梅田小学", own.kind)
    with session_scope(demo_engine) as session:
        sheet = check_file(session, actor=registrar, data=other_school_file(demo_engine))
        plan = plan_import(session, actor=registrar, sheet=sheet, schools=[disguised], only_school=True)
    assert not plan.new and len(plan.rejected) == 5
    assert all("与本次导入的学校不一致" in p.reason for r in plan.rejected for p in r.errors)
    assert list(plan.schools) == [DEMO_SCHOOL]


def test_the_county_officer_cannot_import_at_all_and_the_system_operator_may_import_anywhere(
    demo_engine, actors
):
    data = other_school_file(demo_engine)
    with session_scope(demo_engine) as session, pytest.raises(PermissionDenied):
        check_file(session, actor=actors["demo_county"], data=data)
    with session_scope(demo_engine) as session:
        operator = system_actor(session)
        sheet = check_file(session, actor=operator, data=data)
        plan = plan_import(
            session,
            actor=operator,
            sheet=sheet,
            schools=[school(demo_engine, OTHER_SCHOOL)],
            only_school=True,
        )
    assert len(plan.new) == 5
