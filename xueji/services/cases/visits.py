"""家访 and 劝返: logging a visit (its risk and outcome carried to the child's open cases), each teacher's
visits due and overdue under the visit policy, and the overdue counts per teacher for schools and townships."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Select, and_, case, distinct, func, literal, select
from sqlmodel import Session, col

from xueji.audit import record
from xueji.auth import Action, Actor
from xueji.clock import china_time, today
from xueji.config import get_settings
from xueji.db import unit_of_work
from xueji.locks import write_lock
from xueji.models import AppUser, Case, CaseEvent, Child, HomeVisit, School, SchoolClass, Student, Township
from xueji.rules.cases import CaseCategory, CaseStatus, RiskLevel
from xueji.rules.child_label import child_label, class_short
from xueji.rules.class_code import parse_class_code
from xueji.rules.terms import school_year_bounds
from xueji.rules.visits import (
    ReturnOutcome,
    VisitFacts,
    VisitKind,
    VisitMethod,
    VisitState,
    visit_due,
    visit_problems,
    visit_state,
)
from xueji.rules.vocab import StudentStatus
from xueji.services.cases import ladder_flow
from xueji.services.cases.opening import ensure_children
from xueji.services.common import lock_keys
from xueji.services.common.access import (
    child_condition,
    child_in_scope,
    require,
    sees_full_identifiers,
    student_in_scope,
)
from xueji.services.common.calendar import school_year_on
from xueji.services.common.refusals import audit_refusal
from xueji.sql import in_ids, visit_base, visit_deadline_passed


class VisitError(ValueError):
    """The visit cannot be saved; problems lists (field, reason) for the form."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(";".join(f"{name}:{reason}" for name, reason in problems))
        self.problems = problems


class SameDayVisit(VisitError):
    """The actor already logged a visit for this child on that day: the form asks before saving another."""

    def __init__(self, question: str, known: int) -> None:
        super().__init__([("家访日期", question)])
        self.question = question
        self.known = known  # the actor's visits for the child that day, to pass back when saving anyway


def earliest_visit_day(session: Session) -> date:
    """Visits may be logged back to the start of the previous school year (paper records caught up)."""
    return school_year_bounds(school_year_on(session, today()) - 1)[0]


def child_for_visit(
    session: Session, *, actor: Actor, child_id: int | None = None, student_id: int | None = None
) -> Child:
    """The child a visit is about, checked against the actor's scope: a followed child, or one of the actor's
    students (given a Child row on first visit)."""
    if child_id is not None:
        return child_in_scope(session, actor, child_id, Action.VISIT_LOG)
    if student_id is None:
        raise VisitError([("孩子", "请先选择孩子")])
    student_in_scope(session, actor, student_id, Action.VISIT_LOG)
    ensure_children(session, select(literal(student_id)))
    child = session.scalar(select(Child).where(Child.student_id == student_id))
    assert child is not None
    return child


@dataclass(frozen=True)
class VisitTarget:
    """Who a visit form is for, and what it starts filled with."""

    child_id: int | None
    student_id: int | None
    name: str
    visitor: str  # the person logging, as the first visitor
    risk: RiskLevel  # the highest risk among the child's open cases (low when none)
    next_visit_on: date  # today + the shortest interval among the open cases' categories
    categories: list[str]
    label: str = ""  # the name with class and birth month (rules.child_label), for the form's heading


def visit_target(
    session: Session, *, actor: Actor, child_id: int | None = None, student_id: int | None = None
) -> VisitTarget:
    """Check the actor may log a visit for this child, and prefill the form."""
    require(session, actor, Action.VISIT_LOG)
    if child_id is None and student_id is not None:
        student_in_scope(session, actor, student_id, Action.VISIT_LOG)
        child_id = session.scalar(select(Child.id).where(Child.student_id == student_id))
    else:
        child = child_in_scope(session, actor, child_id or 0, Action.VISIT_LOG)
        student_id = child.student_id
    name, label = _labelled(session, actor, child_id=child_id, student_id=student_id)
    open_cases = (
        list(
            session.scalars(
                select(Case).where(Case.child_id == child_id, Case.status != CaseStatus.CLOSED.value)
            )
        )
        if child_id
        else []
    )
    policy = get_settings().visit_policy
    risks = [RiskLevel(c.risk_level) for c in open_cases]
    risk = min(risks, key=list(RiskLevel).index) if risks else RiskLevel.LOW
    days = min((policy.interval(CaseCategory(c.category)) for c in open_cases), default=30)
    user = session.get(AppUser, actor.user_id) if actor.user_id else None
    return VisitTarget(
        child_id,
        student_id,
        name,
        user.display_name if user else actor.username,
        risk,
        today() + timedelta(days=days),
        [CaseCategory(c.category).label for c in open_cases],
        label,
    )


