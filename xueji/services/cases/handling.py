"""个案 by hand: opened for a registry student or a child with no record, the two responsible people (双线包保),
status and risk, closed with a reason (销号) and reopened. Every write is audited and leaves an event on the
case's timeline. (The cases the system opens and closes itself: services.cases.opening.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import literal, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from xueji.audit import record
from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.config import get_settings
from xueji.db import unit_of_work
from xueji.locks import write_lock
from xueji.models import (
    AppUser,
    Case,
    Child,
    School,
    Student,
    Township,
    Village,
)
from xueji.rules.cases import (
    CaseCategory,
    CaseSource,
    CaseStatus,
    Closing,
    RiskLevel,
    age_on,
    closing_problems,
    reopen_problem,
    status_problem,
)
from xueji.rules.registry_record import DISABILITY_TYPES, phone_problem, resident_id_problem
from xueji.rules.vocab import Role
from xueji.services.cases.opening import (
    add_event,
    audit_case,
    default_education_user,
    ensure_children,
    open_categories,
    set_closed,
)
from xueji.services.common import lock_keys
from xueji.services.common.access import (
    child_in_scope,
    require,
    school_condition,
    student_in_scope,
    township_condition,
)
from xueji.services.common.refusals import audit_refusal


class CaseError(ValueError):
    """The case cannot be changed as asked; the message says why, in Chinese."""


@dataclass(frozen=True)
class ChildIn:
    """A child with no registry record (found out of school, not yet enrolled): what is known."""

    name: str
    township_id: int
    school_id: int  # the school that follows the child (education line), normally the nearest one
    sex: str | None = None
    birth_date: date | None = None
    id_number: str = ""
    village_id: int | None = None
    address: str = ""
    guardian_name: str = ""
    guardian_phone: str = ""


# ---- opening by hand ---------------------------------------------------------------------------------


def _child_of_student(session: Session, actor: Actor, student_id: int) -> Child:
    student_in_scope(session, actor, student_id, Action.CASE_MANAGE)
    ensure_children(session, select(literal(student_id)))
    child = session.scalar(select(Child).where(Child.student_id == student_id))
    assert child is not None
    return child


def _new_child(session: Session, actor: Actor, given: ChildIn) -> Child:
    problems = []
    name = given.name.strip()
    if not name or " " in name:
        problems.append("姓名不能为空,也不能含空格")
    number = None
    if given.id_number.strip():
        number, problem = resident_id_problem(given.id_number)
        if problem:
            problems.append(f"身份证号:{problem}")
        elif session.scalar(select(Student.id).where(Student.id_number == number)):
            problems.append("该身份证号已有学籍:请在学生档案中为其建档,不要另建儿童")
        elif session.scalar(select(Child.id).where(Child.id_number == number)):
            problems.append("该身份证号的儿童已在个案中:请打开该儿童,不要重复建档")
    phone = None
    if given.guardian_phone.strip():
        phone, problem = phone_problem(given.guardian_phone)
        if problem:
            problems.append(f"监护人电话:{problem}")
    school = session.scalar(
        select(School).where(
            School.id == given.school_id, school_condition(actor), col(School.closed_on).is_(None)
        )
    )
    if school is None:
        problems.append("请选择您管辖范围内在用的负责跟进的学校")
    if problems:
        raise CaseError(";".join(problems))
    child = Child(
        name=name,
        sex=given.sex,
        birth_date=given.birth_date,
        id_number=number,
        township_id=given.township_id,
        village_id=given.village_id,
        school_id=given.school_id,
        address=given.address.strip() or None,
        guardian_name=given.guardian_name.strip() or None,
        guardian_phone=phone,
    )
    session.add(child)
    session.flush()
    return child


@unit_of_work
def open_case(
    session: Session,
    *,
    actor: Actor,
    category: CaseCategory,
    risk: RiskLevel,
    risk_reason: str,
    student_id: int | None = None,
    child_id: int | None = None,
    new_child: ChildIn | None = None,
    disability_type: str = "",
) -> Case:
    """Open a case by hand for a registry student, a child already followed, or a child with no record."""
    require(session, actor, Action.CASE_MANAGE)
    # The person's write lock (one open case of a category, their Child row made once); a child with no record
    # yet: their ID number's (查重 of the new child), else their township's.
    if student_id is not None or child_id is not None:
        write_lock(session, lock_keys.person(session, child_id=child_id, student_id=student_id))
    elif new_child is not None:
        number = new_child.id_number.strip().upper()
        write_lock(session, f"id_number:{number}" if number else f"township:{new_child.township_id}:children")
    if student_id is not None:
        child = _child_of_student(session, actor, student_id)
    elif child_id is not None:
        child = child_in_scope(session, actor, child_id, Action.CASE_MANAGE)
    elif new_child is not None:
        child = _new_child(session, actor, new_child)
    else:
        raise CaseError("请选择学生或填写儿童信息")
    assert child.id is not None
    low, high = get_settings().school_age
    if child.birth_date is not None and not low <= age_on(child.birth_date, today()) <= high:
        raise CaseError(
            f"{child.name} 现年 {age_on(child.birth_date, today())} 周岁,不是义务教育适龄儿童({low}–{high}周岁)"
        )
    if category in open_categories(session, child.id):
        raise CaseError(f"{child.name} 已有在办的“{category.label}”个案,请在原个案中跟进")
    if not risk_reason.strip():
        raise CaseError("请填写风险等级的依据")
    disability = disability_type.strip().removesuffix("残疾") or None
    if category is CaseCategory.DISABLED and disability not in DISABILITY_TYPES:
        raise CaseError(f"残疾个案须选择残疾类型:{'、'.join(DISABILITY_TYPES)}")
    case = Case(
        child_id=child.id,
        category=category.value,
        disability_type=disability if category is CaseCategory.DISABLED else None,
        risk_level=risk.value,
        risk_reason=risk_reason.strip()[:200],
        source=CaseSource.MANUAL.value,
        opened_on=today(),
        opened_by=actor.user_id,
    )
    if child.student_id is not None:
        case.education_user_id = session.scalar(
            select(default_education_user()).where(Student.id == child.student_id)
        )
    session.add(case)
    session.flush()
    assert case.id is not None
    add_event(
        session,
        case.id,
        actor,
        "opened",
        f"人工建档:{category.label},风险{risk.label}({risk_reason.strip()})",
    )
    record(
        session,
        actor=actor,
        action="create",
        entity_type="case",
        entity_id=case.id,
        after={"child_id": child.id, "category": category.value, "risk_level": risk.value},
        detail=f"{child.name}:{category.label}",
    )
    if category.out_of_school:
        from xueji.services.cases.ladder_flow import start_in  # the ladder builds on the case services

        start_in(session, actor=actor, case=case)
    session.commit()
    session.refresh(case)
    return case


# ---- changing a case ---------------------------------------------------------------------------------


def _case(session: Session, actor: Actor, case_id: int, action: Action) -> tuple[Case, Child]:
    require(session, actor, action)
    write_lock(session, lock_keys.person_of_case(session, case_id))  # the person the case is about
    case = session.get(Case, case_id)
    if case is None:
        raise CaseError("没有找到该个案")
    return case, child_in_scope(session, actor, case.child_id, action)


@unit_of_work
def set_status(session: Session, *, actor: Actor, case_id: int, status: CaseStatus, note: str = "") -> None:
    """Move a case between 新建, 跟进中 and 已返校/稳定 (closing has its own step)."""
    case, _ = _case(session, actor, case_id, Action.CASE_MANAGE)
    current = CaseStatus(case.status)
    problem = status_problem(current, status)
    if problem:
        raise CaseError(problem)
    if status is CaseStatus.STABLE and current is not status and CaseCategory(case.category).out_of_school:
        message = "疑似辍学、辍学个案须在“劝返复学”中登记复学(劝返复学 → 登记复学)后才转为已返校/稳定"
        audit_refusal(session, actor, action="update", entity_type="case", entity_id=case_id, message=message)
        raise CaseError(message)
    if status is current:
        session.rollback()
        return
    case.status = status.value
    detail = f"状态:{current.label}→{status.label}" + (f"({note.strip()})" if note.strip() else "")
    add_event(session, case_id, actor, "status", detail)
    audit_case(session, actor, case, "update", {"status": current.value}, {"status": status.value}, detail)
    session.commit()


@unit_of_work
def set_risk(session: Session, *, actor: Actor, case_id: int, risk: RiskLevel, reason: str) -> None:
    """Change a case's risk level, with the reason."""
    case, _ = _case(session, actor, case_id, Action.CASE_MANAGE)
    if not reason.strip():
        raise CaseError("请填写调整风险等级的原因")
    before = case.risk_level
    case.risk_level, case.risk_reason = risk.value, reason.strip()[:200]
    detail = f"风险:{RiskLevel(before).label}→{risk.label}({reason.strip()})"
    add_event(session, case_id, actor, "risk", detail)
    audit_case(session, actor, case, "update", {"risk_level": before}, {"risk_level": risk.value}, detail)
    session.commit()


