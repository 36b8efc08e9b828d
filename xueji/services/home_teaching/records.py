"""送教上门 records: a child's assessment (评估), the term's plan (一人一案) with its teachers and its copy into
the next term, and the home-teaching visits. Each write is checked by the pure rules, scoped and audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from xueji.audit import record
from xueji.auth import Action, Actor
from xueji.clock import now, today
from xueji.config import get_settings
from xueji.db import unit_of_work
from xueji.locks import write_lock
from xueji.models import (
    AppUser,
    Case,
    Child,
    HomeAssessment,
    HomePlan,
    HomePlanTeacher,
    HomeTeachingVisit,
    School,
    SchoolClass,
    SchoolYear,
    Student,
    Term,
)
from xueji.rules.cases import CaseCategory, CaseSource, CaseStatus, RiskLevel
from xueji.rules.class_code import parse_class_code
from xueji.rules.home_teaching import (
    AssessmentFacts,
    Conclusion,
    Degree,
    GoalArea,
    HomeVisitFacts,
    PlanFacts,
    assessment_problems,
    home_visit_problems,
    plan_problems,
)
from xueji.rules.registry_record import DISABILITY_TYPES
from xueji.rules.terms import TermDates
from xueji.rules.vocab import Role, SchoolKind, Stage
from xueji.services.cases.opening import add_event, audit_case
from xueji.services.common import lock_keys
from xueji.services.common.access import (
    deny,
    home_child_condition,
    home_child_in_scope,
    home_plan_in_scope,
    require,
)
from xueji.services.common.refusals import audit_refusal


class HomeTeachingError(ValueError):
    """The record cannot be saved; problems lists (field, reason) for the form."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(";".join(f"{name}:{reason}" for name, reason in problems))
        self.problems = problems


def _refuse_if(problems: list[tuple[str, str]]) -> None:
    if problems:
        raise HomeTeachingError(problems)


@dataclass(frozen=True)
class TermRef:
    """A configured term: its stored id and dates."""

    id: int
    dates: TermDates

    @property
    def name(self) -> str:
        return self.dates.name


def _terms(session: Session, *where: ColumnElement[bool], newest_first: bool = False) -> list[TermRef]:
    """The stored terms that meet the conditions, in order of their start."""
    order = col(Term.start_date).desc() if newest_first else col(Term.start_date)
    rows = session.execute(
        select(Term.id, SchoolYear.start_year, Term.seq, Term.start_date, Term.end_date)
        .join(SchoolYear, Term.school_year_id == SchoolYear.id)
        .where(*where)
        .order_by(order)
    ).all()
    return [TermRef(tid, TermDates(*rest)) for tid, *rest in rows]


def term_choices(session: Session) -> list[TermRef]:
    """The configured terms that have started, newest first (the current term first)."""
    return _terms(session, Term.start_date <= today(), newest_first=True)


def terms_after(session: Session, term: TermRef) -> list[TermRef]:
    """The configured terms after this one, soonest first (plans may be made ahead)."""
    return _terms(session, Term.start_date > term.dates.start)


def latest_term(session: Session) -> TermRef | None:
    """The term in force today, or the last one that started; None before any term is configured."""
    started = term_choices(session)
    return started[0] if started else None


def current_term(session: Session) -> TermRef:
    """The term in force today (or the last one that started); refused before any term is configured."""
    term = latest_term(session)
    if term is None:
        raise HomeTeachingError([("学期", "尚未配置学期,请管理员先维护校历")])
    return term


def term_of(session: Session, term: int) -> TermRef:
    """A stored term by id."""
    found = _terms(session, Term.id == term)
    if not found:
        raise HomeTeachingError([("学期", "没有这个学期")])
    return found[0]


def child_name(session: Session, child: Child) -> str:
    """The registry's name when the child has a record, else the name recorded for the child."""
    if child.student_id is None:
        return child.name
    return session.scalar(select(Student.name).where(Student.id == child.student_id)) or child.name


def teaching_school(session: Session, child: Child) -> int | None:
    """The school that teaches at home holds the child's registry record; without one, the school following."""
    if child.student_id is not None:
        return session.scalar(select(Student.school_id).where(Student.id == child.student_id))
    return child.school_id


# ---- candidates and assessments ------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    child_id: int
    name: str
    school: str
    disability_type: str | None
    has_plan: bool  # a plan for the given term


