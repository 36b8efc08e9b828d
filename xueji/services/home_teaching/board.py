"""The coordinator's board: every home-teaching child of the term as a traffic light, computed from the visits
counted per plan and month in SQL and judged by the pure rule; the teachers' reminders for this month; the term
report (one row per child, one sheet per child's visit log)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import Select, case, func, select
from sqlmodel import Session, col

from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.config import get_settings
from xueji.models import (
    AppUser,
    Child,
    HomePlan,
    HomePlanTeacher,
    HomeTeachingVisit,
    School,
    SchoolClass,
    Student,
    Township,
)
from xueji.rules.child_label import child_label, class_short
from xueji.rules.home_teaching import (
    Compliance,
    ComplianceState,
    GoalArea,
    compliance_of,
    due_this_month,
)
from xueji.rules.masking import mask_id_number
from xueji.services.common.access import home_plan_condition, require, sees_full_identifiers
from xueji.services.common.exports import export_tables
from xueji.services.home_teaching.records import TermRef

SEVERITY = {
    ComplianceState.NOT_COMPLIANT: 0,
    ComplianceState.BEHIND: 1,
    ComplianceState.AT_RISK: 2,
    ComplianceState.ON_TRACK: 3,
    ComplianceState.COMPLIANT: 4,
}


@dataclass(frozen=True)
class BoardRow:
    plan_id: int
    child_id: int
    name: str
    id_number: str | None
    school_id: int
    school: str
    township_id: int
    township: str
    started_on: date
    teachers: str
    visits: int  # all visits logged, counted or not
    hours: float  # their class hours
    last_visit: date | None
    compliance: Compliance
    label: str = ""  # the name told apart from namesakes: class, birth month (rules.child_label)


def _plans(
    actor: Actor,
    term: int,
    *,
    school_id: int | None,
    township_id: int | None,
    teacher_id: int | None,
    child_id: int | None,
) -> Select:
    query = select(HomePlan.id).where(HomePlan.term_id == term, home_plan_condition(actor))
    if child_id is not None:
        query = query.where(HomePlan.child_id == child_id)
    if school_id is not None:
        query = query.where(HomePlan.school_id == school_id)
    if township_id is not None:
        query = query.where(
            col(HomePlan.school_id).in_(select(School.id).where(School.township_id == township_id))
        )
    if teacher_id is not None:
        query = query.where(
            col(HomePlan.id).in_(select(HomePlanTeacher.plan_id).where(HomePlanTeacher.user_id == teacher_id))
        )
    return query


def board(
    session: Session,
    *,
    actor: Actor,
    term: TermRef,
    school_id: int | None = None,
    township_id: int | None = None,
    teacher_id: int | None = None,
    child_id: int | None = None,
) -> list[BoardRow]:
    """The term's home-teaching children in the actor's scope (optionally one school, township or teacher's),
    worst first: visits are counted per plan and day in SQL, then judged by rules.home_teaching against the
    policy in force (binned into months or N-week periods there)."""
    require(session, actor, Action.HOME_TEACHING_READ)
    policy = get_settings().home_teaching
    plan_ids = _plans(
        actor, term.id, school_id=school_id, township_id=township_id, teacher_id=teacher_id, child_id=child_id
    )
    counted = case((HomeTeachingVisit.class_hours >= policy.min_class_hours, 1), else_=0)
    daily = session.execute(
        select(
            HomeTeachingVisit.plan_id,
            HomeTeachingVisit.visit_date,
            func.sum(counted),
            func.count(),
            func.sum(HomeTeachingVisit.class_hours),
        )
        .join(HomePlan, HomeTeachingVisit.plan_id == HomePlan.id)
        .where(
            col(HomeTeachingVisit.plan_id).in_(plan_ids),
            HomeTeachingVisit.visit_date >= HomePlan.started_on,
            HomeTeachingVisit.visit_date >= term.dates.start,
            HomeTeachingVisit.visit_date <= term.dates.end,
        )
        .group_by(HomeTeachingVisit.plan_id, HomeTeachingVisit.visit_date)
    ).all()
    by_plan: dict[int, dict[date, int]] = defaultdict(dict)
    totals: dict[int, list] = defaultdict(lambda: [0, 0.0, None])  # visits, hours, last visit
    for plan_id, day, n_counted, n_all, hours in daily:
        by_plan[plan_id][day] = int(n_counted)
        total = totals[plan_id]
        total[0] += int(n_all)
        total[1] += float(hours)
        if total[2] is None or day > total[2]:
            total[2] = day
    teachers: dict[int, list[str]] = defaultdict(list)
    for plan_id, name in session.execute(
        select(HomePlanTeacher.plan_id, AppUser.display_name)
        .join(AppUser, HomePlanTeacher.user_id == AppUser.id)
        .where(col(HomePlanTeacher.plan_id).in_(plan_ids))
        .order_by(HomePlanTeacher.id)
    ):
        teachers[plan_id].append(name)
    plans = session.execute(
        select(
            HomePlan.id,
            HomePlan.child_id,
            func.coalesce(Student.name, Child.name),
            func.coalesce(Student.id_number, Child.id_number),
            HomePlan.school_id,
            School.name,
            Township.id,
            Township.name,
            HomePlan.started_on,
            func.coalesce(Student.birth_date, Child.birth_date),
            SchoolClass.code,
        )
        .join(Child, HomePlan.child_id == Child.id)
        .outerjoin(Student, Child.student_id == Student.id)
        .outerjoin(SchoolClass, Student.class_id == SchoolClass.id)
        .join(School, HomePlan.school_id == School.id)
        .join(Township, School.township_id == Township.id)
        .where(col(HomePlan.id).in_(plan_ids))
    ).all()
    now = today()
    rows = []
    visible = sees_full_identifiers(actor)
    for plan_id, child_id, name, number, sid, school, tid, township, started, born, code in plans:
        visits, hours, last = totals[plan_id]
        counts = by_plan.get(plan_id, {})
        compliance = compliance_of(
            counts,
            short=visits - sum(counts.values()),
            hours=hours,
            term_start=term.dates.start,
            term_end=term.dates.end,
            today=now,
            policy=policy,
            started=started,
        )
        rows.append(
            BoardRow(
                plan_id,
                child_id,
                name,
                number if visible else mask_id_number(number),
                sid,
                school,
                tid,
                township,
                started,
                "、".join(teachers[plan_id]),
                visits,
                hours,
                last,
                compliance,
                child_label(
                    name,
                    class_name=class_short(code, term.dates.school_year_start),
                    born=born,
                    id_number=number,
                    show_id=visible,
                ),
            )
        )
    return sorted(rows, key=lambda r: (SEVERITY[r.compliance.state], r.school, r.name))


def due_for_teacher(session: Session, *, actor: Actor, term: TermRef) -> list[BoardRow]:
    """The reminder at the top of a teacher's home page: their home-teaching children with no counted visit
    yet this month."""
    if not actor.can(Action.HOME_TEACHING_READ) or actor.user_id is None:
        return []
    rows = board(session, actor=actor, term=term, teacher_id=actor.user_id)
    return [r for r in rows if due_this_month(r.compliance, today())]


def board_frame(rows: list[BoardRow]) -> pd.DataFrame:
    """The board as a table: the state first, then what each child owes this term and has done (visits, and
    class hours when the policy counts them), whether the child can still comply, how the amount owed was
    worked out, the reasons."""
    policy = get_settings().home_teaching
    hours = policy.hours_per_term > 0
    left = f"剩余{policy.period_name}数"
    columns = [
        "状态",
        "姓名",
        "应送次数",
        "计入次数",
        "还需次数",
    ]  # the numbers first: a phone shows 4 columns
    columns += ["应送课时", "累计课时", "还需课时"] if hours else ["累计课时"]
    columns += [left, "能否达标", "学校", "乡镇", "应送计算", "最近送教", "送教教师", "原因"]
    records = []
    for r in rows:
        c = r.compliance
        records.append(
            {
                "状态": c.state.label,
                "姓名": r.name,
                "学校": r.school,
                "乡镇": r.township,
                "应送次数": c.owed.visits,
                "计入次数": c.counted,
                "还需次数": c.needed,
                "应送课时": c.owed.hours,
                "累计课时": r.hours,
                "还需课时": c.hours_needed,
                left: c.months_left,
                "能否达标": c.out_of_reach or c.outlook,
                "应送计算": c.owed.formula(policy),
                "最近送教": r.last_visit.isoformat() if r.last_visit else "还没有",
                "送教教师": r.teachers or "未安排",
                "原因": ";".join(c.reasons) or "—",
            }
        )
    return pd.DataFrame(records, columns=columns)


def school_summary(rows: list[BoardRow]) -> pd.DataFrame:
    """Children per school in each state, worst schools first."""
    table: dict[str, dict[str, int]] = {}
    for r in rows:
        counts = table.setdefault(r.school, {s.label: 0 for s in SEVERITY})
        counts[r.compliance.state.label] += 1
    frame = pd.DataFrame(
        [{"学校": school, **counts, "合计": sum(counts.values())} for school, counts in table.items()],
        columns=["学校", *(s.label for s in SEVERITY), "合计"],
    )
    worst = [ComplianceState.NOT_COMPLIANT.label, ComplianceState.BEHIND.label, ComplianceState.AT_RISK.label]
    return frame.sort_values(worst, ascending=False)


def visit_log_frame(visits: list[HomeTeachingVisit]) -> pd.DataFrame:
    """A child's visit log as a table: whether each visit counts, and why not."""
    least = get_settings().home_teaching.min_class_hours
    return pd.DataFrame(
        [
            {
                "送教日期": v.visit_date,
                "送教教师": v.teachers,
                "课时": v.class_hours,
                "是否计入": "是" if v.class_hours >= least else f"否(不足{least:g}课时)",
                "送教内容": v.content,
                "孩子反应": v.response,
                "目标进展": _goals_text(v.progress),
                "监护人签字": "是" if v.guardian_signed else "否",
                "下次送教": v.next_visit_on,
            }
            for v in visits
        ],
        columns=[
            "送教日期",
            "送教教师",
            "课时",
            "是否计入",
            "送教内容",
            "孩子反应",
            "目标进展",
            "监护人签字",
            "下次送教",
        ],
    )


# ---- the term report ------------------------------------------------------------------------------------


def _goals_text(goals: dict[str, str]) -> str:
    return ";".join(f"{GoalArea(k).label}:{v}" for k, v in goals.items() if k in GoalArea._value2member_map_)


def term_report(
    session: Session,
    *,
    actor: Actor,
    term: TermRef,
    school_id: int | None = None,
    township_id: int | None = None,
    title: str = "",
) -> bytes:
    """The term report (xlsx, audited): 汇总 with one row per child (plan summary, visits, class hours,
    compliance and reasons), then one sheet per child with the visit log. ID numbers are masked whatever the
    role: full numbers leave in a file only through the reasoned exports (services.common.exports)."""
    rows = board(session, actor=actor, term=term, school_id=school_id, township_id=township_id)
    policy = get_settings().home_teaching
    goals: dict[int, dict[str, str]] = dict(
        session.execute(
            select(HomePlan.id, HomePlan.goals).where(col(HomePlan.id).in_([r.plan_id for r in rows]))
        ).all()
    )
    summary = pd.DataFrame(
        [
            {
                "学校": r.school,
                "姓名": r.name,
                "身份证号": mask_id_number(r.id_number),
                "开始送教": r.started_on,
                "送教教师": r.teachers,
                "方案目标": _goals_text(goals.get(r.plan_id, {})),
                "应送计算": r.compliance.owed.formula(policy),
                "送教次数": r.visits,
                "计入次数": r.compliance.counted,
                "累计课时": r.hours,
                "最近送教": r.last_visit,
                "达标情况": r.compliance.state.label,
                "原因": ";".join(r.compliance.reasons),
            }
            for r in sorted(rows, key=lambda r: (r.school, r.name))
        ],
        columns=[
            "学校",
            "姓名",
            "身份证号",
            "开始送教",
            "送教教师",
            "方案目标",
            "应送计算",
            "送教次数",
            "计入次数",
            "累计课时",
            "最近送教",
            "达标情况",
            "原因",
        ],
    )
    logs: dict[int, list[HomeTeachingVisit]] = defaultdict(list)
    for v in session.scalars(
        select(HomeTeachingVisit)
        .where(col(HomeTeachingVisit.plan_id).in_([r.plan_id for r in rows]))
        .order_by(HomeTeachingVisit.visit_date)
    ):
        logs[v.plan_id].append(v)
    sheets = {"汇总": summary}
    for i, r in enumerate(sorted(rows, key=lambda r: (r.school, r.name)), start=1):
        sheets[f"{i:03d}{r.name}"] = visit_log_frame(logs[r.plan_id])
    return export_tables(
        session,
        actor=actor,
        action=Action.HOME_TEACHING_READ,
        sheets=sheets,
        title=f"{title or '送教上门'}{term.name}送教报表",
        entity_type="home_plan",
    )
