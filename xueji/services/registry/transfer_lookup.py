"""转入 lookup: a receiving school finds a child of another school of the county by the full ID number the
family brought, to request the transfer in. Only an exact number finds anyone, and every lookup is audited.
The lookup's audit entry is also its proof: a transfer in is accepted only for a child this registrar found
this way a short while before (settings.transfer_lookup_minutes), never for an internal id alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, timedelta

from sqlalchemy import select
from sqlmodel import Session

from xueji.audit import record
from xueji.auth import Action, Actor
from xueji.clock import now, today
from xueji.config import get_settings
from xueji.db import unit_of_work
from xueji.models import AuditLog, School, SchoolClass, Student, Township
from xueji.rules.class_code import parse_class_code
from xueji.rules.id_number import check_digit
from xueji.rules.vocab import ScopeKind, StudentStatus
from xueji.services.common.access import require
from xueji.services.common.calendar import school_year_on

LOOKUP_ACTION = "transfer_lookup"


class TransferLookupError(ValueError):
    """The number is malformed or names nobody the actor may ask for; the message is in Chinese."""


@dataclass(frozen=True)
class TransferCandidate:
    student_id: int
    name: str
    sex: str
    school: str
    grade: str
    status: str
    lookup_id: int  # the lookup's audit entry: the proof a transfer-in request carries
    grade_number: int | None = None  # the grade by the record today, which the placement must match


@unit_of_work
def find_transfer_candidate(session: Session, *, actor: Actor, id_number: str) -> TransferCandidate:
    """The child with exactly this ID number in another school of the actor's county (audited)."""
    require(session, actor, Action.STATUS_CHANGE_SUBMIT)
    text = id_number.strip().upper()
    if len(text) != 18 or not text[:17].isdigit() or check_digit(text[:17]) != text[17]:
        raise TransferLookupError(f"请输入完整、正确的18位身份证号(“{id_number.strip()}”不是)")
    if actor.scope_kind is not ScopeKind.SCHOOL:
        raise TransferLookupError("转入申请由接收学校的学籍管理员提交")
    county = select(Township.county_id).join(School, School.township_id == Township.id)
    found = session.execute(
        select(Student, School.name, SchoolClass.code)
        .join(School, Student.school_id == School.id)
        .join(Township, School.township_id == Township.id)
        .outerjoin(SchoolClass, Student.class_id == SchoolClass.id)
        .where(
            Student.id_number == text,
            Student.merged_into_id.is_(None),  # type: ignore[union-attr]
            Township.county_id == county.where(School.id == actor.scope_id).scalar_subquery(),
        )
    ).first()
    entry = record(
        session,
        actor=actor,
        action=LOOKUP_ACTION,
        entity_type="student",
        entity_id=found[0].id if found else None,
        outcome="success" if found else "not_found",
        detail="转入查询(按完整身份证号)",
    )
    session.commit()
    if found is None:
        raise TransferLookupError("本县学籍中没有这个身份证号的学生;外县转入请按转入外地学生办理")
    student, school, code = found
    if student.school_id == actor.scope_id:
        raise TransferLookupError("该学生已在本校")
    year = school_year_on(session, today())
    grade = parse_class_code(code).grade(year) if code else None
    return TransferCandidate(
        student_id=student.id,
        name=student.name,
        sex=student.sex,
        school=school,
        grade=parse_class_code(code).grade_label(year) if code else "",
        status=StudentStatus(student.status).label,
        lookup_id=int(entry.id or 0),
        grade_number=grade,
    )


def found_by_lookup(session: Session, actor: Actor, student_id: int, lookup_id: int | None) -> bool:
    """Whether this actor found this student by the full ID number (the audited lookup above) within the last
    settings.transfer_lookup_minutes."""
    if lookup_id is None:
        return False
    entry = session.get(AuditLog, lookup_id)
    if entry is None or actor.user_id is None:
        return False
    at = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=UTC)  # SQLite keeps no zone: it is UTC
    fresh = now() - at <= timedelta(minutes=get_settings().transfer_lookup_minutes)
    return (
        entry.action == LOOKUP_ACTION
        and entry.outcome == "success"
        and entry.user_id == actor.user_id
        and entry.entity_type == "student"
        and entry.entity_id == str(student_id)
        and fresh
    )
