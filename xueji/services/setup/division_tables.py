"""区划与学校 as tables for the administrator: every township, village and school of the county with its state
(在用, 已撤并到…, 已关闭于…) and its counts (students, classes, open cases), counted by GROUP BY; the choices of
the page's forms; the audited export of all three."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.models import AppUser, Case, Child, School, SchoolClass, Student, Township, Village
from xueji.rules.cases import CaseStatus
from xueji.rules.vocab import SchoolKind, StudentStatus
from xueji.services.common.access import require, school_condition, township_condition
from xueji.services.common.calendar import school_year_on
from xueji.services.common.exports import export_tables
from xueji.services.setup.divisions import state_label
from xueji.sql import class_grade

ON_ROLL = (StudentStatus.ENROLLED.value, StudentStatus.SUSPENDED.value)


@dataclass(frozen=True)
class Choice:
    """A township, village or school as a form offers it."""

    id: int
    code: str
    name: str
    in_use: bool
    township_id: int | None = None

    @property
    def label(self) -> str:
        return f"{self.name}({self.code})" + ("" if self.in_use else "· 已撤并/关闭")


def _townships(actor: Actor) -> Select:
    return select(Township.id).where(township_condition(actor))


def _matching(query: Select, code, name, search: str) -> Select:  # noqa: ANN001 - columns
    text = search.strip()
    return (
        query.where(or_(code.contains(text, autoescape=True), name.contains(text, autoescape=True)))
        if text
        else query
    )


def _counts(session: Session, query: Select) -> dict[int, int]:
    return {int(key): int(n) for key, n in session.execute(query) if key is not None}


def _open_cases_by(column) -> Select:  # noqa: ANN001 - a Child column
    return (
        select(column, func.count())
        .join(Case, Case.child_id == Child.id)
        .where(Case.status != CaseStatus.CLOSED.value)
        .group_by(column)
    )


def _on_roll_by(column) -> Select:  # noqa: ANN001 - a column reachable from Student
    return (
        select(column, func.count())
        .select_from(Student)
        .where(col(Student.status).in_(ON_ROLL), col(Student.merged_into_id).is_(None))
        .group_by(column)
    )


def township_table(session: Session, *, actor: Actor, search: str = "") -> pd.DataFrame:
    """Every township of the county: state, villages and schools in use, students on the roll, open cases."""
    require(session, actor, Action.SETUP_READ)
    into = aliased(Township)
    rows = session.execute(
        _matching(
            select(Township.id, Township.code, Township.name, Township.closed_on, into.name)
            .outerjoin(into, Township.merged_into_id == into.id)
            .where(township_condition(actor))
            .order_by(Township.code),
            Township.code,
            Township.name,
            search,
        )
    ).all()
    villages = _counts(
        session,
        select(Village.township_id, func.count())
        .where(col(Village.closed_on).is_(None))
        .group_by(Village.township_id),
    )
    schools = _counts(
        session,
        select(School.township_id, func.count())
        .where(col(School.closed_on).is_(None))
        .group_by(School.township_id),
    )
    students = _counts(session, _on_roll_by(School.township_id).join(School, Student.school_id == School.id))
    cases = _counts(session, _open_cases_by(Child.township_id))
    return pd.DataFrame(
        [
            (
                code,
                name,
                state_label(closed, merged),
                villages.get(i, 0),
                schools.get(i, 0),
                students.get(i, 0),
                cases.get(i, 0),
            )
            for i, code, name, closed, merged in rows
        ],
        columns=["代码", "名称", "状态", "村(社区)", "学校", "在籍学生", "未结个案"],
    )


def village_table(session: Session, *, actor: Actor, search: str = "") -> pd.DataFrame:
    """Every village of the county: its township, state, students living there (on the roll), open cases."""
    require(session, actor, Action.SETUP_READ)
    into = aliased(Village)
    rows = session.execute(
        _matching(
            select(Village.id, Village.code, Village.name, Township.name, Village.closed_on, into.name)
            .join(Township, Village.township_id == Township.id)
            .outerjoin(into, Village.merged_into_id == into.id)
            .where(col(Village.township_id).in_(_townships(actor)))
            .order_by(Village.code),
            Village.code,
            Village.name,
            search,
        )
    ).all()
    students = _counts(session, _on_roll_by(Student.home_village_id))
    cases = _counts(session, _open_cases_by(Child.village_id))
    return pd.DataFrame(
        [
            (code, name, township, state_label(closed, merged), students.get(i, 0), cases.get(i, 0))
            for i, code, name, township, closed, merged in rows
        ],
        columns=["代码", "名称", "所属乡镇", "状态", "居住的在籍学生", "未结个案"],
    )


def school_table(session: Session, *, actor: Actor, search: str = "") -> pd.DataFrame:
    """Every school of the county: kind, township, state, students on the roll, classes of this year's grades,
    open cases it follows, active accounts scoped to it."""
    require(session, actor, Action.SETUP_READ)
    into = aliased(School)
    rows = session.execute(
        _matching(
            select(
                School.id, School.code, School.name, School.kind, Township.name, School.closed_on, into.name
            )
            .join(Township, School.township_id == Township.id)
            .outerjoin(into, School.merged_into_id == into.id)
            .where(school_condition(actor))
            .order_by(Township.code, School.code),
            School.code,
            School.name,
            search,
        )
    ).all()
    year = school_year_on(session, today())
    students = _counts(session, _on_roll_by(Student.school_id))
    classes = _counts(
        session,
        select(SchoolClass.school_id, func.count())
        .where(class_grade(year).between(1, 9))
        .group_by(SchoolClass.school_id),
    )
    cases = _counts(session, _open_cases_by(Child.school_id))
    accounts = _counts(
        session,
        select(AppUser.school_id, func.count())
        .where(AppUser.scope_kind == "school", col(AppUser.is_active).is_(True))
        .group_by(AppUser.school_id),
    )
    return pd.DataFrame(
        [
            (
                code,
                name,
                SchoolKind(kind).label,
                township,
                state_label(closed, merged),
                students.get(i, 0),
                classes.get(i, 0),
                cases.get(i, 0),
                accounts.get(i, 0),
            )
            for i, code, name, kind, township, closed, merged in rows
        ],
        columns=[
            "学校标识码",
            "学校名称",
            "办学类型",
            "所属乡镇",
            "状态",
            "在籍学生",
            "班级",
            "未结个案",
            "账号",
        ],
    )


def choices(session: Session, *, actor: Actor) -> dict[str, list[Choice]]:
    """The county's townships, villages and schools for the page's forms (in use first, then closed)."""
    require(session, actor, Action.SETUP_READ)
    found: dict[str, list[Choice]] = {}
    for key, query in (
        (
            "townships",
            select(Township.id, Township.code, Township.name, Township.closed_on, Township.id)
            .where(township_condition(actor))
            .order_by(Township.code),
        ),
        (
            "villages",
            select(Village.id, Village.code, Village.name, Village.closed_on, Village.township_id)
            .where(col(Village.township_id).in_(_townships(actor)))
            .order_by(Village.code),
        ),
        (
            "schools",
            select(School.id, School.code, School.name, School.closed_on, School.township_id)
            .where(school_condition(actor))
            .order_by(School.code),
        ),
    ):
        found[key] = sorted(
            (
                Choice(int(i), code, name, closed is None, int(t))
                for i, code, name, closed, t in session.execute(query)
            ),
            key=lambda c: not c.in_use,
        )
    return found


def export_divisions(session: Session, *, actor: Actor) -> bytes:
    """The three tables in one workbook, the export audited."""
    sheets = {
        "乡镇": township_table(session, actor=actor),
        "村社区": village_table(session, actor=actor),
        "学校": school_table(session, actor=actor),
    }
    return export_tables(session, actor=actor, action=Action.SETUP_READ, sheets=sheets, title="区划与学校")
