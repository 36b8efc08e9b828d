"""The figures the dashboards draw, each one function counted in SQL (GROUP BY) within the actor's scope, whose
table is both what the chart draws and what the export writes: dropouts and returns by month, open cases by
category and township, visits by month, overdue visits per school, villages behind in the sweep, and the
cohort curves of retention."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import and_, case, extract, func, select
from sqlmodel import Session, col

from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.config import get_settings
from xueji.models import (
    Case,
    Child,
    HomeVisit,
    School,
    SchoolYear,
    StatusChange,
    Sweep,
    SweepVillage,
    Township,
    Village,
)
from xueji.rules.cases import CaseCategory, CaseStatus
from xueji.rules.retention import GradeFlow, cohort_points, nine_year_rate, percent
from xueji.rules.status_changes import ChangeKind, ChangeState
from xueji.rules.sweeps import VillageStatus
from xueji.rules.terms import school_year_bounds
from xueji.rules.visits import VisitKind
from xueji.rules.vocab import GRADE_LABELS
from xueji.services.cases import visits
from xueji.services.common.access import child_condition, require, school_condition, sweep_village_condition
from xueji.services.common.calendar import this_terms_sweeps
from xueji.services.dashboards import retention
from xueji.services.dashboards.retention import RetentionScope
from xueji.services.registry import status_changes


def _months(school_year: int) -> list[tuple[int, int]]:
    """September of the start year to August of the next, up to this month."""
    now = today()
    months = [(school_year, m) for m in range(9, 13)] + [(school_year + 1, m) for m in range(1, 9)]
    return [m for m in months if m <= (now.year, now.month)]


def _by_month(rows, school_year: int, columns: list[str]) -> pd.DataFrame:  # noqa: ANN001 - result rows
    """(year, month, series, count) rows as one row per month of the year and one column per series."""
    counts = {(int(y), int(m), key): int(n) for y, m, key, n in rows}
    return pd.DataFrame(
        [
            {"月份": f"{y}年{m}月", **{c: counts.get((y, m, c), 0) for c in columns}}
            for y, m in _months(school_year)
        ],
        columns=["月份", *columns],
    )


def dropouts_by_month(session: Session, *, actor: Actor, school_year: int) -> pd.DataFrame:
    """Approved 辍学 and 劝返复学 changes per month of the school year, at the schools in scope."""
    require(session, actor, Action.OVERVIEW_READ)
    first, last = retention.year_days(session, school_year)
    labels = {ChangeKind.DROPOUT.value: "辍学", ChangeKind.RETURN.value: "劝返复学"}
    year = extract("year", StatusChange.effective_date)
    month = extract("month", StatusChange.effective_date)
    rows = session.execute(
        select(year, month, StatusChange.kind, func.count())
        .join(School, StatusChange.school_id == School.id)
        .where(
            school_condition(actor),
            StatusChange.state == ChangeState.APPROVED.value,
            col(StatusChange.kind).in_(list(labels)),
            StatusChange.effective_date >= first,
            StatusChange.effective_date <= last,
        )
        .group_by(year, month, StatusChange.kind)
    ).all()
    return _by_month([(y, m, labels[k], n) for y, m, k, n in rows], school_year, list(labels.values()))


def visits_by_month(session: Session, *, actor: Actor, school_year: int) -> pd.DataFrame:
    """家访 and 劝返 logged per month of the school year, for the children in scope."""
    require(session, actor, Action.CASE_READ)
    first, last = retention.year_days(session, school_year)
    year = extract("year", HomeVisit.visit_date)
    month = extract("month", HomeVisit.visit_date)
    rows = session.execute(
        select(year, month, HomeVisit.kind, func.count())
        .join(Child, HomeVisit.child_id == Child.id)
        .where(child_condition(actor), HomeVisit.visit_date >= first, HomeVisit.visit_date <= last)
        .group_by(year, month, HomeVisit.kind)
    ).all()
    labels = [k.label for k in VisitKind]
    return _by_month([(y, m, VisitKind(k).label, n) for y, m, k, n in rows], school_year, labels)


def open_cases_by_township(session: Session, *, actor: Actor) -> pd.DataFrame:
    """Open cases per township (rows) and category (columns), with a 合计 column, busiest township first."""
    require(session, actor, Action.CASE_READ)
    rows = session.execute(
        select(Township.name, Case.category, func.count())
        .join(Child, Case.child_id == Child.id)
        .join(Township, Child.township_id == Township.id)
        .where(Case.status != CaseStatus.CLOSED.value, child_condition(actor))
        .group_by(Township.name, Case.category)
    ).all()
    categories = [c.label for c in CaseCategory]
    table: dict[str, dict[str, int]] = {}
    for township, category, n in rows:
        table.setdefault(township, dict.fromkeys(categories, 0))[CaseCategory(category).label] = int(n)
    frame = pd.DataFrame(
        [{"乡镇": t, **counts, "合计": sum(counts.values())} for t, counts in table.items()],
        columns=["乡镇", *categories, "合计"],
    )
    return frame.sort_values("合计", ascending=False, kind="stable").reset_index(drop=True)


def villages_behind(session: Session, *, actor: Actor) -> pd.DataFrame:
    """The villages of this term's sweeps not yet submitted: late ones (past the due date) first."""
    require(session, actor, Action.SWEEP_READ)
    day = today()
    late = case((Sweep.due_date < day, "已逾期"), else_="未到期")
    rows = session.execute(
        select(Township.name, Village.name, SweepVillage.status, Sweep.due_date, late)
        .join(Sweep, SweepVillage.sweep_id == Sweep.id)
        .join(Village, SweepVillage.village_id == Village.id)
        .join(Township, Sweep.township_id == Township.id)
        .where(
            sweep_village_condition(actor),
            col(SweepVillage.status).not_in([VillageStatus.SUBMITTED.value, VillageStatus.REVIEWED.value]),
            this_terms_sweeps(),
        )
        .order_by(Sweep.due_date, Township.code, Village.code)
    ).all()
    return pd.DataFrame(
        [(t, v, VillageStatus(s).label, due, state) for t, v, s, due, state in rows],
        columns=["乡镇", "村/社区", "状态", "完成期限", "是否逾期"],
    )


