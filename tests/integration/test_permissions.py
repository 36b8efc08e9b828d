"""Role × action × scope: exactly the allowed calls succeed; every refusal is a PermissionDenied, audited."""

from datetime import date

import pytest
from sqlalchemy import func, select, text

from xueji.auth import PERMISSIONS, Action, PermissionDenied
from xueji.db import session_scope
from xueji.models import AuditLog, County, School, SchoolClass, Student, Township
from xueji.rules.vocab import Role
from xueji.services.overview import counts
from xueji.services.registry import assignments, file_import, rosters, students
from xueji.services.system import accounts, audit_log

DEMO_ROLES = [
    "demo_admin",
    "demo_auditor",
    "demo_county",
    "demo_township",
    "demo_registrar",
    "demo_teacher",
    "demo_coordinator",
]


@pytest.fixture
def targets(demo_engine, actors):
    """Three students: in every student-reading scope, in the next township, in another county."""
    with session_scope(demo_engine) as session:
        teacher = actors["demo_teacher"]
        own = session.scalar(
            select(Student.id)
            .join(SchoolClass, Student.class_id == SchoolClass.id)
            .where(SchoolClass.head_teacher_id == teacher.user_id)
            .order_by(Student.id)
        )
        neighbour = session.scalar(
            select(Student.id).join(School).where(School.code == "2143016971").order_by(Student.id)
        )
        county = County(code="430182000000", name="宁乡市")
        session.add(county)
        session.flush()
        township = Township(county_id=county.id, code="430182100000", name="外县镇")
        session.add(township)
        session.flush()
        school = School(township_id=township.id, code="4300000001", name="外县小学", kind="primary")
        session.add(school)
        session.flush()
        outsider = Student(
            school_id=school.id, name="外县生", sex="女", birth_date=date(2018, 5, 1), entry_month="202409"
        )
        session.add(outsider)
        session.commit()
        return {"own": own, "neighbour": neighbour, "outside": outsider.id}


VISIBLE = {
    "own": {"demo_county", "demo_township", "demo_registrar", "demo_teacher", "demo_coordinator"},
    "neighbour": {"demo_county"},
    "outside": set(),
}


def _student_call(action, session, actor, student_id, actors):
    if action is Action.STUDENT_READ:
        return students.get_student(session, actor=actor, student_id=student_id)
    if action is Action.STUDENT_REVEAL:
        return students.reveal_identifiers(session, actor=actor, student_id=student_id, reason="核实身份")
    if action is Action.ASSIGNMENT_MANAGE:
        return assignments.assign_student(
            session, actor=actor, teacher_id=actors["demo_teacher"].user_id, student_id=student_id
        )
    raise AssertionError(action)


STUDENT_ACTIONS = [Action.STUDENT_READ, Action.STUDENT_REVEAL, Action.ASSIGNMENT_MANAGE]
GLOBAL_ACTIONS = {
    Action.OVERVIEW_READ: lambda s, a: counts.county_totals(s, actor=a),
    Action.STUDENT_EXPORT: lambda s, a: students.export_roster(s, actor=a),
    Action.USER_MANAGE: lambda s, a: accounts.list_users(s, actor=a),
    Action.AUDIT_READ: lambda s, a: audit_log.list_entries(s, actor=a, filter=audit_log.AuditFilter()),
    Action.AUDIT_EXPORT: lambda s, a: audit_log.export_entries(s, actor=a, filter=audit_log.AuditFilter()),
}


def _outcome(call) -> bool:
    try:
        call()
    except PermissionDenied:
        return False
    return True


def test_exactly_the_allowed_calls_succeed(demo_engine, actors, targets):
    got, expected, denials = {}, {}, 0
    for username in DEMO_ROLES:
        actor = actors[username]
        allowed = PERMISSIONS[actor.role]
        for action, call in GLOBAL_ACTIONS.items():
            with session_scope(demo_engine) as session:
                got[username, action, None] = _outcome(lambda: call(session, actor))  # noqa: B023
            expected[username, action, None] = action in allowed
        for action in STUDENT_ACTIONS:
            for where, student_id in targets.items():
                with session_scope(demo_engine) as session:
                    got[username, action, where] = _outcome(
                        lambda: _student_call(action, session, actor, student_id, actors)  # noqa: B023
                    )
                expected[username, action, where] = action in allowed and username in VISIBLE[where]
    wrong = {k: v for k, v in got.items() if v != expected[k]}
    assert wrong == {}
    denials = sum(not v for v in expected.values())
    with session_scope(demo_engine) as session:
        audited = session.scalar(select(func.count()).where(AuditLog.action == "denied"))
    assert audited == denials
    assert sum(expected.values()) > 10  # the matrix is not all refusals