def candidates(session: Session, *, actor: Actor, term: int) -> list[Candidate]:
    """The children in scope who may need home teaching: an open 残疾 or 送教上门 case, or a plan this term."""
    require(session, actor, Action.HOME_TEACHING_READ)
    open_cases = select(Case.child_id).where(
        col(Case.category).in_([CaseCategory.DISABLED.value, CaseCategory.HOME_TEACHING.value]),
        Case.status != CaseStatus.CLOSED.value,
    )
    planned = select(HomePlan.child_id).where(HomePlan.term_id == term)
    disability = (
        select(func.max(Case.disability_type))
        .where(Case.child_id == Child.id, col(Case.disability_type).is_not(None))
        .correlate(Child)
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            Child.id,
            func.coalesce(Student.name, Child.name),
            func.coalesce(School.name, ""),
            func.coalesce(Student.disability_type, disability),
            col(Child.id).in_(planned),
        )
        .outerjoin(Student, Child.student_id == Student.id)
        .outerjoin(School, func.coalesce(Student.school_id, Child.school_id) == School.id)
        .where(home_child_condition(actor), col(Child.id).in_(open_cases) | col(Child.id).in_(planned))
        .order_by(School.name, func.coalesce(Student.name, Child.name))
    ).all()
    return [Candidate(cid, name, school, dt, bool(planned_)) for cid, name, school, dt, planned_ in rows]


@unit_of_work
def record_assessment(
    session: Session, *, actor: Actor, child_id: int, facts: AssessmentFacts
) -> HomeAssessment:
    """Save an assessment; a conclusion of 送教上门 opens the child's 送教上门 case when none is open."""
    require(session, actor, Action.HOME_TEACHING_MANAGE)
    write_lock(session, lock_keys.person(session, child_id=child_id))  # the child's cases (one 送教上门 open)
    child = home_child_in_scope(session, actor, child_id, Action.HOME_TEACHING_MANAGE)
    _refuse_if(assessment_problems(facts, today=today(), disability_types=DISABILITY_TYPES))
    assessment = HomeAssessment(
        child_id=child_id,
        assessed_on=facts.assessed_on,
        members=facts.members.strip(),
        disability_type=facts.disability_type,
        degree=facts.degree.value,
        ability=facts.ability.strip(),
        conclusion=facts.conclusion.value,
        next_review_on=facts.next_review_on,
        recorded_by=actor.user_id,
    )
    session.add(assessment)
    session.flush()
    name = child_name(session, child)
    record(
        session,
        actor=actor,
        action="create",
        entity_type="home_assessment",
        entity_id=assessment.id,
        after={"child_id": child_id, "conclusion": facts.conclusion.value, "degree": facts.degree.value},
        detail=f"{name}:评估结论{facts.conclusion.label}",
    )
    if facts.conclusion is Conclusion.HOME_TEACHING:
        _open_home_teaching_case(session, actor, child, name, facts)
    session.commit()
    session.refresh(assessment)
    return assessment


def _open_home_teaching_case(
    session: Session, actor: Actor, child: Child, name: str, facts: AssessmentFacts
) -> None:
    open_already = session.scalar(
        select(Case.id).where(
            Case.child_id == child.id,
            Case.category == CaseCategory.HOME_TEACHING.value,
            Case.status != CaseStatus.CLOSED.value,
        )
    )
    if open_already:
        return
    reason = f"评估结论:送教上门({facts.disability_type}残疾,{facts.degree.label})"
    case = Case(
        child_id=child.id,
        category=CaseCategory.HOME_TEACHING.value,
        disability_type=facts.disability_type,
        risk_level=RiskLevel.MEDIUM.value,
        risk_reason=reason,
        source=CaseSource.MANUAL.value,
        opened_on=today(),
        opened_by=actor.user_id,
    )
    session.add(case)
    session.flush()
    add_event(session, case.id, actor, "opened", reason)
    after = {"child_id": child.id, "category": CaseCategory.HOME_TEACHING.value}
    audit_case(session, actor, case, "create", {}, after, f"{name}:{CaseCategory.HOME_TEACHING.label}")


def assessments(session: Session, *, actor: Actor, child_id: int) -> list[HomeAssessment]:
    """The child's assessments, newest first."""
    home_child_in_scope(session, actor, child_id, Action.HOME_TEACHING_READ)
    return list(
        session.scalars(
            select(HomeAssessment)
            .where(HomeAssessment.child_id == child_id)
            .order_by(col(HomeAssessment.assessed_on).desc(), col(HomeAssessment.id).desc())
        )
    )


