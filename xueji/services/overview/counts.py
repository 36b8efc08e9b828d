"""The county (or the actor's township or school) at a glance: counts aggregated in SQL, within scope."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, and_, func, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from xueji.auth import Action, Actor
from xueji.models import School, SchoolClass, Student, Township, Village
from xueji.rules.vocab import StudentStatus, grade_label
from xueji.services.common.access import require, school_condition, township_condition
from xueji.sql import class_grade, in_ids

ENROLLED = StudentStatus.ENROLLED.value


@dataclass(frozen=True)
class CountyTotals:
    townships: int
    villages: int
    schools: int
    classes: int
    enrolled: int
    left_behind: int
    migrant: int
    disabled: int
    temporary: int


@dataclass(frozen=True)
class TownshipRow:
    code: str
    name: str
    schools: int
    enrolled: int


@dataclass(frozen=True)
class SchoolRow:
    township: str
    code: str
    name: str
    kind: str
    classes: int
    enrolled: int


@dataclass(frozen=True)
class GradeRow:
    grade: int
    label: str
    classes: int
    enrolled: int


def _count(session: Session, model: type, where: ColumnElement[bool]) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(where)) or 0)


def _schools(actor: Actor) -> Select:
    return select(School.id).where(school_condition(actor))


def county_totals(session: Session, *, actor: Actor) -> CountyTotals:
    """Count places, schools and enrolled students with their flags, within the actor's scope."""
    require(session, actor, Action.OVERVIEW_READ)
    schools = _schools(actor)
    flags = session.execute(
        select(
            func.count(),
            func.count().filter(Student.left_behind),
            func.count().filter(Student.migrant),
            func.count().filter(Student.disabled),
            func.count().filter(col(Student.id_number).is_(None)),
        ).where(Student.status == ENROLLED, col(Student.school_id).in_(schools))
    ).one()
    townships = select(Township.id).where(township_condition(actor))
    return CountyTotals(
        townships=_count(session, Township, township_condition(actor)),
        villages=_count(session, Village, col(Village.township_id).in_(townships)),
        schools=_count(session, School, school_condition(actor)),
        classes=_count(session, SchoolClass, col(SchoolClass.school_id).in_(schools)),
        enrolled=int(flags[0]),
        left_behind=int(flags[1]),
        migrant=int(flags[2]),
        disabled=int(flags[3]),
        temporary=int(flags[4]),
    )


def by_township(session: Session, *, actor: Actor) -> list[TownshipRow]:
    """Schools and enrolled students per township in scope, every such township listed."""
    require(session, actor, Action.OVERVIEW_READ)
    enrolled = (
        select(School.township_id, func.count(Student.id).label("n"))
        .join(Student, and_(Student.school_id == School.id, Student.status == ENROLLED))
        .where(school_condition(actor))
        .group_by(School.township_id)
        .subquery()
    )
    schools = (
        select(School.township_id, func.count().label("n"))
        .where(school_condition(actor))
        .group_by(School.township_id)
        .subquery()
    )
    rows = session.execute(
        select(Township.code, Township.name, func.coalesce(schools.c.n, 0), func.coalesce(enrolled.c.n, 0))
        .outerjoin(schools, schools.c.township_id == Township.id)
        .outerjoin(enrolled, enrolled.c.township_id == Township.id)
        .where(township_condition(actor))
        .order_by(Township.code)
    ).all()
    return [TownshipRow(*row) for row in rows]


def by_school(session: Session, *, actor: Actor) -> list[SchoolRow]:
    """Classes and enrolled students per school in scope."""
    require(session, actor, Action.OVERVIEW_READ)
    mine = _schools(actor)  # counted only there, not across the province
    classes = (
        select(SchoolClass.school_id, func.count().label("n"))
        .where(in_ids(col(SchoolClass.school_id), mine))
        .group_by(SchoolClass.school_id)
        .subquery()
    )
    enrolled = (
        select(Student.school_id, func.count().label("n"))
        .where(Student.status == ENROLLED, in_ids(col(Student.school_id), mine))
        .group_by(Student.school_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Township.name,
            School.code,
            School.name,
            School.kind,
            func.coalesce(classes.c.n, 0),
            func.coalesce(enrolled.c.n, 0),
        )
        .join(Township, School.township_id == Township.id)
        .outerjoin(classes, classes.c.school_id == School.id)
        .outerjoin(enrolled, enrolled.c.school_id == School.id)
        .where(school_condition(actor))
        .order_by(Township.code, School.code)
    ).all()
    return [SchoolRow(*row) for row in rows]


def by_grade(session: Session, *, actor: Actor, school_year_start: int) -> list[GradeRow]:
    """Classes and enrolled students per grade (1–9) in the given school year, within scope."""
    require(session, actor, Action.OVERVIEW_READ)
    grade = class_grade(school_year_start).label("grade")
    rows = session.execute(
        select(grade, func.count(func.distinct(SchoolClass.id)), func.count(Student.id))
        .select_from(SchoolClass)
        .outerjoin(Student, and_(Student.class_id == SchoolClass.id, Student.status == ENROLLED))
        .where(col(SchoolClass.school_id).in_(_schools(actor)))
        .group_by(grade)
        .having(grade.between(1, 9))
        .order_by(grade)
    ).all()
    return [GradeRow(int(g), grade_label(int(g)), int(c), int(n)) for g, c, n in rows]
