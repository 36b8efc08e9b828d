"""The demo county's cases and home visits: a teacher account for most head teachers, the cases the registry
flags call for, the lost students and dropouts followed, a few children out of school with no registry record,
village cadres on the government line, and a term of visits in which some teachers have fallen behind."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import insert, select, update
from sqlmodel import Session, col

from xueji.demo import names
from xueji.demo.accounts import import_accounts
from xueji.excel.account_template import AccountLine, ClassLine
from xueji.models import AppUser, Case, Child, HomeVisit, School, SchoolClass, Student, Village
from xueji.rules.cases import CaseCategory, CaseSource, CaseStatus, CloseReason, RiskLevel
from xueji.rules.visits import DEFAULT_VISIT_DAYS, ReturnOutcome, VisitKind, VisitMethod
from xueji.rules.vocab import Role, StudentStatus
from xueji.services.cases import opening
from xueji.services.registry.term_reports import lost_student_ids
from xueji.services.system.accounts import system_actor

if TYPE_CHECKING:
    from xueji.demo.build import DemoContext

CHILD_NOTES = (
    "按时到校,情绪稳定",
    "学习有进步,作业基本完成",
    "偶有迟到,已与家长沟通",
    "性格内向,需多关心",
    "近期成绩下滑",
)
FAMILY_NOTES = (
    "父母在外务工,祖父母照看",
    "母亲在家务农",
    "家庭收入较低,已申请资助",
    "父亲在县城打工,每周回家",
)
MET = ("祖母", "祖父", "母亲", "父亲", "外婆")


def load_head_teachers(session: Session, ctx: DemoContext) -> None:
    """About 95% of classes' head teachers get a teacher account (the rest are still being set up, so their
    children's cases lack an education-line person), through the account workbook's 任教班级 sheet."""
    rng = ctx.rng
    classes = session.execute(
        select(SchoolClass.id, School.code, SchoolClass.code, SchoolClass.head_teacher_name)
        .join(School, School.id == SchoolClass.school_id)
        .where(col(SchoolClass.head_teacher_id).is_(None))
        .order_by(SchoolClass.id)
    ).all()
    chosen = [row for row in classes if rng.random() < 0.95]
    if not chosen:
        return
    import_accounts(
        session,
        [
            AccountLine(f"t{cid:06d}", name or "班主任", Role.TEACHER, school)
            for cid, school, _, name in chosen
        ],
        [ClassLine(f"t{cid:06d}", school, code, head_teacher=True) for cid, school, code, _ in chosen],
        file_name="演示班主任账号.xlsx",
    )


def phone_number(rng: random.Random) -> str:
    return f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"


def day_between(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange(max(1, (end - start).days + 1)))


def load_cases(session: Session, ctx: DemoContext) -> None:
    """Cases from the registry flags, the lost students and the dropouts; a few struggling learners and
    children out of school without a record; village cadres named on the government line."""
    rng = ctx.rng
    actor = system_actor(session)
    opening.open_registry_cases(session, actor=actor, students=select(Student.id))
    dropped = select(Student.id).where(Student.status == StudentStatus.DROPPED_OUT.value)
    opening.open_for_students(session, actor, CaseCategory.DROPOUT, dropped, CaseSource.DROPOUT, "已辍学")
    enrolled = session.scalars(
        select(Student.id).where(Student.status == StudentStatus.ENROLLED.value).order_by(Student.id)
    ).all()
    lost = lost_student_ids(session, actor=actor)
    if lost is not None:
        reason = "开学一周后未报到,无转学、休学手续"
        opening.open_for_students(
            session, actor, CaseCategory.SUSPECTED_DROPOUT, lost, CaseSource.LOST, reason
        )
    struggling = [sid for sid in enrolled if rng.random() < 0.01]
    reason = "期中考试多科不及格,厌学"
    opening.open_for_students(
        session,
        actor,
        CaseCategory.STRUGGLING,
        select(Student.id).where(col(Student.id).in_(struggling)),
        CaseSource.MANUAL,
        reason,
    )
    _unregistered_children(session, ctx)
    # flags were known from earlier years; children out of school were found after this term began
    year_start = date(ctx.school_year, 9, 1)
    changes = []
    for case_id, category in session.execute(select(Case.id, Case.category).order_by(Case.id)).all():
        if CaseCategory(category).out_of_school:
            opened = day_between(rng, year_start + timedelta(days=8), ctx.spec.today - timedelta(days=10))
        else:
            opened = day_between(rng, year_start - timedelta(days=300), ctx.spec.today - timedelta(days=60))
        values = {"id": case_id, "opened_on": opened, "government_name": None, "government_phone": None}
        if rng.random() < 0.85:  # the rest still lack their village cadre
            values["government_name"] = names.person_name(rng, male=rng.random() < 0.6, adult=True)
            values["government_phone"] = phone_number(rng)
        changes.append(values)
    session.execute(update(Case), changes)


def _unregistered_children(session: Session, ctx: DemoContext) -> None:
    """One or two children per township found out of school with no registry record (suspected dropouts)."""
    rng = ctx.rng
    for school_id, township_id in session.execute(
        select(School.id, School.township_id).order_by(School.id)
    ).all():
        if rng.random() > 0.3:
            continue
        villages = session.scalars(select(Village.id).where(Village.township_id == township_id)).all()
        male = rng.random() < 0.5
        birth = date(ctx.school_year - rng.randint(12, 15), rng.randint(1, 12), rng.randint(1, 28))
        child = Child(
            name=names.person_name(rng, male=male),
            sex="男" if male else "女",
            birth_date=birth,
            township_id=township_id,
            village_id=rng.choice(villages) if villages else None,
            school_id=school_id,
            guardian_name=names.person_name(rng, male=not male, adult=True),
            guardian_phone=phone_number(rng),
            address="随父母外出后返乡,未入学",
        )
        session.add(child)
        session.flush()
        session.add(
            Case(
                child_id=child.id,
                category=CaseCategory.SUSPECTED_DROPOUT.value,
                risk_level=RiskLevel.HIGH.value,
                risk_reason="村干部反映:初中阶段未在任何学校就读",
                source=CaseSource.MANUAL.value,
                opened_on=ctx.spec.today,
            )
        )
    session.flush()


def load_visits(session: Session, ctx: DemoContext) -> None:
    """A history of visits for each case: most teachers keep to the policy's interval, some fall behind;
    suspected and actual dropouts get return attempts; a few cases were closed with their reason."""
    rng = ctx.rng
    today = ctx.spec.today
    rows = session.execute(
        select(
            Case.id,
            Case.child_id,
            Case.category,
            Case.opened_on,
            Case.education_user_id,
            AppUser.display_name,
        )
        .outerjoin(AppUser, Case.education_user_id == AppUser.id)
        .order_by(Case.id)
    ).all()
    teacher_lag: dict[int | None, float] = {}
    visits = []
    seen: set[tuple[int, date]] = set()
    for _case_id, child_id, category, opened, teacher_id, teacher in rows:
        kind = CaseCategory(category)
        lag = teacher_lag.setdefault(teacher_id, rng.choices((1.0, 1.6, 3.0), weights=(7, 2, 1))[0])
        interval = DEFAULT_VISIT_DAYS[kind]
        if rng.random() < 0.08:  # not visited yet
            continue
        day = opened + timedelta(days=rng.randint(2, max(3, interval // 2)))
        while day <= today:
            if (child_id, day) not in seen:
                seen.add((child_id, day))
                attempt = kind.out_of_school and rng.random() < 0.6
                visits.append(
                    {
                        "child_id": child_id,
                        "visit_date": day,
                        "kind": (VisitKind.RETURN_ATTEMPT if attempt else VisitKind.VISIT).value,
                        "method": rng.choices(list(VisitMethod), weights=(6, 3, 1, 1))[0].value,
                        "visitors": teacher or "班主任",
                        "met_with": rng.choice(MET),
                        "child_situation": rng.choice(CHILD_NOTES) if not attempt else "仍在家中,未到校",
                        "family_situation": rng.choice(FAMILY_NOTES),
                        "risk_after": (RiskLevel.HIGH if kind.out_of_school else kind.default_risk).value,
                        "next_step": "继续跟进" if not attempt else "联合村干部再次上门劝返",
                        "next_visit_on": day + timedelta(days=interval),
                        "outcome": rng.choice([ReturnOutcome.REFUSED, ReturnOutcome.AGREED]).value
                        if attempt
                        else None,
                        "recorded_by": teacher_id,
                    }
                )
            day += timedelta(days=max(1, int(interval * lag * rng.uniform(0.7, 1.1))))
    if visits:
        session.execute(insert(HomeVisit), visits)
    session.execute(
        update(Case)
        .where(col(Case.child_id).in_(select(HomeVisit.child_id)), Case.status == CaseStatus.OPEN.value)
        .values(status=CaseStatus.FOLLOWING.value)
    )
    closed = [
        {
            "id": case_id,
            "status": CaseStatus.CLOSED.value,
            "closed_on": today - timedelta(days=rng.randint(5, 60)),
            "close_reason": CloseReason.NO_LONGER_APPLIES.value,
            "close_evidence": "父母已返乡就业,家访核实",
        }
        for case_id, _, category, *_ in rows
        if CaseCategory(category) is CaseCategory.LEFT_BEHIND and rng.random() < 0.05
    ]
    if closed:
        session.execute(update(Case), closed)
