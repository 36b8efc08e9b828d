"""Cases the system opens and closes: from the registry's flags (on import and correction), from lost students,
and as approved status changes require (a dropout opens one, a return, death or transfer out closes them).
Set-based, so an import of a whole county opens its cases in a handful of statements. Also the small pieces
every case write shares: the timeline event, the audit entry, the closing."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Select, and_, exists, func, insert, literal, null, select
from sqlmodel import Session, col

from xueji.audit import record
from xueji.auth import Action, Actor
from xueji.clock import now, today
from xueji.db import unit_of_work
from xueji.locks import write_lock
from xueji.models import (
    Case,
    CaseEvent,
    Child,
    School,
    SchoolClass,
    StatusChange,
    Student,
    TeacherAssignment,
    Township,
    Village,
)
from xueji.rules.cases import (
    FLAG_CATEGORIES,
    CaseCategory,
    CaseSource,
    CaseStatus,
    CloseReason,
    Closing,
    age_on,
)
from xueji.rules.status_changes import ChangeKind
from xueji.rules.vocab import SchoolKind, Stage, StudentStatus
from xueji.services.common import lock_keys
from xueji.services.common.access import require

# The registry flag behind each automatically opened category.
_FLAG_COLUMNS = {
    CaseCategory.LEFT_BEHIND: Student.left_behind,
    CaseCategory.MIGRANT: Student.migrant,
    CaseCategory.DISABLED: Student.disabled,
    CaseCategory.HARDSHIP: Student.needs_aid,
    CaseCategory.ORPHAN: Student.orphan,
}
# A record whose child may still need following: not gone from the registry.
_FOLLOWED = (StudentStatus.ENROLLED.value, StudentStatus.SUSPENDED.value, StudentStatus.DROPPED_OUT.value)


def add_event(session: Session, case_id: int | None, actor: Actor, kind: str, detail: str) -> None:
    session.add(CaseEvent(case_id=case_id, user_id=actor.user_id, kind=kind, detail=detail[:500]))


def open_categories(session: Session, child_id: int) -> set[CaseCategory]:
    return {
        CaseCategory(c)
        for c in session.scalars(
            select(Case.category).where(Case.child_id == child_id, Case.status != CaseStatus.CLOSED.value)
        )
    }


# ---- the child behind a case -------------------------------------------------------------------------


def _child_values(student_ids: Select) -> Select:
    """Child rows for these students: identity from the registry; the township where they live if known,
    else their school's."""
    return (
        select(
            Student.id,
            Student.name,
            Student.sex,
            Student.birth_date,
            Student.id_number,
            func.coalesce(Village.township_id, School.township_id),
            Student.home_village_id,
            Student.school_id,
            Student.home_address,
            literal(now()),
        )
        .join(School, Student.school_id == School.id)
        .outerjoin(Village, Student.home_village_id == Village.id)
        .where(
            col(Student.id).in_(student_ids),
            ~exists(select(Child.id).where(Child.student_id == Student.id)),
        )
    )


def ensure_children(session: Session, student_ids: Select) -> None:
    """Give each of these students a Child row if they have none yet (one statement)."""
    session.execute(
        insert(Child).from_select(
            [
                "student_id",
                "name",
                "sex",
                "birth_date",
                "id_number",
                "township_id",
                "village_id",
                "school_id",
                "address",
                "created_at",
            ],
            _child_values(student_ids),
        )
    )


@dataclass(frozen=True)
class PersonFacts:
    """What a list or a household told about a child with no registry record, for the Child a case hangs on."""

    name: str
    township_id: int
    birth_date: date | None = None
    sex: str | None = None
    id_number: str | None = None
    village_id: int | None = None
    address: str | None = None
    guardian_name: str | None = None
    guardian_phone: str | None = None


def follow_school(session: Session, township_id: int, born: date | None, reference: date) -> int | None:
    """The school that follows a child with no record: one of the township's schools teaching the child's
    stage (primary below 12, else junior; primary when the birth date is unknown), else any of its schools."""
    stage = Stage.PRIMARY if born is None or age_on(born, reference) < 12 else Stage.JUNIOR
    kinds = [k.value for k in SchoolKind if stage in k.stages]
    schools = session.execute(
        select(School.id, col(School.kind).in_(kinds))
        .where(School.township_id == township_id, col(School.closed_on).is_(None))
        .order_by(School.code)
    ).all()
    return next((sid for sid, fits in schools if fits), schools[0][0] if schools else None)


