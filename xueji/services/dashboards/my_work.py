"""我的待办: what the signed-in user must do, by role, overdue first, each line with its count, its oldest deadline
and the page where it is done (services.dashboards.work_items); for the county officer also the overdue work of
each township, one row per township."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from sqlalchemy import func, select
from sqlmodel import Session, col

from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.models import School, StatusChange, Township
from xueji.rules.registration import RegistrationState
from xueji.rules.status_changes import ChangeState
from xueji.rules.vocab import Role
from xueji.services.cases import ladder, visits
from xueji.services.common.access import require, school_condition, township_condition
from xueji.services.comparisons import tasks as verify_tasks
from xueji.services.dashboards import figures
from xueji.services.dashboards import work_items as w
from xueji.services.dashboards.work_items import Urgency, WorkItem
from xueji.services.overview.summaries import CountyFigures
from xueji.services.registry import checks, registration, term_reports

ORDER = {Urgency.OVERDUE: 0, Urgency.DUE: 1, Urgency.NOTE: 2}


@dataclass(frozen=True)
class MyWork:
    items: tuple[WorkItem, ...]
    townships: pd.DataFrame = field(default_factory=pd.DataFrame)  # the county's overdue work per township

    @property
    def overdue(self) -> int:
        return sum(1 for i in self.items if i.urgency is Urgency.OVERDUE)


Part = Callable[[Session, Actor], list[WorkItem]]


def _registrar(session: Session, actor: Actor) -> list[WorkItem]:
    parts: list[Part] = [
        w.registration_items,
        w.check_items,
        w.term_report_items,
        w.suspension_items,
        w.status_change_items,
        w.account_approval_items,
        lambda s, a: w.case_items(s, a, line="education"),
        w.my_ladder_items,
        w.report_items,
        w.ledger_items,
    ]
    return [item for part in parts for item in part(session, actor)]


def _township(session: Session, actor: Actor) -> list[WorkItem]:
    parts: list[Part] = [
        w.sweep_items,
        w.verification_items,
        w.match_review_items,
        lambda s, a: w.case_items(s, a, line="government"),
        w.my_ladder_items,
        w.visit_follow_up_items,
        w.report_items,
        w.ledger_items,
    ]
    return [item for part in parts for item in part(session, actor)]


def _coordinator(session: Session, actor: Actor) -> list[WorkItem]:
    return w.home_teaching_items(session, actor) + w.assessment_task_items(session, actor)


def _teacher(session: Session, actor: Actor) -> list[WorkItem]:
    parts: list[Part] = [
        w.teacher_visit_items,
        w.my_ladder_items,
        w.teacher_home_teaching_items,
        lambda s, a: w.sweep_items(s, a, page=w.SWEEP_ENTRY),
    ]
    return [item for part in parts for item in part(session, actor)]


def _admin(session: Session, actor: Actor) -> list[WorkItem]:
    return w.setup_items(session, actor) + w.filed_request_items(session, actor)


def _auditor(session: Session, actor: Actor) -> list[WorkItem]:
    return w.audit_items(session, actor)


ROLES: dict[Role, Callable[[Session, Actor], list[WorkItem]]] = {
    Role.REGISTRAR: _registrar,
    Role.TOWNSHIP_OFFICIAL: _township,
    Role.COORDINATOR: _coordinator,
    Role.TEACHER: _teacher,
    Role.ADMIN: _admin,
    Role.AUDITOR: _auditor,
}


def _sorted(items: list[WorkItem]) -> tuple[WorkItem, ...]:
    return tuple(sorted(items, key=lambda i: (ORDER[i.urgency], i.due or date.max)))


def my_work(session: Session, *, actor: Actor) -> MyWork:
    """The signed-in user's own work, overdue first then by the oldest deadline."""
    if actor.role is Role.COUNTY_OFFICER:
        return _county(session, actor)
    build = ROLES.get(actor.role)
    return MyWork(_sorted(build(session, actor)) if build else ())


# ---- the county: overdue work across townships -------------------------------------------------------------

TOWNSHIP_COLUMNS = [
    "乡镇",
    "家访逾期(人)",
    "排查逾期(村)",
    "异动超期未审批(件)",
    "流生(人)",
    "新生注册逾期(校)",
    "人籍一致未完成(班)",
    "核实逾期(人)",
    "劝返逾期(件)",
]


def _approvals_by_township(session: Session, actor: Actor) -> Counter[str]:
    """Open status-change requests past their deadline, per township of the school (counted in SQL)."""
    rows = session.execute(
        select(Township.name, func.count(StatusChange.id))
        .join(School, StatusChange.school_id == School.id)
        .join(Township, School.township_id == Township.id)
        .where(
            school_condition(actor),
            StatusChange.state == ChangeState.SUBMITTED.value,
            StatusChange.due_date < today(),
        )
        .group_by(Township.name)
    )
    return Counter({name: int(n) for name, n in rows})