def _labelled(
    session: Session, actor: Actor, *, child_id: int | None, student_id: int | None
) -> tuple[str, str]:
    """The child's name, and the name told apart from namesakes (class, birth month, ID tail if visible)."""
    born: date | None
    if student_id is not None:
        student = session.get(Student, student_id)
        assert student is not None
        code = session.scalar(select(SchoolClass.code).where(SchoolClass.id == student.class_id))
        name, born, number = student.name, student.birth_date, student.id_number
    else:
        child = session.get(Child, child_id)
        assert child is not None
        code, name, born, number = None, child.name, child.birth_date, child.id_number
    short = class_short(code, school_year_on(session, today()))
    shown = child_label(
        name, class_name=short, born=born, id_number=number, show_id=sees_full_identifiers(actor)
    )
    return name, shown


def same_day_visits(session: Session, *, actor: Actor, child_id: int, day: date) -> list[HomeVisit]:
    """The visits the actor already logged for this child on that day, earliest first."""
    return list(
        session.scalars(
            select(HomeVisit)
            .where(HomeVisit.child_id == child_id, HomeVisit.visit_date == day)
            .where(HomeVisit.recorded_by == actor.user_id)
            .order_by(col(HomeVisit.recorded_at), col(HomeVisit.id))
        )
    )


def same_day_question(name: str, day: date, earlier: HomeVisit) -> str:
    """今天已为X记录过一次家访(09:30,电话),仍要再记一次吗?"""
    when = "今天" if day == today() else f"{day:%Y-%m-%d}"
    at = china_time(earlier.recorded_at)[11:16]
    kind = VisitKind(earlier.kind).label
    return f"{when}已为{name}记录过一次{kind}({at},{VisitMethod(earlier.method).label}),仍要再记一次吗?"


def _enrolled(session: Session, child_id: int) -> bool:
    """The child's registry record is 在籍 (a suspected dropout never left it; a dropout's was restored)."""
    status = session.scalar(
        select(Student.status).join(Child, Child.student_id == Student.id).where(Child.id == child_id)
    )
    return status == StudentStatus.ENROLLED.value


def carry_to_cases(session: Session, actor: Actor, child_id: int, visit: HomeVisit) -> None:
    """A visit moves the child's open cases on: new ones to 跟进中, the risk to what the visit found, and a
    child back at school after a return attempt onto the ladder's return (已返校/稳定, the follow-ups, then 销号
    by approval) when their registry record is 在籍; otherwise the case says the return must be registered."""
    risk = RiskLevel(visit.risk_after)
    returned = visit.outcome == ReturnOutcome.RETURNED.value
    for each in session.scalars(
        select(Case).where(Case.child_id == child_id, Case.status != CaseStatus.CLOSED.value)
    ):
        changes = []
        if each.status == CaseStatus.OPEN.value:
            each.status = CaseStatus.FOLLOWING.value
            changes.append(f"状态:新建→{CaseStatus.FOLLOWING.label}")
        if returned and CaseCategory(each.category).out_of_school and each.status != CaseStatus.STABLE.value:
            if _enrolled(session, child_id):  # back at the school that holds the record: the ladder's return
                ladder_flow.returned_in(
                    session, actor=actor, case=each, on=visit.visit_date, status_change_id=None
                )
            else:
                changes.append("劝返结果为已返校:孩子尚无在籍学籍,请办理入学或复学后在“劝返复学”中登记复学")
        if each.risk_level != risk.value:
            changes.append(f"风险:{RiskLevel(each.risk_level).label}→{risk.label}(家访后评估)")
            each.risk_level, each.risk_reason = risk.value, f"{visit.visit_date:%Y-%m-%d} 家访后评估"
        for change in changes:
            session.add(CaseEvent(case_id=each.id, user_id=actor.user_id, kind="visit", detail=change))


