"""各县区对比: each county's figures for the city's and province's pages, kept in county_figure and refreshed on a
schedule (`xueji summaries refresh`, every XUEJI_SUMMARY_MINUTES), so that a city or province page reads a few
rows per county and never the registry of a province.

A county's figures are computed by the county's own services (counts, retention, ledgers, ladder, visits, home
teaching, status changes, monthly reports, sweeps) as a county actor of that county, so each refresh reads only
that county's rows, in one snapshot (REPEATABLE READ on PostgreSQL, the read transaction on SQLite): every figure
of a county is of the same moment, refreshed_at. Every figure is a count that sums over counties; a rate (巩固率,
排查完成率) is stored as its parts and computed from the summed parts, never by averaging the counties' rates.
The table is a cache of figures derived from audited rows and holds no decision, so its refresh is not audited.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pandas as pd
from sqlalchemy import delete, func, insert, select
from sqlmodel import Session, col

from xueji.auth import Action, Actor
from xueji.clock import china_time, now, today
from xueji.db import unit_of_work
from xueji.locks import write_lock
from xueji.models import City, County, CountyFigure
from xueji.rules.cases import CaseCategory
from xueji.rules.monthly_report import MonthState, SubmissionState, last_month, month_state
from xueji.rules.registration import RegistrationState
from xueji.rules.retention import GradeFlow, percent, total
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.cases import ladder, ledgers, visits
from xueji.services.common.access import county_condition, deny, require
from xueji.services.common.calendar import school_year_on
from xueji.services.dashboards import figures as dashboard
from xueji.services.dashboards import retention
from xueji.services.home_teaching import board, records
from xueji.services.overview import counts
from xueji.services.registry import checks, registration, status_changes, term_reports
from xueji.services.reports import missing

RETENTION = "retention"
FLOW_FIELDS = tuple(name for name in GradeFlow.__dataclass_fields__ if name != "grade")


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    meaning: str


# The figures of 各县区对比, in the table's order (the 巩固率 parts are stored apart, under RETENTION).
FIGURES = (
    Figure("schools", "学校", "学校数(含已关闭、已合并的学校)"),
    Figure("enrolled", "在读学生", "学籍状态为“在读”的学生"),
    Figure("left_behind", "留守儿童", "在读学生中的留守儿童"),
    Figure("migrant", "随迁子女", "在读学生中的随迁子女"),
    Figure("disabled", "残疾学生", "在读学生中的残疾学生"),
    Figure("dropped_out", "辍学未返", "本学年年初在籍、统计日仍辍学未返的学生(巩固率的分子中减去的人数)"),
    Figure("open_cases", "在办个案", "未销号的个案,各类重点关注对象合计"),
    Figure("suspected_dropout", "疑似辍学", "未销号的疑似辍学个案"),
    Figure("dropout", "辍学", "未销号的辍学个案"),
    Figure("ladder_overdue", "劝返逾期", "劝返复学各步骤中已过期限仍未完成的步骤"),
    Figure("visits_overdue", "家访逾期", "在办个案中已过应访日期的儿童(按教育线包保教师计)"),
    Figure("home_teaching", "应送教", "本学期送教上门的孩子(一人一案)"),
    Figure("home_teaching_behind", "送教未达标", "送教上门未达标、已落后或有风险的孩子"),
    Figure("approvals_overdue", "异动超期未审批", "学籍异动申请超过 7 个工作日仍未审批"),
    Figure("lost", "流生", "本学期开学报到期过后仍未报到、也没有转学或休学手续的在读学生(学期中才计)"),
    Figure(
        "intake_late",
        "新生注册逾期",
        "过了注册截止日期,一年级或七年级新生学籍仍未导入或不完整的学校",
    ),
    Figure("checks_short", "人籍一致未完成", "本学期人籍一致核查未达到规定次数的班级"),
    Figure("reports_owed", "上月应报月报", "上月应报送月报的学校"),
    Figure("reports_overdue", "月报逾期未报送", "上月月报过了报送期限仍未报送的学校"),
    Figure("sweep_villages", "应排查村", "本学期拉网式排查计划中的村/社区"),
    Figure("sweep_done", "排查完成村", "本学期已提交或已审核排查的村/社区"),
)
LABELS = {f.key: f.label for f in FIGURES}
RATE = "巩固率(%)"
SWEEP_RATE = "排查完成率(%)"


def county_actor(county_id: int) -> Actor:
    """A county officer of this county, for reading its figures: every service narrows to its rows."""
    return Actor(None, "system", Role.COUNTY_OFFICER, ScopeKind.COUNTY, county_id)


def _snapshot(session: Session) -> None:
    """Begin the read transaction as one snapshot: on PostgreSQL REPEATABLE READ (READ COMMITTED takes a new one
    per statement); a SQLite read transaction is one already."""
    if session.in_transaction():
        session.rollback()
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def county_figures(session: Session, county_id: int) -> dict[tuple[str, str], int]:
    """Every figure of one county, as (figure, part) → value, read by the county's own services."""
    actor = county_actor(county_id)
    values: dict[tuple[str, str], int] = {}
    t = counts.county_totals(session, actor=actor)
    for key in ("schools", "enrolled", "left_behind", "migrant", "disabled"):
        values[(key, "")] = int(getattr(t, key))
    year = school_year_on(session, today())
    flows = retention.grade_flows(session, actor=actor, school_year=year)
    for flow in flows:
        for name in FLOW_FIELDS:
            values[(RETENTION, f"{flow.grade}:{name}")] = int(getattr(flow, name))
    values[("dropped_out", "")] = sum(f.dropped_out for f in flows)
    opened = ledgers.open_counts(session, actor=actor)
    values[("open_cases", "")] = sum(opened.values())
    values[("suspected_dropout", "")] = opened.get(CaseCategory.SUSPECTED_DROPOUT, 0)
    values[("dropout", "")] = opened.get(CaseCategory.DROPOUT, 0)
    values[("ladder_overdue", "")] = sum(
        c.overdue for c in ladder.ladder_counts(session, actor=actor).values()
    )
    values[("visits_overdue", "")] = sum(r.overdue for r in visits.overdue_by_teacher(session, actor=actor))
    term = records.latest_term(session)
    taught = board.board(session, actor=actor, term=term) if term else []
    values[("home_teaching", "")] = len(taught)
    values[("home_teaching_behind", "")] = sum(1 for r in taught if r.compliance.state.needs_follow_up)
    values[("approvals_overdue", "")] = sum(
        late for _, _, late in status_changes.overdue_by_school(session, actor=actor)
    )
    values[("lost", "")], values[("checks_short", "")] = _term_figures(session, actor)
    values[("intake_late", "")] = len(  # schools, a nine-year school late in both stages once
        {
            (r.township, r.school)
            for r in registration.intake_progress(session, actor=actor)
            if r.state is RegistrationState.LATE
        }
    )
    month = last_month(today())
    owed = (
        missing.school_months(session, actor, month)
        if month_state(month, today()) is MonthState.ENDED
        else []
    )
    values[("reports_owed", "")] = len(owed)
    values[("reports_overdue", "")] = sum(1 for r in owed if r.state is SubmissionState.OVERDUE)
    sweep = dashboard.sweep_by_township(session, actor=actor)
    values[("sweep_villages", "")] = int(sweep["村/社区"].sum()) if len(sweep) else 0
    values[("sweep_done", "")] = int(sweep["已提交或已审核"].sum()) if len(sweep) else 0
    return values