def assessments_frame(rows: list[HomeAssessment]) -> pd.DataFrame:
    """A child's assessments as a table, newest first."""
    return pd.DataFrame(
        [
            {
                "评估日期": a.assessed_on,
                "评估人员": a.members,
                "残疾类型": a.disability_type,
                "残疾程度": Degree(a.degree).label,
                "接受教育能力": a.ability,
                "结论": Conclusion(a.conclusion).label,
                "下次复评": a.next_review_on,
            }
            for a in rows
        ],
        columns=["评估日期", "评估人员", "残疾类型", "残疾程度", "接受教育能力", "结论", "下次复评"],
    )


# ---- plans ------------------------------------------------------------------------------------------------


def teacher_choices(session: Session, school_id: int | None) -> list[tuple[int, str]]:
    """The school's active teacher accounts: (user id, name)."""
    rows = session.execute(
        select(AppUser.id, AppUser.display_name)
        .where(AppUser.school_id == school_id, AppUser.role == Role.TEACHER.value, col(AppUser.is_active))
        .order_by(AppUser.display_name)
    ).all()
    return [(uid, name) for uid, name in rows]


@dataclass(frozen=True)
class PlanView:
    """A plan as shown and edited: its facts, teachers' names and the term."""

    plan: HomePlan
    facts: PlanFacts
    teachers: list[str]


def _facts_of(session: Session, plan: HomePlan) -> PlanFacts:
    teacher_ids = session.scalars(
        select(HomePlanTeacher.user_id).where(HomePlanTeacher.plan_id == plan.id).order_by(HomePlanTeacher.id)
    ).all()
    return PlanFacts(
        started_on=plan.started_on,
        goals={GoalArea(k): v for k, v in plan.goals.items()},
        methods=plan.methods,
        teacher_ids=tuple(teacher_ids),
        planned_dates=tuple(date.fromisoformat(d) for d in plan.planned_dates),
    )


def plan_for(session: Session, *, actor: Actor, child_id: int, term: int) -> PlanView | None:
    """The child's plan for the term, if there is one."""
    home_child_in_scope(session, actor, child_id, Action.HOME_TEACHING_READ)
    plan = session.scalar(select(HomePlan).where(HomePlan.child_id == child_id, HomePlan.term_id == term))
    if plan is None:
        return None
    facts = _facts_of(session, plan)
    names: dict[int, str] = dict(
        session.execute(
            select(AppUser.id, AppUser.display_name).where(col(AppUser.id).in_(facts.teacher_ids))
        ).all()
    )
    return PlanView(plan, facts, [names[t] for t in facts.teacher_ids if t in names])


def previous_plan(session: Session, *, actor: Actor, child_id: int, term: int) -> HomePlan | None:
    """The child's plan of the latest earlier term, to copy forward."""
    home_child_in_scope(session, actor, child_id, Action.HOME_TEACHING_READ)
    start = select(Term.start_date).where(Term.id == term).scalar_subquery()
    return session.scalar(
        select(HomePlan)
        .join(Term, HomePlan.term_id == Term.id)
        .where(HomePlan.child_id == child_id, Term.start_date < start)
        .order_by(col(Term.start_date).desc())
        .limit(1)
    )


