"""Benchmark: the term-start pages county-wide at 300,000 students, against the bare SQL they run.

    python benchmarks/term_start.py [--copies 38] [--db PATH] [--postgres URL] [--repeat 5]

Builds (or reuses) the big demo county of benchmarks/student_list.py, whose autumn term has its reports,
lost students and 人籍一致 checks, then for each service a page calls measures, in the same run, (a) the bare
SQL: the statements the service sends, captured and replayed on the driver's cursor with rows fetched, and
(b) the service itself (scope checks, masking, the rows turned into Chinese tables' inputs), and prints
b / a. Target ≤ 1.5, or under 5 ms more where the query itself takes about a millisecond. Fastest of
--repeat counts. Exits non-zero when a target is missed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("XUEJI_TODAY", "2026-11-23")

from harness import main, service_ratios  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlmodel import Session  # noqa: E402

from xueji.models import SchoolClass  # noqa: E402
from xueji.services.registry import checks, registration, term_reports  # noqa: E402
from xueji.services.system.accounts import actor_by_username  # noqa: E402


def cases(session: Session):  # noqa: ANN201
    county = actor_by_username(session, "demo_county")
    registrar = actor_by_username(session, "demo_registrar")
    first_class = session.scalar(
        select(SchoolClass.id).where(SchoolClass.school_id == registrar.scope_id).order_by(SchoolClass.code)
    )
    return (
        ("新生注册进度(全县)", lambda: len(registration.intake_progress(session, actor=county))),
        ("待补全新生(全县)", lambda: len(registration.incomplete_records(session, actor=county))),
        ("各校报到情况(全县)", lambda: len(term_reports.report_progress(session, actor=county))),
        ("流生名单(全县)", lambda: len(term_reports.lost_students(session, actor=county).rows)),
        ("人籍一致进度(全县)", lambda: len(checks.check_progress(session, actor=county)[1])),
        (
            "核查记录(全县,最近200)",
            lambda: len(checks.school_checks(session, actor=county, limit=200)),
        ),
        (
            "一个班的报到(学籍管理员)",
            lambda: len(term_reports.class_reports(session, actor=registrar, class_id=first_class)),
        ),
    )


if __name__ == "__main__":
    raise SystemExit(main(__doc__, service_ratios(cases)))