def _term_figures(session: Session, actor: Actor) -> tuple[int, int]:
    """The term's 流生 (while the term runs, as the county's 我的待办 counts them) and its classes short of 人籍一致
    checks; (0, 0) before the school year's terms are set."""
    try:
        term, progress = checks.check_progress(session, actor=actor)
        lost = (
            sum(r.lost for r in term_reports.report_progress(session, actor=actor))
            if term.contains(today())
            else 0
        )
    except term_reports.TermReportError:
        return 0, 0
    return lost, sum(r.classes - r.classes_done for r in progress)


@unit_of_work
def _store(session: Session, county_id: int, values: dict[tuple[str, str], int], at: datetime) -> bool:
    """Replace the county's rows with these, unless a refresh of a later moment is already stored."""
    write_lock(session, f"county_figure:{county_id}")
    stored = session.scalar(
        select(func.max(CountyFigure.refreshed_at)).where(CountyFigure.county_id == county_id)
    )
    if stored is not None and _aware(stored) > at:
        session.rollback()
        return False
    session.execute(delete(CountyFigure).where(col(CountyFigure.county_id) == county_id))
    session.execute(
        insert(CountyFigure),
        [
            {"county_id": county_id, "figure": f, "part": p, "value": v, "refreshed_at": at}
            for (f, p), v in values.items()
        ],
    )
    session.commit()
    return True