@unit_of_work
def save_plan(session: Session, *, actor: Actor, child_id: int, term: int, facts: PlanFacts) -> HomePlan:
    """Create or update the child's plan for the term. The school that teaches is the one holding the
    record; its teachers only may be assigned."""
    require(session, actor, Action.HOME_TEACHING_MANAGE)
    write_lock(session, lock_keys.person(session, child_id=child_id))  # the child's plan of the term
    child = home_child_in_scope(session, actor, child_id, Action.HOME_TEACHING_MANAGE)
    ref = term_of(session, term)
    _refuse_if(plan_problems(facts, term_start=ref.dates.start, term_end=ref.dates.end))
    school_id = teaching_school(session, child)
    if school_id is None:
        raise HomeTeachingError([("学校", "该儿童没有学籍,也没有负责跟进的学校,请先在个案中指定学校")])
    allowed = {uid for uid, _ in teacher_choices(session, school_id)}
    strangers = [t for t in facts.teacher_ids if t not in allowed]
    if strangers:
        deny(
            session,
            actor,
            Action.HOME_TEACHING_MANAGE.value,
            "送教教师须是该儿童学籍所在学校的在用教师账号",
            entity_type="user",
            entity_id=strangers[0],
        )
    plan = session.scalar(select(HomePlan).where(HomePlan.child_id == child_id, HomePlan.term_id == term))
    before = None
    if plan is None:
        plan = HomePlan(
            child_id=child_id,
            term_id=term,
            school_id=school_id,
            started_on=facts.started_on,
            created_by=actor.user_id,
        )
    else:
        before = {
            "started_on": plan.started_on,
            "goals": plan.goals,
            "teachers": list(_facts_of(session, plan).teacher_ids),
        }
    plan.school_id = school_id
    plan.started_on = facts.started_on
    plan.goals = {area.value: text.strip() for area, text in facts.goals.items() if text.strip()}
    plan.methods = facts.methods.strip()
    plan.planned_dates = sorted({d.isoformat() for d in facts.planned_dates})
    plan.updated_at = now()
    session.add(plan)
    session.flush()
    _set_teachers(session, plan, facts.teacher_ids)
    record(
        session,
        actor=actor,
        action="create" if before is None else "update",
        entity_type="home_plan",
        entity_id=plan.id,
        before=before,
        after={"started_on": plan.started_on, "goals": plan.goals, "teachers": list(facts.teacher_ids)},
        detail=f"{child_name(session, child)}:{ref.name}送教方案",
    )
    session.commit()
    session.refresh(plan)
    return plan


def _set_teachers(session: Session, plan: HomePlan, teacher_ids: tuple[int, ...]) -> None:
    current = set(session.scalars(select(HomePlanTeacher.user_id).where(HomePlanTeacher.plan_id == plan.id)))
    for gone in current - set(teacher_ids):
        session.execute(
            HomePlanTeacher.__table__.delete().where(  # type: ignore[attr-defined]
                HomePlanTeacher.plan_id == plan.id, HomePlanTeacher.user_id == gone
            )
        )
    for uid in dict.fromkeys(teacher_ids):
        if uid not in current:
            session.add(HomePlanTeacher(plan_id=plan.id, user_id=uid))
    session.flush()


@unit_of_work
def copy_forward(session: Session, *, actor: Actor, child_id: int, term: int) -> HomePlan:
    """The previous term's plan copied into this term (goals, methods, the teachers still at the school),
    starting on this term's first day with no planned dates yet: to edit, not to keep as is."""
    require(session, actor, Action.HOME_TEACHING_MANAGE)
    previous = previous_plan(session, actor=actor, child_id=child_id, term=term)
    if previous is None:
        raise HomeTeachingError([("送教方案", "没有上学期的送教方案可复制")])
    if session.scalar(select(HomePlan.id).where(HomePlan.child_id == child_id, HomePlan.term_id == term)):
        raise HomeTeachingError([("送教方案", "本学期已有送教方案,请直接修改")])
    old = _facts_of(session, previous)
    child = session.get(Child, child_id)
    assert child is not None
    allowed = {uid for uid, _ in teacher_choices(session, teaching_school(session, child))}
    ref = term_of(session, term)
    facts = PlanFacts(
        started_on=ref.dates.start,
        goals=old.goals,
        methods=old.methods,
        teacher_ids=tuple(t for t in old.teacher_ids if t in allowed),
    )
    plan = save_plan(session, actor=actor, child_id=child_id, term=term, facts=facts)
    plan.copied_from_id = previous.id
    session.add(plan)
    session.commit()
    session.refresh(plan)
    return plan


# ---- visits -----------------------------------------------------------------------------------------------


def visit_row(facts: HomeVisitFacts, plan: HomePlan, actor: Actor) -> dict:
    """The stored columns of a visit."""
    return {
        "plan_id": plan.id,
        "child_id": plan.child_id,
        "visit_date": facts.visit_date,
        "teachers": facts.teachers.strip(),
        "class_hours": facts.class_hours,
        "content": facts.content.strip(),
        "response": facts.response.strip(),
        "progress": {area.value: text.strip() for area, text in facts.progress.items() if text.strip()},
        "guardian_signed": facts.guardian_signed,
        "next_visit_on": facts.next_visit_on,
        "recorded_by": actor.user_id,
    }


