"""班额: every class over the limit (大班额), and the balance of classes within each grade of a school.
Sizes count enrolled students, in SQL."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import and_, func, select
from sqlmodel import Session, col

from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.config import get_settings
from xueji.models import School, SchoolClass, Student
from xueji.rules.class_code import parse_class_code
from xueji.rules.vocab import StudentStatus, grade_label
from xueji.services.common.access import require, school_condition
from xueji.services.common.calendar import school_year_on
from xueji.services.common.exports import export_tables
from xueji.sql import class_grade


@dataclass(frozen=True)
class OversizedClass:
    school: str
    class_name: str
    grade: str
    size: int


@dataclass(frozen=True)
class GradeBalance:
    school: str
    grade: str
    classes: int
    smallest: int
    largest: int
    average: float
    balanced: bool  # largest − smallest within the spread setting


def _class_sizes(actor: Actor, year: int):  # noqa: ANN202 - a subquery
    """Per current class in scope: school, code, grade and enrolled size (a class with nobody counts 0)."""
    grade = class_grade(year)
    return (
        select(
            col(School.code).label("school_code"),
            col(School.name).label("school"),
            col(SchoolClass.code).label("code"),
            grade.label("grade"),
            func.count(Student.id).label("size"),
        )
        .select_from(SchoolClass)
        .join(School, SchoolClass.school_id == School.id)
        .outerjoin(
            Student,
            and_(Student.class_id == SchoolClass.id, Student.status == StudentStatus.ENROLLED.value),
        )
        .where(school_condition(actor), grade.between(1, 9))
        .group_by(School.code, School.name, SchoolClass.code, grade)
        .subquery()
    )


def class_size_problem(session: Session, class_id: int) -> str | None:
    """Why one more child may not join this class (it would exceed the limit), naming the class and its size."""
    code = session.scalar(select(SchoolClass.code).where(SchoolClass.id == class_id))
    size = session.scalar(
        select(func.count())
        .select_from(Student)
        .where(Student.class_id == class_id, Student.status == StudentStatus.ENROLLED.value)
    )
    limit, size = get_settings().class_size_limit, size or 0
    if code is not None and size + 1 > limit:
        return f"{parse_class_code(code).name}已有{size}人,编入后将达{size + 1}人,超过每班{limit}人的上限(大班额)"
    return None


def oversized_classes(session: Session, *, actor: Actor) -> list[OversizedClass]:
    """Every class in scope with more enrolled students than the limit (55): largest first."""
    require(session, actor, Action.OVERVIEW_READ)
    year = school_year_on(session, today())
    sizes = _class_sizes(actor, year)
    rows = session.execute(
        select(sizes.c.school, sizes.c.code, sizes.c.grade, sizes.c.size)
        .where(sizes.c.size > get_settings().class_size_limit)
        .order_by(sizes.c.size.desc(), sizes.c.school_code, sizes.c.code)
    )
    return [
        OversizedClass(school, parse_class_code(code).name, grade_label(g), n) for school, code, g, n in rows
    ]


def grade_balance(session: Session, *, actor: Actor) -> list[GradeBalance]:
    """Per school and grade: how many classes, the smallest, largest and average class."""
    require(session, actor, Action.OVERVIEW_READ)
    year = school_year_on(session, today())
    sizes = _class_sizes(actor, year)
    spread = get_settings().class_size_spread
    rows = session.execute(
        select(
            sizes.c.school,
            sizes.c.grade,
            func.count(),
            func.min(sizes.c.size),
            func.max(sizes.c.size),
            func.avg(sizes.c.size),
        )
        .group_by(sizes.c.school_code, sizes.c.school, sizes.c.grade)
        .order_by(sizes.c.school_code, sizes.c.grade)
    )
    return [
        GradeBalance(school, grade_label(g), n, low, high, round(float(mean), 1), high - low <= spread)
        for school, g, n, low, high, mean in rows
    ]


OVERSIZED_COLUMNS = ["学校", "班级", "年级", "在读人数"]
BALANCE_COLUMNS = ["学校", "年级", "班级数", "最小班额", "最大班额", "平均班额", "是否均衡"]


def oversized_frame(rows: list[OversizedClass]) -> pd.DataFrame:
    return pd.DataFrame([(r.school, r.class_name, r.grade, r.size) for r in rows], columns=OVERSIZED_COLUMNS)


def balance_frame(rows: list[GradeBalance]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (
                r.school,
                r.grade,
                r.classes,
                r.smallest,
                r.largest,
                r.average,
                "均衡" if r.balanced else "不均衡",
            )
            for r in rows
        ],
        columns=BALANCE_COLUMNS,
    )


def export_class_sizes(session: Session, *, actor: Actor) -> bytes:
    """Both tables as one xlsx (audited)."""
    return export_tables(
        session,
        actor=actor,
        action=Action.STUDENT_EXPORT,
        sheets={
            "大班额": oversized_frame(oversized_classes(session, actor=actor)),
            "各年级班额": balance_frame(grade_balance(session, actor=actor)),
        },
        entity_type="school_class",
        title="班额统计",
    )
