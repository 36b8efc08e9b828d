"""Scope: which schools and students an acting user may touch. Every service checks here."""

from __future__ import annotations

from typing import Any, NoReturn

from sqlalchemy import Select, and_, exists, false, or_, select, true, union
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from xueji.audit import record
from xueji.auth import Action, Actor, PermissionDenied
from xueji.models import (
    Case,
    Child,
    City,
    County,
    HomePlan,
    HomePlanTeacher,
    School,
    SchoolClass,
    Student,
    Sweep,
    SweepTeamMember,
    SweepVillage,
    TeacherAssignment,
    Township,
)
from xueji.rules.vocab import Role, ScopeKind
from xueji.sql import in_ids
from xueji.standby import writable_bind

# Roles that need full ID numbers and phone numbers for their job (within their scope): the registrar for
# their school, the teacher for their own students, the batch operator.
FULL_VIEW_ROLES = frozenset({Role.REGISTRAR, Role.TEACHER, Role.SYSTEM})


def deny(
    session: Session,
    actor: Actor,
    action: str,
    message: str,
    *,
    entity_type: str | None = None,
    entity_id: object = None,
) -> NoReturn:
    """Record the denial in a transaction of its own (it must outlive the caller's rollback), then raise."""
    session.rollback()  # the caller's work is abandoned, and on SQLite its write lock would block ours
    with Session(writable_bind(session)) as audit_session:
        record(
            audit_session,
            actor=actor,
            action="denied",
            outcome="denied",
            entity_type=entity_type,
            entity_id=entity_id,
            detail=f"{action}: {message}",
        )
        audit_session.commit()
    raise PermissionDenied(message)


def require(session: Session, actor: Actor, action: Action) -> None:
    """Raise PermissionDenied (and audit it) unless the actor's role may do this action."""
    if not actor.can(action):
        deny(session, actor, action.value, f"您的角色({actor.role.label})无权{action.label}")


def _found_or_denied(
    session: Session, actor: Actor, action: Action, query: Select, what: str, entity_type: str, entity_id: int
) -> Any:
    """The one row the query finds within the actor's scope; if none, audit the denial and raise."""
    require(session, actor, action)
    found = session.scalar(query)
    if found is None:
        deny(
            session,
            actor,
            action.value,
            f"该{what}不在您的管辖范围内",
            entity_type=entity_type,
            entity_id=entity_id,
        )
    return found


