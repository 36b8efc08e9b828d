"""Reading students within the actor's scope: the roster, reveal of full identifiers, roster export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from xueji.audit import record
from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.db import unit_of_work
from xueji.models import FamilyMember, School, SchoolClass, Student
from xueji.rules.child_label import child_label, class_short
from xueji.rules.class_code import parse_class_code
from xueji.rules.masking import mask_id_number, mask_phone
from xueji.rules.pinyin import looks_like_initials
from xueji.rules.vocab import StudentStatus
from xueji.services.common.access import (
    deny,
    require,
    school_condition,
    sees_full_identifiers,
    student_condition,
    student_in_scope,
)
from xueji.services.common.calendar import school_year_on
from xueji.services.common.exports import export_table, unmasked_reason
from xueji.sql import class_in_grade

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
    label: str = ""  # the name told apart from namesakes: class, birth month, ID tail (rules.child_label)


@dataclass(frozen=True)
class StudentPage:
    rows: list[StudentRow]
    total: int


@dataclass(frozen=True)
class StudentFilter:
    """What the student list is narrowed to; every field optional. Flags match any of those given."""

    search: str = ""
    school_id: int | None = None
    grade: int | None = None  # 1–9, in the current school year
    class_id: int | None = None
    status: StudentStatus | None = None
    flags: tuple[str, ...] = ()
    archived: bool = False  # include records archived after the child left

    def describe(self) -> str:
        """The filter in words, for the audit entry of an export."""
        parts = [f"搜索“{self.search.strip()}”" if self.search.strip() else ""]
        parts += [f"学校#{self.school_id}" if self.school_id else ""]
        parts += [f"{self.grade}年级" if self.grade else "", f"班级#{self.class_id}" if self.class_id else ""]
        parts += [self.status.label if self.status else "", "、".join(FLAG_LABELS[f] for f in self.flags)]
        return ",".join(p for p in parts if p) or "无"


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


def search_condition(text: str) -> ColumnElement[bool]:
    """Latin letters are pinyin initials (zxm); digits an ID number's tail or a 7-digit class code; else a name."""
    text = text.strip()
    if looks_like_initials(text):
        return col(Student.name_initials).startswith(text.lower(), autoescape=True)
    if text.isascii() and text.upper().rstrip("X").isdigit():
        # by subquery: a scan of the ID number index alone, not of every row in list order
        tail = col(Student.id).in_(
            select(Student.id).where(col(Student.id_number).endswith(text.upper(), autoescape=True))
        )
        return or_(tail, _in_classes(SchoolClass.code == text)) if len(text) == 7 else tail
    return col(Student.name).contains(text, autoescape=True)


def _in_classes(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return col(Student.class_id).in_(select(SchoolClass.id).where(condition))


def filter_condition(filters: StudentFilter, school_year: int) -> ColumnElement[bool]:
    """The filter as one WHERE clause on Student alone (classes by subquery), so a count needs no join."""
    conditions: list[ColumnElement[bool]] = [col(Student.merged_into_id).is_(None)]
    if not filters.archived:
        conditions.append(col(Student.archived_at).is_(None))
    if filters.search.strip():
        conditions.append(search_condition(filters.search))
    if filters.school_id is not None:
        conditions.append(Student.school_id == filters.school_id)
    if filters.class_id is not None:
        conditions.append(Student.class_id == filters.class_id)
    if filters.grade is not None:
        conditions.append(_in_classes(class_in_grade(filters.grade, school_year)))
    if filters.status is not None:
        conditions.append(Student.status == filters.status.value)
    if filters.flags:
        conditions.append(or_(*(getattr(Student, flag).is_(True) for flag in filters.flags)))
    return and_(*conditions)


def _roster_query(actor: Actor) -> Select:
    return (
        select(Student, School.name, SchoolClass.code, guardian_field(FamilyMember.phone))
        .join(School, Student.school_id == School.id)
        .outerjoin(SchoolClass, Student.class_id == SchoolClass.id)
        .where(student_condition(actor))
    )


# The list's order: by school, class and name, which the (school_id, class_id, name) index serves.
ROSTER_ORDER = (Student.school_id, Student.class_id, Student.name, Student.id)


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
        label=child_label(
            student.name,
            class_name=class_short(class_code, school_year),
            born=student.birth_date,
            id_number=student.id_number,
            show_id=full,
        ),
    )