@dataclass(frozen=True)
class Responsibility:
    """双线包保: the education-line teacher, and the government-line cadre (an account, or a name and phone)."""

    education_user_id: int | None
    government_user_id: int | None = None
    government_name: str = ""
    government_phone: str = ""


def _check_responsibility(session: Session, child: Child, given: Responsibility) -> tuple[str | None, str]:
    """Check the people named; return the government contact's phone (normalised) and a description."""
    problems = []
    parts = []
    if given.education_user_id is None:
        problems.append("请选择教育线包保教师")
    else:
        teacher = session.get(AppUser, given.education_user_id)
        if (
            teacher is None
            or not teacher.is_active
            or teacher.role != Role.TEACHER
            or teacher.school_id != child.school_id
        ):
            problems.append("教育线包保人须是该儿童所在(跟进)学校的在用教师账号")
        else:
            parts.append(f"教育线 {teacher.display_name}")
    phone = None
    if given.government_user_id is not None:
        cadre = session.get(AppUser, given.government_user_id)
        if (
            cadre is None
            or not cadre.is_active
            or cadre.role != Role.TOWNSHIP_OFFICIAL
            or cadre.township_id != child.township_id
        ):
            problems.append("政府线包保人须是该儿童所在乡镇的在用乡镇干部账号")
        else:
            parts.append(f"政府线 {cadre.display_name}")
    elif given.government_name.strip():
        phone, problem = phone_problem(given.government_phone)
        if problem or not phone:
            problems.append(f"政府线联系人电话:{problem or '请填写电话'}")
        else:
            parts.append(f"政府线 {given.government_name.strip()}")
    else:
        problems.append("请选择政府线包保干部账号,或填写村(社区)干部姓名和电话")
    if problems:
        raise CaseError(";".join(problems))
    return phone, ",".join(parts)