def visit_row(facts: VisitFacts, child_id: int, actor: Actor) -> dict:
    """The stored values of a visit (the form's and the import's)."""
    return {
        "child_id": child_id,
        "visit_date": facts.visit_date,
        "kind": facts.kind.value,
        "method": facts.method.value,
        "visitors": facts.visitors.strip(),
        "met_with": facts.met_with.strip(),
        "child_situation": facts.child_situation.strip(),
        "family_situation": facts.family_situation.strip(),
        "risk_after": facts.risk_after.value,
        "next_step": facts.next_step.strip(),
        "next_visit_on": facts.next_visit_on,
        "outcome": facts.outcome.value if facts.outcome else None,
        "recorded_by": actor.user_id,
    }


@unit_of_work
def log_visit(
    session: Session,
    *,
    actor: Actor,
    facts: VisitFacts,
    child_id: int | None = None,
    student_id: int | None = None,
    known: int | None = None,
) -> HomeVisit:
    """Save a home visit or return attempt for a child the actor answers for; audited. From a form (known given):
    when the actor already logged more visits for the child that day than the `known` ones the user was asked
    about, SameDayVisit asks first, so a double tap never makes two records and the second of one day is saved
    only when asked for. Other callers (an import, a script) pass no `known` and are not asked."""
    require(session, actor, Action.VISIT_LOG)
    # The person's write lock: their Child row made once, the same-day question and their cases not raced.
    write_lock(session, lock_keys.person(session, child_id=child_id, student_id=student_id))
    child = child_for_visit(session, actor=actor, child_id=child_id, student_id=student_id)
    assert child.id is not None
    problems = visit_problems(facts, today=today(), earliest=earliest_visit_day(session))
    if problems:
        audit_refusal(
            session,
            actor,
            action="create",
            entity_type="home_visit",
            entity_id=None,
            message=f"{child.name}:{facts.kind.label}未保存:" + ";".join(f"{f}:{r}" for f, r in problems),
            after={"child_id": child.id, "visit_date": facts.visit_date},
        )
        raise VisitError(problems)
    earlier = (
        []
        if known is None
        else same_day_visits(session, actor=actor, child_id=child.id, day=facts.visit_date)
    )
    if len(earlier) > (known or 0):
        session.rollback()
        raise SameDayVisit(same_day_question(child.name, facts.visit_date, earlier[-1]), len(earlier))
    visit = HomeVisit(**visit_row(facts, child.id, actor))
    session.add(visit)
    session.flush()
    carry_to_cases(session, actor, child.id, visit)
    record(
        session,
        actor=actor,
        action="create",
        entity_type="home_visit",
        entity_id=visit.id,
        after={"child_id": child.id, "kind": facts.kind.value, "visit_date": facts.visit_date},
        detail=f"{child.name}:{facts.kind.label}({facts.method.label})",
    )
    session.commit()
    session.refresh(visit)
    return visit


# ---- due and overdue --------------------------------------------------------------------------------


@dataclass
class DueVisit:
    """One child the teacher must visit: the soonest deadline of their open cases."""

    child_id: int
    name: str
    class_name: str
    categories: list[str] = field(default_factory=list)
    last_visit: date | None = None
    due: date = date.max
    planned: date | None = None  # the next visit date written at the last visit
    label: str = ""  # the name told apart from namesakes (rules.child_label)

    def state(self, day: date, warn_days: int) -> VisitState:
        return visit_state(self.due, today=day, warn_days=warn_days)


def _last_visits(child_ids: Select) -> Select:
    return (
        select(HomeVisit.child_id, func.max(HomeVisit.visit_date).label("last"))
        .where(in_ids(col(HomeVisit.child_id), child_ids))
        .group_by(HomeVisit.child_id)
    )