def _count(session: Session, actor: Actor, filters: StudentFilter, year: int) -> int:
    """How many students the actor may read match the filter (counted in SQL, no join)."""
    query = (
        select(func.count())
        .select_from(Student)
        .where(student_condition(actor), filter_condition(filters, year))
    )
    return int(session.scalar(query) or 0)


def list_students(
    session: Session,
    *,
    actor: Actor,
    filters: StudentFilter | None = None,
    search: str = "",
    limit: int = 50,
    offset: int = 0,
) -> StudentPage:
    """One page of the students the actor may read, with the total; masked unless the job needs full values."""
    require(session, actor, Action.STUDENT_READ)
    filters = filters or StudentFilter(search=search)
    year = school_year_on(session, today())
    total = _count(session, actor, filters, year)
    full = sees_full_identifiers(actor)
    query = (
        _roster_query(actor)
        .where(filter_condition(filters, year))
        .order_by(*ROSTER_ORDER)
        .limit(limit)
        .offset(offset)
    )
    return StudentPage([_row(*r, full=full, school_year=year) for r in session.execute(query)], total)


def get_student(session: Session, *, actor: Actor, student_id: int) -> StudentRow:
    """One student's row, if the actor may read them; masked as in the roster."""
    student_in_scope(session, actor, student_id, Action.STUDENT_READ)
    year = school_year_on(session, today())
    query = _roster_query(actor).where(Student.id == student_id)
    return _row(*session.execute(query).one(), full=sees_full_identifiers(actor), school_year=year)


@dataclass(frozen=True)
class Revealed:
    id_number: str | None
    phones: list[tuple[str, str, str | None]]  # (name, relation, phone)


@unit_of_work
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


def export_roster(
    session: Session,
    *,
    actor: Actor,
    filters: StudentFilter | None = None,
    search: str = "",
    unmasked: bool = False,
    reason: str = "",
) -> bytes:
    """Return the filtered roster as xlsx; masked unless asked, allowed and reasoned (exports.unmasked_reason);
    always audited."""
    require(session, actor, Action.STUDENT_EXPORT)
    masking = "已脱敏"
    if unmasked:
        masking = unmasked_reason(
            session, actor=actor, action=Action.STUDENT_EXPORT, reason=reason, title="学生名册"
        )
    filters = filters or StudentFilter(search=search)
    year = school_year_on(session, today())
    query = _roster_query(actor).where(filter_condition(filters, year)).order_by(*ROSTER_ORDER)
    rows = [_row(*r, full=unmasked, school_year=year) for r in session.execute(query)]
    frame = roster_frame(rows)
    return export_table(
        session,
        actor=actor,
        action=Action.STUDENT_EXPORT,
        frame=frame,
        sheet="学生名册",
        entity_type="student",
        detail=f"{masking};筛选:{filters.describe()}",
    )


def school_choices(session: Session, *, actor: Actor) -> list[tuple[int, str]]:
    """The schools (id, name) in use the student list can be narrowed to (a closed school's records moved)."""
    require(session, actor, Action.STUDENT_READ)
    query = (
        select(School.id, School.name)
        .where(school_condition(actor), col(School.closed_on).is_(None))
        .order_by(School.code)
    )
    return [(int(i), name) for i, name in session.execute(query)]


def class_choices(
    session: Session, *, actor: Actor, school_id: int, grade: int | None = None
) -> list[tuple[int, str]]:
    """The school's current classes (id, 班级 name with its grade), optionally of one grade."""
    require(session, actor, Action.STUDENT_READ)
    year = school_year_on(session, today())
    query = (
        select(SchoolClass.id, SchoolClass.code)
        .join(School, SchoolClass.school_id == School.id)
        .where(SchoolClass.school_id == school_id, school_condition(actor))
        .order_by(SchoolClass.code)
    )
    if grade is not None:
        query = query.where(class_in_grade(grade, year))
    choices = []
    for class_id, code in session.execute(query):
        parsed = parse_class_code(code)
        if parsed.is_current(year):
            choices.append((int(class_id), f"{parsed.grade_label(year)} {parsed.name}"))
    return choices