def child_for_person(session: Session, person: PersonFacts, *, reference: date) -> Child:
    """The Child a case of this person hangs on: the one already known (by ID number; or the registry record
    of that ID number at a school of the person's county; or, with no ID number, by name, birth date and village among children with no record),
    else a new one with what is known and the follow school (follow_school on the reference day)."""
    condition: ColumnElement[bool]
    if person.id_number:
        condition = col(Child.id_number) == person.id_number
        county = select(Township.county_id).where(Township.id == person.township_id).scalar_subquery()
        schools = (
            select(School.id)
            .join(Township, School.township_id == Township.id)
            .where(Township.county_id == county)
        )
        student = session.scalar(
            select(Student.id).where(
                Student.id_number == person.id_number,
                col(Student.merged_into_id).is_(None),
                col(Student.school_id).in_(schools),
            )
        )
        if student is not None:
            ensure_children(session, select(literal(student)))
            condition = Child.student_id == student
    else:
        condition = and_(
            Child.name == person.name,
            Child.birth_date == person.birth_date,
            Child.village_id == person.village_id,
            col(Child.student_id).is_(None),
        )
    child = session.scalar(select(Child).where(condition).order_by(Child.id).limit(1))
    if child is not None:
        return child
    child = Child(
        name=person.name,
        sex=person.sex,
        birth_date=person.birth_date,
        id_number=person.id_number,
        township_id=person.township_id,
        village_id=person.village_id,
        school_id=follow_school(session, person.township_id, person.birth_date, reference),
        address=person.address or None,
        guardian_name=person.guardian_name or None,
        guardian_phone=person.guardian_phone or None,
    )
    session.add(child)
    session.flush()
    return child


def open_child_case(
    session: Session,
    actor: Actor,
    child: Child,
    category: CaseCategory,
    source: CaseSource,
    reason: str,
    *,
    disability_type: str | None = None,
) -> tuple[Case, bool]:
    """The child's open case of this category, opening it (with its timeline event) when there is none; the
    education line defaults as for every case opened by the system; a 残疾 case takes the disability type given
    (the 残联 list's 类别). Returns (case, opened now); the caller audits."""
    case = session.scalar(
        select(Case).where(
            Case.child_id == child.id, Case.category == category.value, Case.status != CaseStatus.CLOSED.value
        )
    )
    if case is not None:
        return case, False
    assert child.id is not None
    case = Case(
        child_id=child.id,
        category=category.value,
        disability_type=(disability_type or "")[:20] or None if category is CaseCategory.DISABLED else None,
        risk_level=category.default_risk.value,
        risk_reason=reason[:200],
        source=source.value,
        opened_on=today(),
        opened_by=actor.user_id,
    )
    if child.student_id is not None:
        case.education_user_id = session.scalar(
            select(default_education_user()).where(Student.id == child.student_id)
        )
    session.add(case)
    session.flush()
    add_event(session, case.id, actor, "opened", f"{source.label}自动建档:{reason}")
    if category.out_of_school:
        from xueji.services.cases.ladder_flow import start_in  # the ladder builds on this module

        start_in(session, actor=actor, case=case)
    return case, True


def default_education_user() -> object:
    """The teacher who answers for the student (教师包学生): assigned one by one, else the head teacher,
    else a teacher assigned to the class. A correlated expression over Student."""
    one_by_one = select(func.min(TeacherAssignment.user_id)).where(TeacherAssignment.student_id == Student.id)
    head = select(SchoolClass.head_teacher_id).where(SchoolClass.id == Student.class_id)
    by_class = select(func.min(TeacherAssignment.user_id)).where(
        TeacherAssignment.class_id == Student.class_id
    )
    return func.coalesce(
        one_by_one.correlate(Student).scalar_subquery(),
        head.correlate(Student).scalar_subquery(),
        by_class.correlate(Student).scalar_subquery(),
    )