def visit_problems_for(
    facts: HomeVisitFacts, plan: HomePlan, term: TermRef, logged: set[date]
) -> list[tuple[str, str]]:
    """The rule's problems, plus what the plan adds: the day inside the term and on or after home teaching
    started, and no second visit on one day."""
    problems = home_visit_problems(facts, today=today(), term_start=term.dates.start)
    if facts.visit_date > term.dates.end:
        problems.append(("送教日期", f"不在{term.name}内,请在下学期的送教方案中登记"))
    elif term.dates.start <= facts.visit_date < plan.started_on:
        problems.append(("送教日期", f"早于本方案开始送教的日期 {plan.started_on:%Y-%m-%d}"))
    if facts.visit_date in logged:
        problems.append(("送教日期", f"{facts.visit_date:%Y-%m-%d} 已有送教记录(同一天只记一次)"))
    return problems


def logged_days(session: Session, plan_ids: list[int]) -> dict[int, set[date]]:
    """The days each plan already has a visit on."""
    days: dict[int, set[date]] = {p: set() for p in plan_ids}
    for plan_id, day in session.execute(
        select(HomeTeachingVisit.plan_id, HomeTeachingVisit.visit_date).where(
            col(HomeTeachingVisit.plan_id).in_(plan_ids)
        )
    ):
        days[plan_id].add(day)
    return days


@unit_of_work
def log_home_visit(
    session: Session, *, actor: Actor, plan_id: int, facts: HomeVisitFacts
) -> HomeTeachingVisit:
    """Save a home-teaching visit on the plan: a teacher on the plan, or a coordinator in scope."""
    require(session, actor, Action.HOME_TEACHING_VISIT)
    write_lock(session, f"home_plan:{plan_id}")  # the plan's logged days, checked, then one added
    plan = home_plan_in_scope(session, actor, plan_id, Action.HOME_TEACHING_VISIT)
    term = term_of(session, plan.term_id)
    child = session.get(Child, plan.child_id)
    assert child is not None
    problems = visit_problems_for(facts, plan, term, logged_days(session, [plan_id])[plan_id])
    if problems:
        audit_refusal(
            session,
            actor,
            action="create",
            entity_type="home_teaching_visit",
            entity_id=None,
            message=f"{child_name(session, child)}:送教记录未保存:"
            + ";".join(f"{f}:{r}" for f, r in problems),
            after={"plan_id": plan_id, "visit_date": facts.visit_date},
        )
        raise HomeTeachingError(problems)
    visit = HomeTeachingVisit(**visit_row(facts, plan, actor))
    session.add(visit)
    session.flush()
    record(
        session,
        actor=actor,
        action="create",
        entity_type="home_teaching_visit",
        entity_id=visit.id,
        after={"plan_id": plan_id, "visit_date": facts.visit_date, "class_hours": facts.class_hours},
        detail=f"{child_name(session, child)}:送教上门 {facts.class_hours:g} 课时",
    )
    session.commit()
    session.refresh(visit)
    return visit


def plan_visits(session: Session, *, actor: Actor, plan_id: int) -> list[HomeTeachingVisit]:
    """The plan's visits, oldest first."""
    home_plan_in_scope(session, actor, plan_id, Action.HOME_TEACHING_READ)
    return list(
        session.scalars(
            select(HomeTeachingVisit)
            .where(HomeTeachingVisit.plan_id == plan_id)
            .order_by(HomeTeachingVisit.visit_date, HomeTeachingVisit.id)
        )
    )


def class_hour_minutes(session: Session, plan: HomePlan) -> int:
    """The length of a class hour (课时) for the child: junior school's when their class (or, without one, their
    school teaches no primary stage: 初级中学, 完全中学, 职业初中) is junior, primary's otherwise (settings)."""
    primary, junior = get_settings().class_hour_minutes
    code = session.scalar(
        select(SchoolClass.code)
        .join(Student, Student.class_id == SchoolClass.id)
        .join(Child, Child.student_id == Student.id)
        .where(Child.id == plan.child_id)
    )
    if code is not None:
        return junior if parse_class_code(code).stage is Stage.JUNIOR else primary
    kind = session.scalar(select(School.kind).where(School.id == plan.school_id))
    return junior if kind is not None and Stage.PRIMARY not in SchoolKind(kind).stages else primary


def teachers_for(session: Session, *, actor: Actor, child_id: int) -> list[tuple[int, str]]:
    """The teachers who may be assigned to the child's plan: the active teacher accounts of the school that
    holds the child's record."""
    child = home_child_in_scope(session, actor, child_id, Action.HOME_TEACHING_READ)
    return teacher_choices(session, teaching_school(session, child))