def sweep_by_township(session: Session, *, actor: Actor) -> pd.DataFrame:
    """This term's sweep per township: villages, submitted or reviewed, late."""
    require(session, actor, Action.SWEEP_READ)
    done = col(SweepVillage.status).in_([VillageStatus.SUBMITTED.value, VillageStatus.REVIEWED.value])
    rows = session.execute(
        select(
            Township.name,
            func.count(SweepVillage.id),
            func.sum(case((done, 1), else_=0)),
            func.sum(case((and_(~done, Sweep.due_date < today()), 1), else_=0)),
        )
        .join(Sweep, SweepVillage.sweep_id == Sweep.id)
        .join(Township, Sweep.township_id == Township.id)
        .where(sweep_village_condition(actor), this_terms_sweeps())
        .group_by(Township.code, Township.name)
        .order_by(Township.code)
    ).all()
    return pd.DataFrame(
        [(t, int(n), int(d or 0), int(late or 0)) for t, n, d, late in rows],
        columns=["乡镇", "村/社区", "已提交或已审核", "已逾期未提交"],
    )


def overdue_visits_by_school(session: Session, *, actor: Actor) -> pd.DataFrame:
    """Children followed and overdue for a visit per school (the per-teacher counts of services.cases.visits, summed)."""
    frame = visits.teacher_frame(visits.overdue_by_teacher(session, actor=actor))
    if frame.empty:
        return frame[["乡镇", "学校", "跟进儿童", "家访逾期"]]
    totals = frame.groupby(["乡镇", "学校"], as_index=False, sort=False)[
        ["跟进儿童", "家访逾期", "即将到期"]
    ].sum()
    return totals.sort_values("家访逾期", ascending=False, kind="stable").reset_index(drop=True)


def overdue_approvals(session: Session, *, actor: Actor) -> pd.DataFrame:
    """Status-change requests waiting per school, and how many are past their 7-working-day deadline."""
    rows = status_changes.overdue_by_school(session, actor=actor)
    frame = pd.DataFrame(rows, columns=["学校", "待审批", "已超期"])
    return frame.sort_values("已超期", ascending=False, kind="stable").reset_index(drop=True)


# ---- retention over the years ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Retention:
    """What the retention page draws: this year's grades, the townships compared, the cohorts over the years."""

    school_year: int
    grades: list[GradeFlow]
    townships: list[tuple[str, GradeFlow]]
    cohorts: pd.DataFrame
    nine_year: pd.DataFrame


def school_years(session: Session) -> list[int]:
    """The configured school years that have begun, newest first."""
    return list(
        session.scalars(
            select(SchoolYear.start_year)
            .where(SchoolYear.start_date <= today())
            .order_by(col(SchoolYear.start_year).desc())
        )
    )


def retention_figures(
    session: Session, *, actor: Actor, school_year: int, scope: RetentionScope | None = None
) -> Retention:
    """Every retention figure of the page: the chosen year by grade and by township, and each cohort's
    retention year by year over every configured year (one movement count per year)."""
    years = sorted(school_years(session))
    by_year = {y: retention.grade_flows(session, actor=actor, school_year=y, scope=scope) for y in years}
    townships = retention.township_totals(session, actor=actor, school_year=school_year)
    ended = {
        y
        for y in years
        if school_year_bounds(y, start_month=get_settings().school_year_start_month)[1] < today()
    }
    points = cohort_points(by_year)
    cohorts = pd.DataFrame(
        [
            {
                "入学年份(一年级)": f"{p.cohort}级",
                "学年": f"{p.school_year}–{p.school_year + 1}",
                "年级": GRADE_LABELS[p.grade],
                "当年巩固率(%)": percent(p.year_rate),
                "累计巩固率(%)": percent(p.cumulative),
            }
            for p in points
        ],
        columns=["入学年份(一年级)", "学年", "年级", "当年巩固率(%)", "累计巩固率(%)"],
    )
    nine = []
    for cohort in sorted({p.cohort for p in points}):
        first = next((f.start for f in by_year.get(cohort, []) if f.grade == 1), None)
        last = next((f.in_school for f in by_year.get(cohort + 8, []) if f.grade == 9), None)
        rate = (
            nine_year_rate(first or 0, last or 0)
            if first and last is not None and cohort + 8 in ended
            else None
        )
        nine.append(
            {
                "入学年份(一年级)": f"{cohort}级",
                "一年级入学": first,
                "九年级毕业": last if cohort + 8 in ended else None,
                "九年巩固率(%)": percent(rate),
                "说明": "" if rate is not None else "数据未覆盖该届的九年",
            }
        )
    return Retention(
        school_year,
        by_year.get(school_year, []),
        townships,
        cohorts,
        pd.DataFrame(
            nine, columns=["入学年份(一年级)", "一年级入学", "九年级毕业", "九年巩固率(%)", "说明"]
        ).astype({"一年级入学": "Int64", "九年级毕业": "Int64"}),
    )