def county_condition(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on County: the counties inside (or holding) the actor's scope."""
    if actor.scope_kind is ScopeKind.PROVINCE:
        return col(County.city_id).in_(select(City.id).where(City.province_id == actor.scope_id))
    if actor.scope_kind is ScopeKind.CITY:
        return County.city_id == actor.scope_id
    if actor.scope_kind is ScopeKind.COUNTY:
        return County.id == actor.scope_id
    if actor.scope_kind is ScopeKind.TOWNSHIP:
        return col(County.id).in_(select(Township.county_id).where(Township.id == actor.scope_id))
    if actor.scope_kind is ScopeKind.SCHOOL:
        return col(County.id).in_(
            select(Township.county_id)
            .join(School, School.township_id == Township.id)
            .where(School.id == actor.scope_id)
        )
    return false()


def _above_county(actor: Actor) -> bool:
    return actor.scope_kind in (ScopeKind.CITY, ScopeKind.PROVINCE)


def school_condition(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on School: the schools inside the actor's scope."""
    if _above_county(actor):
        return col(School.township_id).in_(
            select(Township.id).where(
                col(Township.county_id).in_(select(County.id).where(county_condition(actor)))
            )
        )
    if actor.scope_kind is ScopeKind.COUNTY:
        return col(School.township_id).in_(select(Township.id).where(Township.county_id == actor.scope_id))
    if actor.scope_kind is ScopeKind.TOWNSHIP:
        return School.township_id == actor.scope_id
    if actor.scope_kind is ScopeKind.SCHOOL:
        return School.id == actor.scope_id
    return false()


def township_condition(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on Township: the townships inside (or holding) the actor's scope."""
    if _above_county(actor):
        return col(Township.county_id).in_(select(County.id).where(county_condition(actor)))
    if actor.scope_kind is ScopeKind.COUNTY:
        return Township.county_id == actor.scope_id
    if actor.scope_kind is ScopeKind.TOWNSHIP:
        return Township.id == actor.scope_id
    if actor.scope_kind is ScopeKind.SCHOOL:
        return col(Township.id).in_(select(School.township_id).where(School.id == actor.scope_id))
    return false()


def responsible_students(user_id: int | None) -> Select:
    """The ids of the students a teacher answers for: assigned classes, head-teacher classes, one by one."""
    by_class = select(Student.id).where(
        or_(
            col(Student.class_id).in_(
                select(TeacherAssignment.class_id).where(
                    TeacherAssignment.user_id == user_id, col(TeacherAssignment.class_id).is_not(None)
                )
            ),
            col(Student.class_id).in_(select(SchoolClass.id).where(SchoolClass.head_teacher_id == user_id)),
        )
    )
    one_by_one = select(TeacherAssignment.student_id).where(
        TeacherAssignment.user_id == user_id, col(TeacherAssignment.student_id).is_not(None)
    )
    return select(union(by_class, one_by_one).subquery().c[0])


def student_condition(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on Student: the students the actor may read."""
    if actor.role is Role.SYSTEM:
        return true()
    in_schools = in_ids(col(Student.school_id), select(School.id).where(school_condition(actor)))
    if actor.role is Role.TEACHER:
        return in_schools & col(Student.id).in_(responsible_students(actor.user_id))
    return in_schools


def student_in_scope(session: Session, actor: Actor, student_id: int, action: Action) -> Student:
    """Return the student if the actor may do the action on them; otherwise audit and raise."""
    query = select(Student).where(Student.id == student_id, student_condition(actor))
    return _found_or_denied(session, actor, action, query, "学生", "student", student_id)


def school_in_scope(session: Session, actor: Actor, school_id: int, action: Action) -> School:
    """Return the school if it lies in the actor's scope; otherwise audit and raise."""
    query = select(School).where(School.id == school_id, school_condition(actor))
    return _found_or_denied(session, actor, action, query, "学校", "school", school_id)


def actor_county_id(session: Session, actor: Actor) -> int | None:
    """The county an account works in: a county account's own (the operator's too, and a city's or province's
    officer narrowed to one of their counties by supervision.as_county), a township account's county; None for a
    school's accounts and for a city's or province's officer in their own scope, whom a county-wide service
    refuses or shows nothing (never every county's rows)."""
    if actor.scope_kind is ScopeKind.COUNTY:
        return actor.scope_id
    if actor.scope_kind is ScopeKind.TOWNSHIP:
        return session.scalar(select(Township.county_id).where(Township.id == actor.scope_id))
    return None


def sees_full_identifiers(actor: Actor) -> bool:
    """Tell whether the actor sees unmasked ID and phone numbers of the students in their scope."""
    return actor.role in FULL_VIEW_ROLES


# Field work: the sweep's lists and the children to verify door to door are acted on by the township (and the
# registrar for their school), who check an ID number at the door and phone a guardian.
FIELDWORK_ROLES = frozenset({Role.TOWNSHIP_OFFICIAL, Role.REGISTRAR, Role.SYSTEM})


def sees_fieldwork_identifiers(actor: Actor) -> bool:
    """Tell whether the field-work lists (sweep findings, children to verify) show this actor full numbers."""
    return actor.role in FIELDWORK_ROLES


def class_in_scope(session: Session, actor: Actor, class_id: int, action: Action) -> SchoolClass:
    """Return the class if its school lies in the actor's scope; otherwise audit and raise."""
    query = (
        select(SchoolClass)
        .join(School, SchoolClass.school_id == School.id)
        .where(SchoolClass.id == class_id, school_condition(actor))
    )
    return _found_or_denied(session, actor, action, query, "班级", "school_class", class_id)


def child_condition(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on Child: the children followed by cases that the actor may read. The county sees its
    townships; a township official the children living in the township or at its schools; a school its own;
    a teacher the children they answer for (as their students, or as the case's education-line person)."""
    if actor.role is Role.SYSTEM:
        return true()
    if actor.scope_kind is ScopeKind.SCHOOL:
        at_school = Child.school_id == actor.scope_id
        if actor.role is not Role.TEACHER:
            return at_school
        mine = exists(
            select(Case.id).where(Case.child_id == Child.id, Case.education_user_id == actor.user_id)
        ).correlate(Child)
        return and_(at_school, or_(col(Child.student_id).in_(responsible_students(actor.user_id)), mine))
    in_townships = in_ids(col(Child.township_id), select(Township.id).where(township_condition(actor)))
    if actor.scope_kind is ScopeKind.TOWNSHIP:
        return in_townships | in_ids(col(Child.school_id), select(School.id).where(school_condition(actor)))
    return in_townships


def child_in_scope(session: Session, actor: Actor, child_id: int, action: Action) -> Child:
    """Return the child if the actor may do the action on them; otherwise audit and raise."""
    query = select(Child).where(Child.id == child_id, child_condition(actor))
    return _found_or_denied(session, actor, action, query, "儿童", "child", child_id)


def sweep_village_condition(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on SweepVillage: the villages' sweeps the actor may see. A teacher sees the villages
    whose team they are on; everyone else the sweeps of the townships in (or holding) their scope."""
    if actor.role is Role.SYSTEM:
        return true()
    if actor.role is Role.TEACHER:
        return col(SweepVillage.id).in_(
            select(SweepTeamMember.sweep_village_id).where(SweepTeamMember.user_id == actor.user_id)
        )
    return col(SweepVillage.sweep_id).in_(
        select(Sweep.id).where(
            col(Sweep.township_id).in_(select(Township.id).where(township_condition(actor)))
        )
    )


def sweep_village_in_scope(
    session: Session, actor: Actor, sweep_village_id: int, action: Action
) -> SweepVillage:
    """Return the village's sweep if the actor may do the action on it; otherwise audit and raise."""
    query = select(SweepVillage).where(SweepVillage.id == sweep_village_id, sweep_village_condition(actor))
    return _found_or_denied(session, actor, action, query, "村的排查", "sweep_village", sweep_village_id)


def sweep_in_scope(session: Session, actor: Actor, sweep_id: int, action: Action) -> Sweep:
    """Return the township's sweep if it lies in the actor's scope; otherwise audit and raise."""
    query = select(Sweep).where(
        Sweep.id == sweep_id, col(Sweep.township_id).in_(select(Township.id).where(township_condition(actor)))
    )
    return _found_or_denied(session, actor, action, query, "乡镇的排查", "sweep", sweep_id)


def home_plan_condition(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on HomePlan: the plans (一人一案) the actor may see. A teacher sees the plans they are
    assigned to; everyone else the plans of the schools in their scope."""
    if actor.role is Role.SYSTEM:
        return true()
    if actor.role is Role.TEACHER:
        return col(HomePlan.id).in_(
            select(HomePlanTeacher.plan_id).where(HomePlanTeacher.user_id == actor.user_id)
        )
    return col(HomePlan.school_id).in_(select(School.id).where(school_condition(actor)))


def home_plan_in_scope(session: Session, actor: Actor, plan_id: int, action: Action) -> HomePlan:
    """Return the plan if the actor may do the action on it; otherwise audit and raise."""
    query = select(HomePlan).where(HomePlan.id == plan_id, home_plan_condition(actor))
    return _found_or_denied(session, actor, action, query, "送教方案", "home_plan", plan_id)


def home_child_condition(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on Child: the children whose 送教上门 records the actor may see — the children they may
    read, and those of the plans they may see (a teacher on a plan)."""
    return child_condition(actor) | col(Child.id).in_(
        select(HomePlan.child_id).where(home_plan_condition(actor))
    )


def home_child_in_scope(session: Session, actor: Actor, child_id: int, action: Action) -> Child:
    """Return the child if the actor may do the action on their 送教上门 records; otherwise audit and raise."""
    query = select(Child).where(Child.id == child_id, home_child_condition(actor))
    return _found_or_denied(session, actor, action, query, "儿童", "child", child_id)
