"""Benchmark: the county dashboards at 300,000 students, against the bare SQL aggregates they need.

    python benchmarks/dashboard.py [--copies 38] [--db PATH] [--postgres URL] [--repeat 5] [--render]
    python benchmarks/dashboard.py --copies 98 --scale 1.3 --postgres URL --postgres-only    # 1,000,000 students
    python benchmarks/dashboard.py --city 10 --postgres URL --postgres-only                  # 3,000,000 students

Builds (or reuses) the big demo county of benchmarks/student_list.py (its cases, a year of home visits, this
term's sweeps, home teaching and status-change history), then for every figure of 概况 and 巩固率 as the county
officer sees them measures, in the same run, (a) the bare SQL: the statements the functions send, captured and
replayed on the driver's cursor with rows fetched, and (b) the functions themselves (scope, the pure rules,
the tables the charts and exports share), and prints b / a. The target, ≤ 1.5, is judged for each page's figures
all together (概况全部图表: every section of 概况; 巩固率(全部图表)); each figure's own ratio is shown beside. With --render (SQLite only), also times a full AppTest
render of each page signed in as demo_county, cold (nothing cached): target under 2 s for 概况.
Exits non-zero when a target is missed.

With --city N (PostgreSQL only): the 300,000-student county (built as above, kept in the database of --postgres)
is copied into a database beside it (<name>_cityN, made from it as a template) and cloned there N − 1 times in
SQL (benchmarks/city.py) into a city of N counties; both databases are reused by later runs. Then, in one run:
the refresh of each county's figures and of the whole city (how stale a figure can be: the interval plus one
whole refresh); the city officer's 各县区对比 (what the page calls) against the bare SQL of the same statements,
target under 2 s; and the first county's 概况 and 巩固率 inside the city against the same county in its own
database (the ratio shows a county's pages read only its rows: ≈ 1 is the goal, over 1.5 is a miss).
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


# ---- --city N: a city of N counties on PostgreSQL ------------------------------------------------------------

CITY_TARGET = 2.0  # seconds: the city's 各县区对比
COUNTY_RATIO = 1.5  # a county's 概况 inside the city ÷ alone: ≈ 1 is the goal
COUNTY_PAGES = ("概况全部图表", "巩固率(全部图表)")


def _city_database(county_url: str, counties: int) -> str:
    """The city's database beside the county's: made from it as a template the first time, then reused."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(county_url)
    name = f"{url.database}_city{counties}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}) is None:
            started = time.perf_counter()
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{url.database}"'))
            print(f"  copied the county's database in {time.perf_counter() - started:.0f} s")
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _build_city(url: str, counties: int) -> None:
    from city import clone_counties, ensure_city, ensure_officer
    from sqlalchemy import text

    from xueji.db import make_engine, migrate

    engine = make_engine(url)
    migrate(engine)  # a city kept from an earlier run takes the migrations since, as its county did
    with engine.connect() as conn:
        started = time.perf_counter()
        before = conn.scalar(text("SELECT count(*) FROM county"))
        clone_counties(conn, counties)
        ensure_officer(conn, ensure_city(conn), "bench_city")
        conn.commit()
        if before < counties:
            conn.execute(text("ANALYZE"))
            conn.commit()
            print(f"  cloned {counties - before} counties in {time.perf_counter() - started:.0f} s")
        students = conn.scalar(text("SELECT count(*) FROM student"))
        print(f"  city: {counties} counties, {students:,} students")
    engine.dispose()


def _timed_pages(url: str, repeat: int) -> dict[str, tuple[float, float]]:
    """(bare SQL, service) seconds of the county's whole pages in this database, as the county officer."""
    from harness import Capture, fastest, replay

    from xueji.db import make_engine

    engine = make_engine(url)
    capture = Capture(engine)
    timed = {}
    with Session(engine) as session:
        for label, service in figures(session):
            if label in COUNTY_PAGES:
                service()
                bare = replay(session, capture.statements_of(service))
                bare()
                timed[label] = (fastest(repeat, bare), fastest(repeat, service))
    engine.dispose()
    return timed


def city_main() -> int:
    import argparse

    from harness import Capture, build, fastest, replay

    from xueji.clock import now
    from xueji.db import make_engine
    from xueji.services.overview import summaries

    parser = argparse.ArgumentParser(description="各县区对比 and a county's 概况 in a city of N counties")
    parser.add_argument(
        "--city", type=int, required=True, help="counties in the city (each a copy of the first)"
    )
    parser.add_argument("--copies", type=int, default=38)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", default=os.environ.get("XUEJI_TEST_PG_URL"))
    parser.add_argument("--postgres-only", action="store_true", help="(the city runs on PostgreSQL only)")
    args = parser.parse_args()
    if not args.postgres:
        print("--city needs --postgres URL (or XUEJI_TEST_PG_URL)")
        return 2
    build(args.postgres, args.copies, args.scale)
    city_url = _city_database(args.postgres, args.city)
    _build_city(city_url, args.city)
    ok = True

    engine = make_engine(city_url)
    print("PostgreSQL, the city:")
    with Session(engine) as session:
        report = summaries.refresh_all(session)
    each = sorted(report.seconds.values())
    ok &= not report.failed
    print(
        f"  refresh per county: {each[0]:.1f}–{each[-1]:.1f} s (median {each[len(each) // 2]:.1f} s); "
        f"whole city {report.total:.1f} s, {len(report.failed)} failed"
    )
    print(
        f"  how stale: a figure is at most XUEJI_SUMMARY_MINUTES (10 min) + {report.total / 60:.1f} min old "
        "(the refresh runs counties one after another)"
    )
    capture = Capture(engine)
    with Session(engine) as session:
        officer = actor_by_username(session, "bench_city")

        def page() -> int:
            result = summaries.city_figures(session, actor=officer)
            summaries.freshness(result, minutes=10, at=now())
            return len(summaries.figures_frame(result))

        rows = page()
        bare = replay(session, capture.statements_of(page))
        bare()
        a, b = fastest(args.repeat, bare), fastest(args.repeat, page)
    met = b < CITY_TARGET
    ok &= met
    print(
        f"  各县区对比 (city officer): {rows} rows, bare SQL {a * 1000:.1f} ms, service {b * 1000:.1f} ms, "
        f"ratio {b / a:.2f} (target < {CITY_TARGET:.0f} s{'' if met else ': MISSED'})"
    )
    engine.dispose()

    print("PostgreSQL, the first county's pages as its county officer, inside the city vs alone:")
    alone = _timed_pages(args.postgres, args.repeat)
    inside = _timed_pages(city_url, args.repeat)
    for label in COUNTY_PAGES:
        (a1, b1), (a2, b2) = alone[label], inside[label]
        ratio = b2 / b1
        met = ratio <= COUNTY_RATIO
        ok &= met
        print(
            f"  {label:<12} alone: SQL {a1:.2f} s, service {b1:.2f} s; in the city: SQL {a2:.2f} s, "
            f"service {b2:.2f} s; city/alone {ratio:.2f} (goal ≈ 1, ≤ {COUNTY_RATIO}{'' if met else ': MISSED'})"
        )
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    if "--city" in sys.argv:
        raise SystemExit(city_main())
    report = service_ratios(figures, judged=lambda label: label in TOTALS)
    if "--render" in sys.argv:
        sys.argv.remove("--render")

        def with_render(name: str, url: str, repeat: int) -> bool:
            ok = report(name, url, repeat)
            return (render(url) and ok) if url.startswith("sqlite") else ok

        raise SystemExit(main(__doc__, with_render))
    raise SystemExit(main(__doc__, report))
