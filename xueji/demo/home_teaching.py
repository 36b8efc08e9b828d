"""The demo county's home-teaching children (送教上门): about one disabled pupil in three was assessed for
home teaching and has a plan this term at their school, with one or two of its teachers; 周老师 teaches two of
古港镇完全小学's. Their visits make a real mix on the board: most compliant or on track, some at risk (home
teaching began late in the term), some behind (a month with no visit, or a visit too short to count). A few
children still have only last term's plan, to be copied forward."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import insert, select
from sqlmodel import Session, col

from xueji.demo import names
from xueji.demo.cases import day_between
from xueji.models import (
    AppUser,
    Case,
    Child,
    HomeAssessment,
    HomePlan,
    HomePlanTeacher,
    HomeTeachingVisit,
    School,
    Student,
    Term,
)
from xueji.rules.cases import CaseCategory, CaseSource, CaseStatus, RiskLevel
from xueji.rules.home_teaching import Conclusion, Degree, GoalArea
from xueji.rules.vocab import Role, StudentStatus

if TYPE_CHECKING:
    from xueji.demo.build import DemoContext

DEMO_SCHOOL = "2143016965"  # 古港镇完全小学, where 周老师 teaches
DEMO_TOWNSHIP = "430181108000"  # 古港镇, the demo coordinator's
GOALS = {
    GoalArea.LIFE_SKILLS: ("能独立进食、洗手", "学会自己穿脱衣服", "能整理自己的床铺"),
    GoalArea.COMMUNICATION: ("能用手势表达需要", "会说常用的十个词语", "能回应简单指令"),
    GoalArea.MOTOR: ("扶物站立10分钟", "手指抓握练习", "上下肢康复训练"),
    GoalArea.COGNITION: ("认识颜色和形状", "能数到20", "认识常见物品"),
    GoalArea.SOCIAL: ("愿意与家人以外的人交流", "学会等待和轮流"),
    GoalArea.ACADEMICS: ("认读常用汉字50个", "学写自己的名字", "10以内加减法"),
}
CONTENTS = (
    "生活自理训练:洗手、进食",
    "康复训练与语言训练",
    "认识颜色、形状,数数练习",
    "绘本阅读,认读汉字",
    "精细动作训练,串珠、握笔",
    "唱儿歌,沟通交流游戏",
)
RESPONSES = ("情绪稳定,配合较好", "注意力能保持15分钟", "有进步,能主动回应", "今天情绪低落,配合一般")
PROGRESS = ("有进步", "基本达成", "尚需巩固", "进步明显")
MEMBERS = "县特殊教育指导中心张某、县残联李某、医生王某、学校教师、家长"
ABILITY = (
    "能在家接受个别化教学,注意力可维持10–15分钟",
    "需康复训练为主、文化学习为辅",
    "沟通能力弱,需从生活自理入手",
)
# The pattern of each child's visits this term, taken in turn: about a third compliant, a third on track,
# one in five behind, one in ten at risk.
PATTERNS = (
    "compliant",
    "on_track",
    "behind",
    "compliant",
    "at_risk",
    "on_track",
    "compliant",
    "behind",
    "on_track",
)


def _month_days(rng: random.Random, first: date, last: date, count: int) -> list[date]:
    return sorted({day_between(rng, first, last) for _ in range(count)})


def _visit_days(
    rng: random.Random, pattern: str, start: date, today: date
) -> tuple[date, list[tuple[date, float]]]:
    """(the day home teaching started, the visits with their class hours) for a pattern of the term so far."""
    months: list[tuple[date, date]] = []
    day = start
    while day <= today:
        nxt = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
        months.append((day, min(nxt - timedelta(days=1), today)))
        day = nxt
    started = start
    if pattern == "at_risk":  # home teaching began late in the term: fewer months than visits left
        started = months[-2][0] + timedelta(days=14) if len(months) >= 2 else start
        months = [(max(a, started), b) for a, b in months if b >= started]
    visits: list[tuple[date, float]] = []
    missed = rng.randrange(len(months) - 1) if pattern == "behind" and len(months) > 1 else None
    for i, (first, last) in enumerate(months):
        ended = i < len(months) - 1
        count = {"compliant": 2, "on_track": 1, "at_risk": 1, "behind": 1}[pattern]
        if not ended:
            count = 1 if pattern == "compliant" else rng.choice((0, 1))
        if i == missed:
            if rng.random() < 0.5:  # a short visit, not counted
                visits += [(d, 1.5) for d in _month_days(rng, first, last, 1)]
            continue
        visits += [(d, rng.choice((2, 2, 2, 3))) for d in _month_days(rng, first, last, count)]
    return started, visits


def load_home_teaching(session: Session, ctx: DemoContext) -> None:
    rng = ctx.rng
    today = ctx.spec.today
    term_rows = session.execute(
        select(Term.id, Term.start_date, Term.end_date)
        .where(Term.start_date <= today)
        .order_by(Term.start_date)
    ).all()
    (term_id, term_start, _), (previous_id, previous_start, _) = term_rows[-1], term_rows[-2]
    demo_teacher = session.scalar(select(AppUser.id).where(AppUser.username == "demo_teacher"))
    teachers: dict[int, list[tuple[int, str]]] = {}
    for uid, name, school_id in session.execute(
        select(AppUser.id, AppUser.display_name, AppUser.school_id)
        .where(AppUser.role == Role.TEACHER.value)
        .order_by(AppUser.id)
    ):
        teachers.setdefault(school_id, []).append((uid, name))
    children = session.execute(
        select(Child.id, Student.school_id, Student.disability_type, School.township_id)
        .join(Student, Child.student_id == Student.id)
        .join(School, Student.school_id == School.id)
        .where(col(Student.disabled), Student.status == StudentStatus.ENROLLED.value)
        .order_by(Student.id)
    ).all()
    demo_school = ctx.school_ids.get(DEMO_SCHOOL)
    others = [c for c in children if c[1] != demo_school]
    taught = [c for i, c in enumerate(others) if i < 4 or rng.random() < 0.35]  # every pattern at least once
    demo_township = ctx.township_ids.get(DEMO_TOWNSHIP)
    last_term_only = [c for c in others if c not in taught and c[3] == demo_township][:1]
    to_copy = last_term_only[0][0] if last_term_only else None
    chosen = [c for c in children if c[1] == demo_school][:2] + taught + last_term_only
    opened = []
    for n, (child_id, school_id, disability, _township) in enumerate(chosen):
        staff = teachers.get(school_id) or []
        if not staff:
            continue
        assigned = rng.sample(staff, k=min(len(staff), rng.choice((1, 2))))
        if school_id == demo_school and n < 2 and demo_teacher:
            assigned = [(demo_teacher, "周老师")]
        assessed = day_between(rng, previous_start - timedelta(days=200), previous_start)
        session.add(
            HomeAssessment(
                child_id=child_id,
                assessed_on=assessed,
                members=MEMBERS,
                disability_type=disability or "多重",
                degree=rng.choice((Degree.SEVERE, Degree.PROFOUND)).value,
                ability=rng.choice(ABILITY),
                conclusion=Conclusion.HOME_TEACHING.value,
                next_review_on=assessed + timedelta(days=365),
                recorded_by=None,
            )
        )
        opened.append(
            {
                "child_id": child_id,
                "category": CaseCategory.HOME_TEACHING.value,
                "disability_type": disability,
                "risk_level": RiskLevel.MEDIUM.value,
                "risk_reason": "评估结论:送教上门",
                "status": CaseStatus.FOLLOWING.value,
                "source": CaseSource.MANUAL.value,
                "opened_on": assessed,
                "education_user_id": assigned[0][0],
                "government_name": names.person_name(rng, male=rng.random() < 0.6, adult=True),
            }
        )
        goals = {area.value: rng.choice(options) for area, options in GOALS.items() if rng.random() < 0.6}
        goals = goals or {GoalArea.LIFE_SKILLS.value: GOALS[GoalArea.LIFE_SKILLS][0]}
        methods = "个别化教学与康复训练结合,教家长在家延伸训练"
        previous_plan = _plan(
            session, child_id, previous_id, school_id, previous_start, goals, methods, assigned, None
        )
        if child_id == to_copy:
            continue  # only last term's plan: to copy forward
        pattern = "behind" if school_id == demo_school and n == 0 else PATTERNS[n % len(PATTERNS)]
        started, visits = _visit_days(rng, pattern, term_start, today)
        plan_id = _plan(
            session, child_id, term_id, school_id, started, goals, methods, assigned, previous_plan
        )
        who = "、".join(name for _, name in assigned)
        if not visits:
            continue
        session.execute(
            insert(HomeTeachingVisit),
            [
                {
                    "plan_id": plan_id,
                    "child_id": child_id,
                    "visit_date": day,
                    "teachers": who,
                    "class_hours": hours,
                    "content": rng.choice(CONTENTS),
                    "response": rng.choice(RESPONSES),
                    "progress": {area: rng.choice(PROGRESS) for area in goals},
                    "guardian_signed": rng.random() < 0.9,
                    "next_visit_on": day + timedelta(days=rng.randint(10, 20)),
                    "recorded_by": assigned[0][0],
                }
                for day, hours in visits
            ],
        )
    if opened:
        session.execute(insert(Case), opened)


def _plan(
    session: Session,
    child_id: int,
    term_id: int,
    school_id: int,
    started: date,
    goals: dict[str, str],
    methods: str,
    teachers: list[tuple[int, str]],
    copied_from: int | None,
) -> int:
    plan = HomePlan(
        child_id=child_id,
        term_id=term_id,
        school_id=school_id,
        started_on=started,
        goals=goals,
        methods=methods,
        planned_dates=[],
        copied_from_id=copied_from,
    )
    session.add(plan)
    session.flush()
    assert plan.id is not None
    session.add_all([HomePlanTeacher(plan_id=plan.id, user_id=uid) for uid, _ in teachers])
    return plan.id