def _visible_ids(demo_engine, actor):
    with session_scope(demo_engine) as session:
        page = students.list_students(session, actor=actor, limit=100_000)
    return {r.id for r in page.rows}


def test_no_role_reads_a_student_outside_its_scope(demo_engine, actors, targets):
    with session_scope(demo_engine) as session:

        def ids(sql, **params):
            return set(session.execute(text(sql), params).scalars())

        county_wide = ids(
            "SELECT s.id FROM student s JOIN school c ON c.id = s.school_id "
            "JOIN township t ON t.id = c.township_id JOIN county k ON k.id = t.county_id "
            "WHERE k.code = '430181000000'"
        )
        gugang = ids(
            "SELECT s.id FROM student s JOIN school c ON c.id = s.school_id "
            "JOIN township t ON t.id = c.township_id WHERE t.code = '430181108000'"
        )
        school = ids(
            "SELECT s.id FROM student s JOIN school c ON c.id = s.school_id WHERE c.code = '2143016965'"
        )
        teacher = ids(
            "SELECT s.id FROM student s JOIN school_class k ON k.id = s.class_id "
            "WHERE k.head_teacher_id = :u UNION SELECT student_id FROM teacher_assignment "
            "WHERE user_id = :u AND student_id IS NOT NULL",
            u=actors["demo_teacher"].user_id,
        )
    assert _visible_ids(demo_engine, actors["demo_county"]) == county_wide
    assert _visible_ids(demo_engine, actors["demo_township"]) == gugang
    assert _visible_ids(demo_engine, actors["demo_coordinator"]) == gugang
    assert _visible_ids(demo_engine, actors["demo_registrar"]) == school
    assert _visible_ids(demo_engine, actors["demo_teacher"]) == teacher
    assert 0 < len(teacher) < len(school) < len(gugang) < len(county_wide)
    assert targets["outside"] not in county_wide


def test_a_teacher_cannot_read_a_classmate_they_do_not_answer_for(demo_engine, actors):
    teacher = actors["demo_teacher"]
    with session_scope(demo_engine) as session:
        other = session.scalar(
            select(Student.id)
            .join(SchoolClass, Student.class_id == SchoolClass.id)
            .join(School)
            .where(School.code == "2143016965", SchoolClass.head_teacher_id.is_(None))
            .where(
                Student.id.not_in(
                    select(text("student_id FROM teacher_assignment WHERE student_id IS NOT NULL"))
                )
            )
            .order_by(Student.id)
        )
        with pytest.raises(PermissionDenied, match="管辖范围"):
            students.get_student(session, actor=teacher, student_id=other)


def test_only_the_system_operator_has_every_action():
    assert [r for r in Role if PERMISSIONS[r] == frozenset(Action)] == [Role.SYSTEM]


# Schools of the demo: the registrar's own, a neighbour in the same township, one in another township.
SCHOOLS = {"own": "2143016965", "neighbour": "2143016967", "outside": "2143016991"}
SCHOOLS_IN_SCOPE = {
    "demo_county": {"own", "neighbour", "outside"},
    "demo_township": {"own", "neighbour"},
    "demo_coordinator": {"own", "neighbour"},
    "demo_registrar": {"own"},
    "demo_teacher": {"own"},
}
SCHOOL_ACTIONS = {
    Action.STUDENT_IMPORT: lambda s, a, code: file_import.schools_for_import(s, actor=a, school_code=code),
    Action.STUDENT_EXPORT: lambda s, a, code: rosters.export_roster(
        s, actor=a, school_code=code, kind=rosters.RosterKind.ENROLLED
    ),
}


def test_imports_and_rosters_are_allowed_exactly_by_role_and_school_scope(demo_engine, actors):
    got, expected = {}, {}
    for username in DEMO_ROLES:
        actor = actors[username]
        for action, call in SCHOOL_ACTIONS.items():
            for where, code in SCHOOLS.items():
                with session_scope(demo_engine) as session:
                    got[username, action, where] = _outcome(lambda: call(session, actor, code))  # noqa: B023
                in_scope = where in SCHOOLS_IN_SCOPE.get(username, set())
                expected[username, action, where] = action in PERMISSIONS[actor.role] and in_scope
    assert {k: v for k, v in got.items() if v != expected[k]} == {}
    assert [k for k, v in expected.items() if v and k[1] is Action.STUDENT_IMPORT] == [
        ("demo_registrar", Action.STUDENT_IMPORT, "own")
    ]
