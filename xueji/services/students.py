"""Reading students within the actor's scope: the roster, reveal of full identifiers, roster export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import Select, func, or_, select
from sqlmodel import Session, col

from xueji.audit import record
from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.models import FamilyMember, School, SchoolClass, Student
from xueji.rules.class_code import parse_class_code
from xueji.rules.masking import mask_id_number, mask_phone
from xueji.rules.vocab import StudentStatus
from xueji.services.access import deny, require, sees_full_identifiers, student_condition, student_in_scope
from xueji.services.calendar import school_year_on
from xueji.services.exports import export_table

FLAG_LABELS = {
    "left_behind": "留守儿童",
    "migrant": "随迁子女",
    "disabled": "残疾",
    "orphan": "孤儿",
    "needs_aid": "需资助",
}


@dataclass(frozen=True)
class StudentRow:
    id: int
    name: str
    sex: str
    birth_date: date
    id_number: str | None
    school: str
    class_name: str
    grade: str
    status: str
    flags: str
    guardian_phone: str | None


@dataclass(frozen=True)
class StudentPage:
    rows: list[StudentRow]
    total: int


def guardian_field(field):
    """A field of each student's first guardian (or first family member) with a phone: a scalar subquery."""
    return (
        select(field)
        .where(FamilyMember.student_id == Student.id, col(FamilyMember.phone).is_not(None))
        .order_by(col(FamilyMember.is_guardian).desc(), FamilyMember.seq)
        .limit(1)
        .correlate(Student)
        .scalar_subquery()
    )


def _roster_query(actor: Actor, search: str) -> Select:
    query = (
        select(Student, School.name, SchoolClass.code, guardian_field(FamilyMember.phone))
        .join(School, Student.school_id == School.id)
        .outerjoin(SchoolClass, Student.class_id == SchoolClass.id)
        .where(student_condition(actor))
    )
    text = search.strip()
    if text:
        query = query.where(
            or_(
                col(Student.name).contains(text),
                col(Student.id_number).endswith(text.upper()),
                SchoolClass.code == text,
            )
        )
    return query


def _row(
    student: Student, school: str, class_code: str | None, phone: str | None, *, full: bool, school_year: int
) -> StudentRow:
    parsed = parse_class_code(class_code) if class_code else None
    return StudentRow(
        id=student.id,
        name=student.name,
        sex=student.sex,
        birth_date=student.birth_date,
        id_number=student.id_number if full else mask_id_number(student.id_number),
        school=school,
        class_name=parsed.name if parsed else "",
        grade=parsed.grade_label(school_year) if parsed else "",
        status=StudentStatus(student.status).label,
        flags="、".join(label for flag, label in FLAG_LABELS.items() if getattr(student, flag)),
        guardian_phone=phone if full else mask_phone(phone),
    )


def list_students(
    session: Session, *, actor: Actor, search: str = "", limit: int = 50, offset: int = 0
) -> StudentPage:
    """One page of the students the actor may read, masked unless the actor's job needs full values."""
    require(session, actor, Action.STUDENT_READ)
    query = _roster_query(actor, search)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    year = school_year_on(session, today())
    full = sees_full_identifiers(actor)
    rows = session.execute(
        query.order_by(SchoolClass.code, Student.name, Student.id).limit(limit).offset(offset)
    )
    return StudentPage([_row(*r, full=full, school_year=year) for r in rows], int(total))


def get_student(session: Session, *, actor: Actor, student_id: int) -> StudentRow:
    """One student's row, if the actor may read them; masked as in the roster."""
    student_in_scope(session, actor, student_id, Action.STUDENT_READ)
    row = session.execute(_roster_query(actor, "").where(Student.id == student_id)).one()
    return _row(*row, full=sees_full_identifiers(actor), school_year=school_year_on(session, today()))


@dataclass(frozen=True)
class Revealed:
    id_number: str | None
    phones: list[tuple[str, str, str | None]]  # (name, relation, phone)


def reveal_identifiers(session: Session, *, actor: Actor, student_id: int, reason: str) -> Revealed:
    """Show one student's full ID number and family phone numbers; an explicit, audited action."""
    student = student_in_scope(session, actor, student_id, Action.STUDENT_REVEAL)
    if not reason.strip():
        deny(
            session,
            actor,
            Action.STUDENT_REVEAL.value,
            "查看完整信息须填写事由",
            entity_type="student",
            entity_id=student_id,
        )
    members = session.execute(
        select(FamilyMember.name, FamilyMember.relation, FamilyMember.phone)
        .where(FamilyMember.student_id == student_id)
        .order_by(FamilyMember.seq)
    ).all()
    record(
        session,
        actor=actor,
        action="reveal",
        entity_type="student",
        entity_id=student_id,
        detail=f"事由:{reason.strip()}",
    )
    session.commit()
    return Revealed(student.id_number, [tuple(m) for m in members])


ROSTER_COLUMNS = [
    "姓名",
    "性别",
    "出生日期",
    "身份证号",
    "学校",
    "班级",
    "年级",
    "学籍状态",
    "重点关注",
    "监护人电话",
]


def roster_frame(rows: list[StudentRow]) -> pd.DataFrame:
    """The roster as a table with Chinese headers, for the page and the export alike."""
    return pd.DataFrame(
        [
            (
                r.name,
                r.sex,
                r.birth_date,
                r.id_number,
                r.school,
                r.class_name,
                r.grade,
                r.status,
                r.flags,
                r.guardian_phone,
            )
            for r in rows
        ],
        columns=ROSTER_COLUMNS,
    )


def export_roster(session: Session, *, actor: Actor, search: str = "", unmasked: bool = False) -> bytes:
    """Return the filtered roster as xlsx; masked unless asked and allowed; always audited."""
    require(session, actor, Action.STUDENT_EXPORT)
    if unmasked and not sees_full_identifiers(actor):
        require(session, actor, Action.STUDENT_REVEAL)
    year = school_year_on(session, today())
    query = _roster_query(actor, search).order_by(SchoolClass.code, Student.name, Student.id)
    rows = [_row(*r, full=unmasked, school_year=year) for r in session.execute(query)]
    frame = roster_frame(rows)
    return export_table(
        session,
        actor=actor,
        action=Action.STUDENT_EXPORT,
        frame=frame,
        sheet="学生名册",
        entity_type="student",
        detail=f"{'未脱敏' if unmasked else '已脱敏'};筛选:{search.strip() or '无'}",
    )