def open_for_students(
    session: Session,
    actor: Actor,
    category: CaseCategory,
    student_ids: Select,
    source: CaseSource,
    reason: str,
) -> int:
    """Open a case of this category for each of these students with none open; return how many (set-based,
    so an import of a whole county stays a handful of statements)."""
    ensure_children(session, student_ids)
    before = session.scalar(select(func.coalesce(func.max(Case.id), 0)))
    disability = Student.disability_type if category is CaseCategory.DISABLED else null()
    rows = (
        select(
            Child.id,
            literal(category.value),
            disability,
            literal(category.default_risk.value),
            literal(reason[:200]),
            literal(CaseStatus.OPEN.value),
            literal(source.value),
            literal(today()),
            literal(actor.user_id),
            default_education_user(),
        )
        .join(Student, Child.student_id == Student.id)
        .where(
            col(Child.student_id).in_(student_ids),
            ~exists(
                select(Case.id).where(
                    Case.child_id == Child.id,
                    Case.category == category.value,
                    Case.status != CaseStatus.CLOSED.value,
                )
            ),
        )
    )
    columns = [
        "child_id",
        "category",
        "disability_type",
        "risk_level",
        "risk_reason",
        "status",
        "source",
        "opened_on",
        "opened_by",
        "education_user_id",
    ]
    session.execute(insert(Case).from_select(columns, rows))
    # counted, not taken from rowcount: an ORM-enabled INSERT … SELECT reports -1 on psycopg
    opened = session.scalar(select(func.count()).select_from(Case).where(col(Case.id) > before)) or 0
    if opened:
        session.execute(
            insert(CaseEvent).from_select(
                ["case_id", "at", "user_id", "kind", "detail"],
                select(
                    Case.id,
                    literal(now()),
                    literal(actor.user_id),
                    literal("opened"),
                    literal(f"{source.label}自动建档:{category.label}"),
                ).where(col(Case.id) > before),
            )
        )
        if category.out_of_school:
            from xueji.services.cases.ladder_flow import start_many  # the ladder builds on this module

            start_many(session, actor=actor, case_ids=select(Case.id).where(col(Case.id) > before))
    return opened


def audit_opened(session: Session, actor: Actor, source: CaseSource, opened: Counter[CaseCategory]) -> None:
    opened = +opened  # only the categories that opened something
    if opened:
        counts = ",".join(f"{c.label} {n}" for c, n in opened.items())
        record(
            session,
            actor=actor,
            action="auto_open",
            entity_type="case",
            detail=f"{source.label}自动建档:{counts}",
        )


def open_registry_cases(session: Session, *, actor: Actor, students: Select) -> Counter[CaseCategory]:
    """Open the cases the registry flags call for (留守, 随迁, 残疾, 家庭经济困难, 孤儿) among these students (a
    select of ids), never a second open case of a category; audited; the caller commits."""
    opened: Counter[CaseCategory] = Counter()
    for category in FLAG_CATEGORIES:
        flagged = select(Student.id).where(
            col(Student.id).in_(students),
            col(_FLAG_COLUMNS[category]).is_(True),
            col(Student.status).in_(_FOLLOWED),
            col(Student.merged_into_id).is_(None),
            col(Student.archived_at).is_(None),
        )
        count = open_for_students(session, actor, category, flagged, CaseSource.REGISTRY, "学籍标记")
        if count:
            opened[category] = count
    audit_opened(session, actor, CaseSource.REGISTRY, opened)
    return opened


@unit_of_work
def open_lost_cases(session: Session, *, actor: Actor) -> int:
    """Open a suspected-dropout case (疑似辍学) for every lost student (流生) in scope without one; committed."""
    from xueji.services.registry.term_reports import (
        lost_student_ids,  # term reports read cases' counterpart, not vice versa
    )

    require(session, actor, Action.CASE_MANAGE)
    lost = lost_student_ids(session, actor=actor)
    if lost is None:
        return 0
    write_lock(
        session, lock_keys.county(session, actor, "lost_cases")
    )  # two passes never open one case twice
    reason = "开学一周后未报到,无转学、休学手续"
    count = open_for_students(session, actor, CaseCategory.SUSPECTED_DROPOUT, lost, CaseSource.LOST, reason)
    audit_opened(session, actor, CaseSource.LOST, Counter({CaseCategory.SUSPECTED_DROPOUT: count}))
    session.commit()
    return count


# ---- what an approved status change does to the cases -------------------------------------------------


def _close_open(
    session: Session,
    actor: Actor,
    child_id: int,
    categories: tuple[CaseCategory, ...] | None,
    reason: CloseReason,
    evidence: str,
    receiving_school: str = "",
) -> None:
    query = select(Case).where(Case.child_id == child_id, Case.status != CaseStatus.CLOSED.value)
    if categories is not None:
        query = query.where(col(Case.category).in_([c.value for c in categories]))
    for case in session.scalars(query):
        set_closed(session, actor, case, Closing(reason, evidence, receiving_school, today()))