def _aware(at: datetime) -> datetime:
    """A stored time as an aware one (SQLite gives it back naive, in UTC)."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def refresh_county(session: Session, county_id: int) -> float:
    """Recompute one county's figures from its rows in one snapshot and store them; return the seconds it took."""
    started = time.perf_counter()
    _snapshot(session)
    at = now()
    values = county_figures(session, county_id)
    session.rollback()  # end the read snapshot before the short write
    _store(session, county_id, values, at)
    return time.perf_counter() - started


@dataclass(frozen=True)
class RefreshReport:
    seconds: dict[str, float] = field(default_factory=dict)  # county code → seconds
    failed: dict[str, str] = field(default_factory=dict)  # county code → the error

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


def refresh_all(session: Session, *, codes: list[str] | None = None) -> RefreshReport:
    """Refresh every county (or those with these codes), one snapshot and one write transaction per county; a
    county that fails is reported and the others still refreshed."""
    query = select(County.id, County.code).order_by(County.code)
    if codes:
        query = query.where(col(County.code).in_(codes))
    counties = session.execute(query).all()
    session.rollback()
    report = RefreshReport()
    for county_id, code in counties:
        try:
            report.seconds[code] = refresh_county(session, int(county_id))
        except Exception as exc:  # noqa: BLE001 - one county's failure must not stop the others'
            session.rollback()
            report.failed[code] = f"{type(exc).__name__}: {exc}"
    return report


# ---- the city's and province's page ------------------------------------------------------------------------


@dataclass(frozen=True)
class CountyFigures:
    county_id: int | None  # None: the total row
    code: str
    name: str
    city: str
    values: dict[str, int]  # figure key → value
    flows: GradeFlow  # all grades of the year, summed from the stored parts
    refreshed_at: datetime | None  # None: never refreshed (尚未汇总)

    @property
    def rate(self) -> Fraction | None:
        return self.flows.rate

    @property
    def sweep_rate(self) -> Fraction | None:
        villages = self.values.get("sweep_villages", 0)
        return Fraction(self.values.get("sweep_done", 0), villages) if villages else None


@dataclass(frozen=True)
class CityFigures:
    counties: list[CountyFigures]
    total: CountyFigures
    oldest: datetime | None  # the stalest county's refresh: every figure is at least this recent
    newest: datetime | None

    @property
    def not_refreshed(self) -> list[CountyFigures]:
        return [c for c in self.counties if c.refreshed_at is None]


def _flows(parts: dict[str, int]) -> GradeFlow:
    """All grades' flows together from the stored "grade:field" parts."""
    grades: dict[int, dict[str, int]] = {}
    for part, value in parts.items():
        grade, name = part.split(":", 1)
        if name in FLOW_FIELDS:
            grades.setdefault(int(grade), dict.fromkeys(FLOW_FIELDS, 0))[name] = value
    return total([GradeFlow(g, **grades[g]) for g in sorted(grades)])