def due_visits(session: Session, *, actor: Actor, government: bool = False) -> list[DueVisit]:
    """The children whose open cases name the actor as the education-line person (or, with `government`, the
    government-line person: a township official), with each one's visit deadline under the policy; overdue
    first, then by deadline."""
    require(session, actor, Action.VISIT_LOG)
    policy = get_settings().visit_policy
    person = Case.government_user_id if government else Case.education_user_id
    mine = (person == actor.user_id, Case.status != CaseStatus.CLOSED.value)
    last = _last_visits(select(Case.child_id).where(*mine)).subquery()
    planned = (
        select(HomeVisit.next_visit_on)
        .where(HomeVisit.child_id == Child.id)
        .order_by(col(HomeVisit.visit_date).desc(), col(HomeVisit.id).desc())
        .limit(1)
        .correlate(Child)
        .scalar_subquery()
    )
    query = (
        select(
            Child.id,
            func.coalesce(Student.name, Child.name),
            SchoolClass.code,
            Case.category,
            Case.opened_on,
            last.c.last,
            planned,
            func.coalesce(Student.birth_date, Child.birth_date),
            func.coalesce(Student.id_number, Child.id_number),
        )
        .join(Child, Case.child_id == Child.id)
        .outerjoin(Student, Child.student_id == Student.id)
        .outerjoin(SchoolClass, Student.class_id == SchoolClass.id)
        .outerjoin(last, last.c.child_id == Child.id)
        .where(*mine)
    )
    children: dict[int, DueVisit] = {}
    year, visible = school_year_on(session, today()), sees_full_identifiers(actor)
    for child_id, name, code, category, opened_on, last_visit, next_on, born, number in session.execute(
        query
    ):
        short = class_short(code, year)
        row = children.setdefault(
            child_id,
            DueVisit(
                child_id,
                name,
                parse_class_code(code).name if code else "",
                last_visit=last_visit,
                label=child_label(name, class_name=short, born=born, id_number=number, show_id=visible),
            ),
        )
        kind = CaseCategory(category)
        row.categories.append(kind.label)
        row.due = min(
            row.due,
            visit_due(opened_on=opened_on, last_visit=last_visit, interval_days=policy.interval(kind)),
        )
        row.planned = next_on
    return sorted(children.values(), key=lambda r: (r.due, r.name))


@dataclass(frozen=True)
class TeacherLoad:
    """One education-line teacher's open cases and visits, for the school and the township."""

    township: str
    school: str
    teacher: str
    children: int
    overdue: int
    due_soon: int


def overdue_by_teacher(session: Session, *, actor: Actor) -> list[TeacherLoad]:
    """Per education-line teacher in scope: the children they follow, how many are overdue for a visit under
    the policy, and how many fall due within the warning days; counted in the database."""
    require(session, actor, Action.CASE_READ)
    policy = get_settings().visit_policy
    day = today()
    open_cases = and_(Case.status != CaseStatus.CLOSED.value, child_condition(actor))
    last = _last_visits(select(Case.child_id).join(Child).where(open_cases)).subquery()
    base = visit_base(func.coalesce(last.c.last, Case.opened_on), Case.opened_on)
    overdue = visit_deadline_passed(base, Case.category, policy, day)
    soon = visit_deadline_passed(base, Case.category, policy, day + timedelta(days=policy.warn_days + 1))
    query = (
        select(
            Township.name,
            func.coalesce(School.name, ""),
            func.coalesce(AppUser.display_name, "(未指定教育线包保人)"),
            func.count(distinct(Child.id)),
            func.count(distinct(case((overdue, Child.id)))),
            func.count(distinct(case((and_(soon, ~overdue), Child.id)))),
        )
        .select_from(Case)
        .join(Child, Case.child_id == Child.id)
        .join(Township, Child.township_id == Township.id)
        .outerjoin(School, Child.school_id == School.id)
        .outerjoin(AppUser, Case.education_user_id == AppUser.id)
        .outerjoin(last, last.c.child_id == Child.id)
        .where(open_cases)
        .group_by(Township.code, Township.name, School.code, School.name, AppUser.id, AppUser.display_name)
        .order_by(Township.code, School.code, func.count(distinct(case((overdue, Child.id)))).desc())
    )
    return [TeacherLoad(*r) for r in session.execute(query)]


def teacher_frame(rows: list[TeacherLoad]) -> pd.DataFrame:
    return pd.DataFrame(
        [(r.township, r.school, r.teacher, r.children, r.overdue, r.due_soon) for r in rows],
        columns=["乡镇", "学校", "教育线包保教师", "跟进儿童", "家访逾期", "即将到期"],
    )
