"""Test data beyond the demo county: made through the real services, never inserted behind their back."""

from datetime import date

from sqlalchemy import Engine, func, select
from sqlmodel import Session

from xueji.auth import Actor
from xueji.db import session_scope
from xueji.models import AppUser, AuditLog, School, SchoolClass, Student
from xueji.rules.cases import RiskLevel
from xueji.rules.class_code import parse_class_code
from xueji.rules.visits import VisitFacts, VisitKind, VisitMethod
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.system import accounts, role_grants

DEMO_SCHOOL = "2143016965"  # 古港镇完全小学


def approved_account(
    session: Session,
    admin: Actor,
    username: str,
    name: str,
    role: Role,
    scope_kind: ScopeKind,
    scope_code: str,
) -> tuple[AppUser, str]:
    """Request an account as the administrator and approve it as the demo county officer (separation of duties);
    return it with the one-time password the approver was given."""
    grant = role_grants.request_account(
        session,
        actor=admin,
        username=username,
        display_name=name,
        role=role,
        scope_kind=scope_kind,
        scope_code=scope_code,
    )
    approved = role_grants.approve(
        session, actor=accounts.actor_by_username(session, "demo_county"), grant_id=int(grant.id or 0)
    )
    assert approved.password is not None
    return session.get_one(AppUser, accounts.user_id_of(session, username)), approved.password


def new_teacher(session: Session, admin: Actor, username: str, name: str = "新老师") -> tuple[AppUser, str]:
    """A teacher account at the demo school, requested and approved; return it with its one-time password."""
    return approved_account(session, admin, username, name, Role.TEACHER, ScopeKind.SCHOOL, DEMO_SCHOOL)


def new_registrar(session: Session, admin: Actor, username: str, school_code: str) -> Actor:
    """A registrar account at another school, requested and approved; return it as an acting user."""
    user, _ = approved_account(
        session, admin, username, "另一校学籍管理员", Role.REGISTRAR, ScopeKind.SCHOOL, school_code
    )
    return accounts.actor_of(user)


def class_of(engine: Engine, school: str, grade: int, *, school_year: int = 2026) -> int:
    """The id of the school's first class in that grade (the demo county's school year by default)."""
    with session_scope(engine) as session:
        for class_id, code in session.execute(
            select(SchoolClass.id, SchoolClass.code)
            .join(School)
            .where(School.code == school)
            .order_by(SchoolClass.code)
        ):
            if parse_class_code(code).grade(school_year) == grade:
                return class_id
    raise AssertionError("no such class in the demo")


def visit_facts(**changes: object) -> VisitFacts:
    """A complete home visit on 20 Nov 2026 (the demo's week), with the fields given changed."""
    values: dict[str, object] = {
        "visit_date": date(2026, 11, 20),
        "kind": VisitKind.VISIT,
        "method": VisitMethod.HOME,
        "visitors": "周老师",
        "met_with": "祖母",
        "child_situation": "按时到校",
        "family_situation": "父母在外务工",
        "risk_after": RiskLevel.LOW,
        "next_step": "下月回访",
        "next_visit_on": date(2026, 12, 20),
    }
    return VisitFacts(**(values | changes))  # type: ignore[arg-type]


def audit_entries(session: Session, entity_type: str, entity_id: object) -> int:
    """How many audit entries name this record."""
    return session.scalar(
        select(func.count())
        .select_from(AuditLog)
        .where(AuditLog.entity_type == entity_type, AuditLog.entity_id == str(entity_id))
    )


def taught_student(session: Session, username: str = "demo_teacher") -> tuple[AppUser, int]:
    """A demo teacher and the first student (by id) of the class they head."""
    teacher = session.scalar(select(AppUser).where(AppUser.username == username))
    student = session.scalar(
        select(Student.id)
        .join(SchoolClass, Student.class_id == SchoolClass.id)
        .where(SchoolClass.head_teacher_id == teacher.id)
        .order_by(Student.id)
    )
    return teacher, student


# A county made directly, with no demo: two townships and three schools (for the set-up imports' tests).
SMALL_COUNTY = "430181000000"
SMALL_TOWNSHIPS = {"430181108000": "古港镇", "430181106000": "沙市镇"}
SMALL_SCHOOLS = {  # code → (name, kind, township code)
    "2143016965": ("古港镇完全小学", "primary", "430181108000"),
    "2143016967": ("古港镇梅田小学", "primary", "430181108000"),
    "2143017001": ("沙市镇中学", "junior", "430181106000"),
}


def small_county(session: Session) -> dict[str, int]:
    """Create the county, its townships and schools in an empty database; return code → id."""
    from xueji.models import County, Township

    county = County(code=SMALL_COUNTY, name="浏阳市")
    session.add(county)
    session.flush()
    ids = {SMALL_COUNTY: int(county.id or 0)}
    for code, name in SMALL_TOWNSHIPS.items():
        township = Township(county_id=county.id, code=code, name=name)
        session.add(township)
        session.flush()
        ids[code] = int(township.id or 0)
    for code, (name, kind, township_code) in SMALL_SCHOOLS.items():
        school = School(township_id=ids[township_code], code=code, name=name, kind=kind)
        session.add(school)
        session.flush()
        ids[code] = int(school.id or 0)
    session.commit()
    return ids