def city_figures(session: Session, *, actor: Actor) -> CityFigures:
    """Each county in the officer's city or province with its stored figures, and the total of them all (rates
    from the summed parts); reads only county_figure and the county and city names."""
    home = actor.at_home()
    require(session, home, Action.SUPERVISE_READ)
    if home.scope_kind not in (ScopeKind.CITY, ScopeKind.PROVINCE):
        deny(session, home, Action.SUPERVISE_READ.value, "只有市、省教育行政部门的账号可以查看各县区对比")
    counties = session.execute(
        select(County.id, County.code, County.name, City.name)
        .outerjoin(City, col(County.city_id) == City.id)
        .where(county_condition(home))
        .order_by(City.code, County.code)
    ).all()
    ids = [int(c[0]) for c in counties]
    stored: dict[int, dict[tuple[str, str], int]] = {i: {} for i in ids}
    at: dict[int, datetime] = {}
    if ids:
        for county_id, figure, part, value, refreshed in session.execute(
            select(
                CountyFigure.county_id,
                CountyFigure.figure,
                CountyFigure.part,
                CountyFigure.value,
                CountyFigure.refreshed_at,
            ).where(col(CountyFigure.county_id).in_(ids))
        ):
            stored[county_id][(figure, part)] = int(value)
            at[county_id] = (
                _aware(refreshed) if county_id not in at else min(at[county_id], _aware(refreshed))
            )
    rows = []
    for county_id, code, name, city in counties:
        values = stored[int(county_id)]
        rows.append(
            CountyFigures(
                int(county_id),
                code,
                name,
                city or "",
                {f.key: values.get((f.key, ""), 0) for f in FIGURES},
                _flows({p: v for (f, p), v in values.items() if f == RETENTION}),
                at.get(int(county_id)),
            )
        )
    summed = {f.key: sum(r.values[f.key] for r in rows) for f in FIGURES}
    all_parts: dict[str, int] = {}
    for values in stored.values():
        for (f, p), v in values.items():
            if f == RETENTION:
                all_parts[p] = all_parts.get(p, 0) + v
    whole = CountyFigures(None, "", "合计", "", summed, _flows(all_parts), min(at.values()) if at else None)
    return CityFigures(rows, whole, min(at.values()) if at else None, max(at.values()) if at else None)


def figures_frame(result: CityFigures, *, with_city: bool = False) -> pd.DataFrame:
    """The table of the page and its export: one row per county (indexed by its id), then 合计 (index 0); rates
    from the summed parts; a county not refreshed yet has empty cells."""
    head = ["所属市", "县区"] if with_city else ["县区"]
    labels = [f.label for f in FIGURES]
    columns = [*head, *labels[:5], RATE, *labels[5:], SWEEP_RATE]
    rows = []
    for r in [*result.counties, result.total]:
        row: dict[str, object] = {"县区": r.name}
        if with_city:
            row["所属市"] = r.city
        row.update(
            {f.label: r.values[f.key] if r.refreshed_at or r.county_id is None else None for f in FIGURES}
        )
        row[RATE] = percent(r.rate)
        row[SWEEP_RATE] = percent(r.sweep_rate)
        rows.append(row)
    index = [r.county_id or 0 for r in [*result.counties, result.total]]  # the county's id, 0 for 合计
    frame = pd.DataFrame(rows, columns=columns, index=index)
    return frame.astype({f.label: "Int64" for f in FIGURES})


def refresh_command(county_code: str | None = None) -> str:
    """The command that refreshes the figures, for the page's 尚未汇总 line."""
    return "xueji summaries refresh" + (f" --county {county_code}" if county_code else "")


def freshness(result: CityFigures, *, minutes: int, at: datetime) -> tuple[str, bool]:
    """The page's line on how fresh the figures are (the stalest county's refresh) and whether the refresh looks
    stopped (the stalest figure older than three intervals)."""
    if result.oldest is None:
        return (
            "尚未汇总:请在服务器上运行 " + refresh_command() + "(或启用定时任务 xueji-summaries.timer)",
            True,
        )
    shown = china_time(result.oldest)
    when = shown[11:] if china_time(at)[:10] == shown[:10] else shown
    stale = at - result.oldest > timedelta(minutes=3 * minutes)
    return f"数据截至 {when},每 {minutes} 分钟更新一次", stale
