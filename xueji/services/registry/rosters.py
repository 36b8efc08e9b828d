"""The printed rosters of a school (新生名册, 在校生名册, 毕业生名册), one sheet per class, masked per role."""

from __future__ import annotations

from enum import StrEnum

import pandas as pd
from sqlalchemy import ColumnElement, and_, or_, select
from sqlmodel import Session, col

from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.models import FamilyMember, School, SchoolClass, Student, Village
from xueji.rules.class_code import parse_class_code
from xueji.rules.masking import mask_id_number, mask_phone
from xueji.rules.vocab import Stage, StudentStatus
from xueji.services.common.access import (
    require,
    school_condition,
    school_in_scope,
    sees_full_identifiers,
    student_condition,
)
from xueji.services.common.calendar import school_year_on
from xueji.services.common.exports import export_tables, unmasked_reason
from xueji.services.registry.students import guardian_field


class RosterKind(StrEnum):
    NEW = "新生名册"
    ENROLLED = "在校生名册"
    GRADUATING = "毕业生名册"

    @property
    def note(self) -> str:
        return {
            "新生名册": "本学年入学的一年级、七年级在读学生",
            "在校生名册": "全部在读学生(不含休学、转出、辍学)",
            "毕业生名册": "本学年六年级、九年级的在读和已毕业学生",
        }[self.value]


ROSTER_COLUMNS = [
    "序号",
    "学籍号",
    "姓名",
    "性别",
    "出生日期",
    "身份证件号",
    "民族",
    "班级",
    "入学年月",
    "户口所在地",
    "家庭地址",
    "监护人",
    "联系电话",
    "学籍状态",
]


def _kind_condition(kind: RosterKind, school_year: int) -> ColumnElement[bool]:
    """Which students a roster lists, by status and by the class code's entry year."""
    code = col(SchoolClass.code)
    if kind is RosterKind.NEW:
        return and_(Student.status == StudentStatus.ENROLLED, code.startswith(str(school_year)))
    if kind is RosterKind.ENROLLED:
        return Student.status == StudentStatus.ENROLLED
    final_entry = {stage: school_year - stage.years + 1 for stage in (Stage.PRIMARY, Stage.JUNIOR)}
    return and_(
        col(Student.status).in_([StudentStatus.ENROLLED, StudentStatus.GRADUATED]),
        or_(*(code.startswith(f"{year}{stage.value}") for stage, year in final_entry.items())),
    )


def roster_schools(session: Session, *, actor: Actor) -> list[tuple[str, str]]:
    """The schools (code, name) whose rosters the actor may print."""
    require(session, actor, Action.STUDENT_EXPORT)
    query = select(School.code, School.name).where(school_condition(actor)).order_by(School.code)
    return [(code, name) for code, name in session.execute(query)]


def roster_classes(session: Session, *, actor: Actor, school_code: str) -> list[tuple[str, str]]:
    """The school's classes (code, name) that hold students the actor may read, for choosing one."""
    school = _school(session, actor, school_code)
    codes = session.scalars(
        select(SchoolClass.code)
        .join(Student, Student.class_id == SchoolClass.id)
        .where(SchoolClass.school_id == school.id, student_condition(actor))
        .group_by(SchoolClass.code)
        .order_by(SchoolClass.code)
    )
    return [(c, parse_class_code(c).name) for c in codes]


def _school(session: Session, actor: Actor, school_code: str) -> School:
    school_id = session.scalar(select(School.id).where(School.code == school_code.strip()))
    return school_in_scope(session, actor, school_id or -1, Action.STUDENT_EXPORT)


def roster_sheets(
    session: Session,
    *,
    actor: Actor,
    school_code: str,
    kind: RosterKind,
    class_code: str | None = None,
    masked: bool = False,
) -> dict[str, pd.DataFrame]:
    """The roster as one table per class (sheet name = class name), masked unless the role needs it (and
    always when masked is asked)."""
    school = _school(session, actor, school_code)
    year = school_year_on(session, today())
    query = (
        select(
            SchoolClass.code,
            Student.registry_number,
            Student.name,
            Student.sex,
            Student.birth_date,
            Student.id_number,
            Student.ethnicity,
            Student.entry_month,
            Village.name,
            Student.household_code,
            Student.home_address,
            guardian_field(FamilyMember.name),
            guardian_field(FamilyMember.phone),
            Student.status,
        )
        .join(SchoolClass, Student.class_id == SchoolClass.id)
        .outerjoin(Village, Village.code == Student.household_code)
        .where(Student.school_id == school.id, student_condition(actor), _kind_condition(kind, year))
        .order_by(SchoolClass.code, Student.name, Student.id)
    )
    if class_code:
        query = query.where(SchoolClass.code == class_code.strip())
    full = sees_full_identifiers(actor) and not masked
    by_class: dict[str, list[tuple]] = {}
    for (
        code,
        registry,
        name,
        sex,
        born,
        id_number,
        ethnicity,
        month,
        village,
        household,
        home,
        guardian,
        phone,
        status,
    ) in session.execute(query):
        rows = by_class.setdefault(code, [])
        rows.append(
            (
                len(rows) + 1,
                registry if full else mask_id_number(registry),
                name,
                sex,
                born,
                id_number if full else mask_id_number(id_number),
                ethnicity,
                parse_class_code(code).name,
                month,
                village or household,
                home,
                guardian,
                phone if full else mask_phone(phone),
                StudentStatus(status).label,
            )
        )
    return {
        parse_class_code(c).name: pd.DataFrame(rows, columns=ROSTER_COLUMNS) for c, rows in by_class.items()
    }


def export_roster(
    session: Session,
    *,
    actor: Actor,
    school_code: str,
    kind: RosterKind,
    class_code: str | None = None,
    unmasked: bool = False,
    reason: str = "",
) -> bytes:
    """The roster as xlsx (one sheet per class; an empty roster still has its headers), audited; masked unless
    asked, allowed and reasoned (exports.unmasked_reason)."""
    masking = "已脱敏"
    if unmasked:
        masking = unmasked_reason(
            session, actor=actor, action=Action.STUDENT_EXPORT, reason=reason, title=kind.value
        )
    sheets = roster_sheets(
        session,
        actor=actor,
        school_code=school_code,
        kind=kind,
        class_code=class_code,
        masked=not unmasked,
    )
    if not sheets:
        sheets = {kind.value: pd.DataFrame(columns=ROSTER_COLUMNS)}
    return export_tables(
        session,
        actor=actor,
        action=Action.STUDENT_EXPORT,
        sheets=sheets,
        title=kind.value,
        entity_type="student",
        detail=f"学校 {school_code}" + (f",班级 {class_code}" if class_code else "") + f";{masking}",
    )
