"""One child's cases on one page: who the child is, each case with its two responsible people, and the
timeline of status changes, visits, return attempts and every change to the cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from xueji.auth import Action, Actor
from xueji.clock import china_day, today
from xueji.models import (
    AppUser,
    Case,
    CaseEvent,
    Child,
    FamilyMember,
    HomeVisit,
    School,
    SchoolClass,
    StatusChange,
    Student,
    Township,
    Village,
)
from xueji.rules.cases import CaseCategory, CaseSource, CaseStatus, CloseReason, RiskLevel, age_on
from xueji.rules.class_code import parse_class_code
from xueji.rules.masking import mask_id_number, mask_phone
from xueji.rules.status_changes import ChangeKind, ChangeState
from xueji.rules.visits import ReturnOutcome, VisitKind, VisitMethod
from xueji.rules.vocab import Role, StudentStatus
from xueji.services.common.access import child_in_scope, sees_full_identifiers
from xueji.services.registry.students import guardian_field


@dataclass(frozen=True)
class ChildCard:
    child_id: int
    student_id: int | None
    name: str
    sex: str
    birth_date: date | None
    age: int | None
    id_number: str | None
    township: str
    village: str
    school: str
    class_name: str
    registry_status: str  # 无学籍 for a child with no registry record
    address: str
    guardian: str
    guardian_phone: str | None


@dataclass(frozen=True)
class CaseCard:
    id: int
    category: CaseCategory
    label: str
    risk: RiskLevel
    risk_reason: str
    status: CaseStatus
    source: str
    opened_on: date
    education_user_id: int | None
    education: str
    government: str
    closed: str  # the closing, in words ("" while open)


@dataclass(frozen=True)
class TimelineEntry:
    day: date
    at: datetime
    kind: str  # 个案 / 劝返复学 (the ladder's steps) / 家访 / 劝返 / 学籍异动
    what: str
    by: str


@dataclass(frozen=True)
class ChildDetail:
    child: ChildCard
    cases: list[CaseCard]
    timeline: list[TimelineEntry]


def user_names(session: Session, ids: set[int | None]) -> dict[int, str]:
    """The accounts' display names by id (None and unknown ids left out)."""
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    return dict(
        session.execute(select(AppUser.id, AppUser.display_name).where(col(AppUser.id).in_(wanted))).all()
    )


def child_card(session: Session, child: Child, full: bool) -> ChildCard:
    """Who the child is (the registry record if there is one, else the child's own); numbers masked unless full."""
    student = session.get(Student, child.student_id) if child.student_id else None
    school = (
        session.get(School, student.school_id if student else child.school_id)
        if (student or child.school_id)
        else None
    )
    township = session.get(Township, child.township_id)
    village_id = student.home_village_id if student else child.village_id
    village = session.get(Village, village_id) if village_id else None
    code = (
        session.scalar(select(SchoolClass.code).where(SchoolClass.id == student.class_id))
        if student
        else None
    )
    guardian, phone = child.guardian_name or "", child.guardian_phone
    if student is not None:
        found = session.execute(
            select(guardian_field(FamilyMember.name), guardian_field(FamilyMember.phone)).where(
                Student.id == student.id
            )
        ).first()
        if found:
            guardian, phone = found[0] or "", found[1]
    birth = student.birth_date if student else child.birth_date
    number = student.id_number if student else child.id_number
    return ChildCard(
        child_id=child.id,
        student_id=child.student_id,
        name=student.name if student else child.name,
        sex=(student.sex if student else child.sex) or "",
        birth_date=birth,
        age=age_on(birth, today()) if birth else None,
        id_number=number if full else mask_id_number(number),
        township=township.name if township else "",
        village=village.name if village else "",
        school=school.name if school else "",
        class_name=parse_class_code(code).name if code else "",
        registry_status=StudentStatus(student.status).label if student else "无学籍",
        address=(student.home_address if student else child.address) or "",
        guardian=guardian,
        guardian_phone=phone if full else mask_phone(phone),
    )


def _closed(case: Case) -> str:
    if case.status != CaseStatus.CLOSED.value or not case.close_reason:
        return ""
    where = f",接收学校:{case.receiving_school}" if case.receiving_school else ""
    return (
        f"{case.closed_on:%Y-%m-%d} {CloseReason(case.close_reason).label}{where}(依据:{case.close_evidence})"
    )