def apply_status_change(session: Session, *, actor: Actor, change: StatusChange, student: Student) -> None:
    """Bring the child's cases in line with an approved status change (the caller commits): a dropout opens a
    dropout case (a suspected one moves to the dropout ledger, its return ladder with it); a return records the
    return on the out-of-school cases' ladders (they stay open, 已返校/稳定, for the follow-ups until 销号); a death
    or a transfer out of the system closes every open case; a change that moved the record to another school
    (转入, 升学, 外县转入, a return there) hands the cases to it, whose teachers must take over the education
    line."""
    kind = ChangeKind(change.kind)
    evidence = f"{kind.label}申请 #{change.id} 已批准"
    ids = select(literal(student.id))
    if kind is ChangeKind.DROPOUT:
        reason = f"辍学异动已批准:{change.reason}"
        count = open_for_students(session, actor, CaseCategory.DROPOUT, ids, CaseSource.DROPOUT, reason)
        audit_opened(session, actor, CaseSource.DROPOUT, Counter({CaseCategory.DROPOUT: count}))
    child = session.scalar(select(Child).where(Child.student_id == student.id))
    if child is None or child.id is None:
        return
    from xueji.services.cases import ladder_flow  # the ladder builds on this module

    if kind is ChangeKind.DROPOUT:
        dropout = session.scalar(
            select(Case.id).where(
                Case.child_id == child.id,
                Case.category == CaseCategory.DROPOUT.value,
                Case.status != CaseStatus.CLOSED.value,
            )
        )
        for old in session.scalars(
            select(Case.id).where(
                Case.child_id == child.id,
                Case.category == CaseCategory.SUSPECTED_DROPOUT.value,
                Case.status != CaseStatus.CLOSED.value,
            )
        ).all():
            if dropout is not None:
                ladder_flow.carry_ladder(session, old_case_id=old, new_case_id=dropout, actor=actor)
        _close_open(
            session,
            actor,
            child.id,
            (CaseCategory.SUSPECTED_DROPOUT,),
            CloseReason.CONFIRMED_DROPOUT,
            evidence,
        )
        if dropout is not None:  # a child who had returned is out again: a new round, not a follow-up
            dropout_case = session.get(Case, dropout)
            assert dropout_case is not None
            ladder_flow.dropped_again(session, actor=actor, case=dropout_case)
    elif kind in (ChangeKind.RETURN, ChangeKind.RESUMPTION):
        # back in school: the case stays open (已返校/稳定) for the follow-ups, until its 销号 is approved
        on = min(change.effective_date, today())
        out = [CaseCategory.SUSPECTED_DROPOUT.value, CaseCategory.DROPOUT.value]
        for case in session.scalars(
            select(Case).where(
                Case.child_id == child.id, col(Case.category).in_(out), Case.status != CaseStatus.CLOSED.value
            )
        ).all():
            ladder_flow.returned_in(session, actor=actor, case=case, on=on, status_change_id=change.id)
    elif kind is ChangeKind.DEATH:
        _close_open(session, actor, child.id, None, CloseReason.DEATH, evidence)
    elif kind is ChangeKind.TRANSFER_OUT:
        where = change.destination or "外地学校"
        _close_open(session, actor, child.id, None, CloseReason.ENROLLED_ELSEWHERE, evidence, where)
    if change.to_school_id is not None and child.school_id != student.school_id:
        # the record moved (转入, 升学, a return at another school): the cases go with it
        child.school_id = student.school_id
        for case in session.scalars(
            select(Case).where(Case.child_id == child.id, Case.status != CaseStatus.CLOSED.value)
        ):
            case.education_user_id = None
            add_event(session, case.id, actor, "responsibility", "转入新学校:教育线包保人待新学校指定")


def audit_case(
    session: Session, actor: Actor, case: Case, action: str, before: dict, after: dict, detail: str
) -> None:
    record(
        session,
        actor=actor,
        action=action,
        entity_type="case",
        entity_id=case.id,
        before=before,
        after=after,
        detail=detail,
    )


def set_closed(session: Session, actor: Actor, case: Case, closing: Closing) -> None:
    case.status = CaseStatus.CLOSED.value
    case.closed_on = closing.on or today()
    case.close_reason = closing.reason.value
    case.close_evidence = closing.evidence.strip()[:300]
    case.receiving_school = closing.receiving_school.strip()[:100] or None
    case.closed_by = actor.user_id
    if CaseCategory(case.category).out_of_school:
        from xueji.services.cases.ladder_flow import end_open  # the ladder builds on this module

        end_open(session, actor=actor, case=case, reason=f"个案销号:{closing.reason.label}")
    where = f",接收学校:{closing.receiving_school.strip()}" if closing.receiving_school.strip() else ""
    detail = f"销号:{closing.reason.label}{where}(依据:{closing.evidence.strip()})"
    add_event(session, case.id, actor, "closed", detail)
    audit_case(
        session, actor, case, "close", {"status": "open"}, {"close_reason": closing.reason.value}, detail
    )
