"""Benchmark: the county dashboards at 300,000 students, against the bare SQL aggregates they need.

    python benchmarks/dashboard.py [--copies 38] [--db PATH] [--postgres URL] [--repeat 5] [--render]
    python benchmarks/dashboard.py --copies 98 --scale 1.3 --postgres URL --postgres-only    # 1,000,000 students

Builds (or reuses) the big demo county of benchmarks/student_list.py (its cases, a year of home visits, this
term's sweeps, home teaching and status-change history), then for every figure of 概况 and 巩固率 as the county
officer sees them measures, in the same run, (a) the bare SQL: the statements the functions send, captured and
replayed on the driver's cursor with rows fetched, and (b) the functions themselves (scope, the pure rules,
the tables the charts and exports share), and prints b / a. The target, ≤ 1.5, is judged for each page's figures
all together (概况全部图表: every section of 概况; 巩固率(全部图表)); each figure's own ratio is shown beside. With --render (SQLite only), also times a full AppTest
render of each page signed in as demo_county, cold (nothing cached): target under 2 s for 概况.
Exits non-zero when a target is missed.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("XUEJI_TODAY", "2026-11-23")

from harness import main, service_ratios  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlmodel import Session  # noqa: E402

from xueji.models import Case, HomeVisit, Student  # noqa: E402
from xueji.services.cases import ledgers  # noqa: E402
from xueji.services.dashboards import figures as dashboard  # noqa: E402
from xueji.services.dashboards import retention  # noqa: E402
from xueji.services.home_teaching import board, records  # noqa: E402
from xueji.services.overview import counts  # noqa: E402
from xueji.services.registry import class_sizes  # noqa: E402
from xueji.services.system.accounts import actor_by_username  # noqa: E402

YEAR = 2026
TOTALS = ("概况全部图表", "巩固率(全部图表)")  # the targets are for a whole page; each figure is shown too


def figures(session: Session):  # noqa: ANN201
    county = actor_by_username(session, "demo_county")
    term = records.current_term(session)
    print(
        f"  county: {session.scalar(select(func.count()).select_from(Student)):,} students, "
        f"{session.scalar(select(func.count()).select_from(Case)):,} cases, "
        f"{session.scalar(select(func.count()).select_from(HomeVisit)):,} home visits"
    )
    page = (
        (
            "学生统计",
            lambda: (
                len(counts.by_school(session, actor=county))
                + counts.county_totals(session, actor=county).schools
            ),
        ),
        ("各年级在读", lambda: len(counts.by_grade(session, actor=county, school_year_start=YEAR))),
        ("在办个案数", lambda: len(ledgers.open_counts(session, actor=county))),
        ("双线包保缺失", lambda: len(ledgers.responsibility_gaps(session, actor=county))),
        ("排查未完成的村", lambda: len(dashboard.villages_behind(session, actor=county))),
        ("送教看板", lambda: len(board.board(session, actor=county, term=term))),
        ("异动待审批", lambda: len(dashboard.overdue_approvals(session, actor=county))),
        ("大班额", lambda: len(class_sizes.oversized_classes(session, actor=county))),
        ("各乡镇在办个案", lambda: len(dashboard.open_cases_by_township(session, actor=county))),
        (
            "辍学与劝返(按月)",
            lambda: len(dashboard.dropouts_by_month(session, actor=county, school_year=YEAR)),
        ),
        ("家访(按月)", lambda: len(dashboard.visits_by_month(session, actor=county, school_year=YEAR))),
        ("家访逾期(按学校)", lambda: len(dashboard.overdue_visits_by_school(session, actor=county))),
        ("排查进度(按乡镇)", lambda: len(dashboard.sweep_by_township(session, actor=county))),
    )
    retention_page = (
        ("巩固率(各年级)", lambda: len(retention.grade_flows(session, actor=county, school_year=YEAR))),
        (
            "巩固率(全部图表)",
            lambda: len(dashboard.retention_figures(session, actor=county, school_year=YEAR).cohorts),
        ),
    )

    def everything() -> int:
        return sum(run() for _, run in page)

    return (*page, ("概况全部图表", everything), *retention_page)


def render(url: str) -> bool:
    """A full AppTest render of each dashboard as demo_county, nothing cached; 概况 must be under 2 s."""
    from tests.app.conftest import sign_in
    from xueji.config import get_settings

    os.environ["XUEJI_DATABASE_URL"] = url
    get_settings.cache_clear()
    ok = True
    for path, target in (("pages/overview/home.py", 2.0), ("pages/dashboards/retention.py", None)):
        at = sign_in("demo_county", timeout=120)
        import streamlit as st

        st.cache_data.clear()
        started = time.perf_counter()
        at.switch_page(path).run()
        took = time.perf_counter() - started
        assert not at.exception, at.exception
        met = target is None or took < target
        ok &= met
        print(f"  AppTest render {path}: {took:.2f} s" + (f" (target < {target} s)" if target else ""))
    return ok


if __name__ == "__main__":
    report = service_ratios(figures, judged=lambda label: label in TOTALS)
    if "--render" in sys.argv:
        sys.argv.remove("--render")

        def with_render(name: str, url: str, repeat: int) -> bool:
            ok = report(name, url, repeat)
            return (render(url) and ok) if url.startswith("sqlite") else ok

        raise SystemExit(main(__doc__, with_render))
    raise SystemExit(main(__doc__, report))