def child_detail(session: Session, *, actor: Actor, child_id: int) -> ChildDetail:
    """The child, their cases and the timeline, newest first. ID and phone numbers are shown in full to the
    roles that need them and to the child's government-line cadre; masked for everyone else."""
    child = child_in_scope(session, actor, child_id, Action.CASE_READ)
    cases = list(
        session.scalars(select(Case).where(Case.child_id == child_id).order_by(Case.opened_on, Case.id))
    )
    people = user_names(session, {c.education_user_id for c in cases} | {c.government_user_id for c in cases})
    full = sees_full_identifiers(actor) or (
        actor.role is Role.TOWNSHIP_OFFICIAL
        and any(c.government_user_id == actor.user_id and c.status != CaseStatus.CLOSED.value for c in cases)
    )
    cards = [
        CaseCard(
            id=c.id,
            category=CaseCategory(c.category),
            label=CaseCategory(c.category).label + (f"({c.disability_type})" if c.disability_type else ""),
            risk=RiskLevel(c.risk_level),
            risk_reason=c.risk_reason,
            status=CaseStatus(c.status),
            source=CaseSource(c.source).label,
            opened_on=c.opened_on,
            education_user_id=c.education_user_id,
            education=people.get(c.education_user_id, "") if c.education_user_id else "",
            government=(
                people.get(c.government_user_id, "")
                if c.government_user_id
                else " ".join(
                    filter(
                        None,
                        [c.government_name, c.government_phone if full else mask_phone(c.government_phone)],
                    )
                )
            ),
            closed=_closed(c),
        )
        for c in cases
    ]
    return ChildDetail(child_card(session, child, full), cards, _timeline(session, child, cases))


def _timeline(session: Session, child: Child, cases: list[Case]) -> list[TimelineEntry]:
    labels = {c.id: CaseCategory(c.category).label for c in cases}
    entries: list[TimelineEntry] = []
    events = list(session.scalars(select(CaseEvent).where(col(CaseEvent.case_id).in_(list(labels)))))
    visits = list(session.scalars(select(HomeVisit).where(HomeVisit.child_id == child.id)))
    changes = (
        list(session.scalars(select(StatusChange).where(StatusChange.student_id == child.student_id)))
        if child.student_id
        else []
    )
    people = user_names(
        session,
        {e.user_id for e in events} | {v.recorded_by for v in visits} | {c.submitted_by for c in changes},
    )
    for e in events:
        entries.append(
            TimelineEntry(
                china_day(e.at),
                e.at,
                "劝返复学" if e.kind == "ladder" else "个案",
                f"[{labels[e.case_id]}] {e.detail.removeprefix('劝返复学:')}",
                people.get(e.user_id or 0, "系统"),
            )
        )
    for v in visits:
        kind = VisitKind(v.kind)
        what = f"{VisitMethod(v.method).label}{kind.label}" + (
            f",结果:{ReturnOutcome(v.outcome).label}" if v.outcome else ""
        )
        what += f";见到:{v.met_with or '—'};孩子:{v.child_situation}"
        if v.family_situation:
            what += f";家庭:{v.family_situation}"
        what += f";家访后风险:{RiskLevel(v.risk_after).label}"
        if v.next_step:
            what += f";下一步:{v.next_step}"
        if v.next_visit_on:
            what += f";下次家访:{v.next_visit_on:%Y-%m-%d}"
        entries.append(TimelineEntry(v.visit_date, v.recorded_at, kind.label, what, v.visitors))
    for c in changes:
        state = ChangeState(c.state)
        what = (
            f"{ChangeKind(c.kind).label}申请({state.label}),生效日期 {c.effective_date:%Y-%m-%d}:{c.reason}"
        )
        entries.append(
            TimelineEntry(
                china_day(c.submitted_at),
                c.submitted_at,
                "学籍异动",
                what,
                people.get(c.submitted_by or 0, ""),
            )
        )
    return sorted(entries, key=lambda t: (t.day, t.at.isoformat()), reverse=True)


def responsible_choices(
    session: Session, *, actor: Actor, child_id: int
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Who may be named for the child: active teachers of the child's school (education line) and active
    township officials of the child's township (government line)."""
    child = child_in_scope(session, actor, child_id, Action.CASE_MANAGE)

    def active(role: Role, where: ColumnElement[bool]) -> list[tuple[int, str]]:
        query = select(AppUser.id, AppUser.display_name).where(
            AppUser.role == role.value, where, col(AppUser.is_active).is_(True)
        )
        return [(i, n) for i, n in session.execute(query.order_by(AppUser.display_name))]

    return (
        active(Role.TEACHER, AppUser.school_id == child.school_id),
        active(Role.TOWNSHIP_OFFICIAL, AppUser.township_id == child.township_id),
    )