def _county(session: Session, actor: Actor) -> MyWork:
    require(session, actor, Action.OVERVIEW_READ)
    intake = registration.intake_progress(session, actor=actor)
    loads = visits.overdue_by_teacher(session, actor=actor)
    items = w.registration_lines(intake, actor) + w.follow_up_lines(session, actor, loads)
    lost: Counter[str] = Counter()
    short: Counter[str] = Counter()
    try:
        term, progress = checks.check_progress(session, actor=actor)
        items += w.check_lines(term, progress)
        for r in progress:
            short[r.township] += r.classes - r.classes_done
        if term.contains(today()):
            reports = term_reports.report_progress(session, actor=actor)
            items += w.report_lines(term, reports)
            for report in reports:
                lost[report.township] += report.lost
    except term_reports.TermReportError:
        pass
    items += w.sweep_items(session, actor) + w.status_change_items(session, actor)
    items += w.account_approval_items(session, actor) + w.ledger_items(session, actor)
    items += w.verification_overdue_items(session, actor)
    items += w.match_review_items(session, actor)
    items += w.my_ladder_items(session, actor) + w.report_items(session, actor)
    visits_late: Counter[str] = Counter()
    for load in loads:
        visits_late[load.township] += load.overdue
    sweep = figures.sweep_by_township(session, actor=actor)
    villages_late = Counter(dict(zip(sweep["乡镇"], sweep["已逾期未提交"], strict=True)))
    late_schools = Counter(r.township for r in intake if r.state is RegistrationState.LATE)
    approvals = _approvals_by_township(session, actor)
    verify_late = verify_tasks.overdue_by_township(session, actor=actor)
    ladder_late = Counter(ladder.overdue_by_township(session, actor=actor))
    columns = (visits_late, villages_late, approvals, lost, late_schools, short, verify_late, ladder_late)
    names = session.scalars(
        select(Township.name)
        .where(township_condition(actor), col(Township.closed_on).is_(None))
        .order_by(Township.code)
    ).all()
    rows = [(name, *(int(c.get(name, 0)) for c in columns)) for name in names]
    rows = sorted((r for r in rows if any(r[1:])), key=lambda r: -sum(r[1:]))  # the busiest township first
    frame = pd.DataFrame(rows, columns=TOWNSHIP_COLUMNS)
    return MyWork(_sorted(items), frame)


# ---- a city's or province's officer in one of their counties -------------------------------------------------

# What a supervisor follows up in a county: (figure of 各县区对比, the line, its unit, how urgent, the page with the
# detail). 排查 is counted apart (villages planned − villages done). 流生 and 新生注册 are detailed on pages that name
# the children, which a supervisor does not open: their lines lead to 各县区对比, where the county's row has them.
WATCHED = (
    ("ladder_overdue", "劝返复学步骤逾期未完成", "步", Urgency.OVERDUE, w.LADDER),
    ("visits_overdue", "家访逾期的儿童", "人", Urgency.OVERDUE, w.SUPERVISION),
    ("approvals_overdue", "学籍异动超期未审批", "件", Urgency.OVERDUE, w.STATUS_CHANGES),
    ("lost", "流生(开学未报到、无手续)", "人", Urgency.OVERDUE, w.COUNTIES),
    ("intake_late", "新生注册逾期未完成", "所学校", Urgency.OVERDUE, w.COUNTIES),
    ("checks_short", "人籍一致核查未完成", "个班", Urgency.DUE, w.CHECKS),
    ("reports_overdue", "上月月报逾期未报送", "所学校", Urgency.OVERDUE, "pages/reports/review.py"),
    ("home_teaching_behind", "送教上门未达标、落后或有风险", "人", Urgency.DUE, w.HT_BOARD),
    ("open_cases", "在办个案", "个", Urgency.NOTE, w.CASE_LEDGERS),
    ("dropped_out", "本学年辍学未返", "人", Urgency.NOTE, "pages/dashboards/retention.py"),
)
COUNTY_EMPTY = "该县区没有逾期事项"


def county_lines(row: CountyFigures) -> list[WorkItem]:
    """The county's lines a supervisor follows up, from its figures; only those with something to count."""
    v = row.values
    details = {"open_cases": f"疑似辍学 {v['suspected_dropout']} · 辍学 {v['dropout']}"}
    items = [
        WorkItem(what, v[key], unit, urgency, page, detail=details.get(key, ""))
        for key, what, unit, urgency, page in WATCHED
        if v[key]
    ]
    if behind := v["sweep_villages"] - v["sweep_done"]:
        items.append(
            WorkItem(
                "本学期拉网式排查未完成的村",
                behind,
                "个",
                Urgency.DUE,
                w.SWEEP_PROGRESS,
                detail=f"应排查 {v['sweep_villages']} 个村",
            )
        )
    return list(_sorted(items))  # stable: the table's order within each urgency (no deadlines here)