@unit_of_work
def assign_responsibility(
    session: Session, *, actor: Actor, case_id: int, people: Responsibility, all_open_cases: bool = True
) -> int:
    """Name both responsible people for a case (and by default for every open case of the same child)."""
    case, child = _case(session, actor, case_id, Action.CASE_MANAGE)
    if case.status == CaseStatus.CLOSED.value:
        raise CaseError("已销号的个案不能再指定包保人")
    phone, described = _check_responsibility(session, child, people)
    cases = (
        list(
            session.scalars(
                select(Case).where(Case.child_id == child.id, Case.status != CaseStatus.CLOSED.value)
            )
        )
        if all_open_cases
        else [case]
    )
    for each in cases:
        each.education_user_id = people.education_user_id
        each.government_user_id = people.government_user_id
        named = people.government_user_id is None
        each.government_name = people.government_name.strip() if named else None
        each.government_phone = phone if named else None
        add_event(session, each.id, actor, "responsibility", f"包保人:{described}")
    record(
        session,
        actor=actor,
        action="assign",
        entity_type="case",
        entity_id=case_id,
        after={"cases": [c.id for c in cases], "education_user_id": people.education_user_id},
        detail=f"{child.name}:{described}",
    )
    session.commit()
    return len(cases)


@unit_of_work
def close_case(session: Session, *, actor: Actor, case_id: int, closing: Closing) -> None:
    """销号: close a case with a reason from the fixed list and the evidence noted. An out-of-school case is
    closed only through the ladder's 销号 request and its approval (services.cases.ladder)."""
    case, _ = _case(session, actor, case_id, Action.CASE_MANAGE)
    if case.status == CaseStatus.CLOSED.value:
        raise CaseError("该个案已销号")
    if CaseCategory(case.category).out_of_school:
        message = "疑似辍学、辍学个案的销号须经审批:请在“劝返复学”中申请销号"
        audit_refusal(session, actor, action="close", entity_type="case", entity_id=case_id, message=message)
        raise CaseError(message)
    problems = closing_problems(CaseCategory(case.category), closing, opened_on=case.opened_on, today=today())
    if problems:
        raise CaseError(";".join(problems))
    set_closed(session, actor, case, closing)
    session.commit()


@unit_of_work
def reopen_case(session: Session, *, actor: Actor, case_id: int, reason: str) -> None:
    """Reopen a closed case (the child is at risk again): back in the open ledger, history kept."""
    case, child = _case(session, actor, case_id, Action.CASE_MANAGE)
    if case.status != CaseStatus.CLOSED.value:
        raise CaseError("只有已销号的个案可以重新开启")
    problem = reopen_problem(CaseCategory(case.category), open_categories(session, child.id), reason)
    if problem:
        raise CaseError(problem)
    before = {"status": case.status, "close_reason": case.close_reason}
    case.status = CaseStatus.FOLLOWING.value
    case.closed_on = case.close_reason = case.close_evidence = case.receiving_school = case.closed_by = None
    detail = f"重新开启:{reason.strip()}"
    add_event(session, case_id, actor, "reopened", detail)
    audit_case(session, actor, case, "reopen", before, {"status": case.status}, detail)
    if CaseCategory(case.category).out_of_school:
        from xueji.services.cases.ladder_flow import start_in  # the ladder builds on the case services

        start_in(session, actor=actor, case=case)
    try:
        session.commit()
    except IntegrityError:  # another open case of the category was opened meanwhile: the unique index says no
        session.rollback()
        raise CaseError(
            f"该儿童已有一个在办的“{CaseCategory(case.category).label}”个案,不能再开启一个"
        ) from None


def places(session: Session, *, actor: Actor) -> list[tuple[int, str, list[tuple[int, str]]]]:
    """The townships in scope with their villages, for the form of a child with no registry record."""
    require(session, actor, Action.CASE_MANAGE)
    townships = session.execute(
        select(Township.id, Township.name)
        .where(township_condition(actor), col(Township.closed_on).is_(None))
        .order_by(Township.code)
    ).all()
    villages: dict[int, list[tuple[int, str]]] = {}
    for vid, tid, name in session.execute(
        select(Village.id, Village.township_id, Village.name)
        .where(col(Village.township_id).in_([t for t, _ in townships]), col(Village.closed_on).is_(None))
        .order_by(Village.code)
    ):
        villages.setdefault(tid, []).append((vid, name))
    return [(tid, name, villages.get(tid, [])) for tid, name in townships]
