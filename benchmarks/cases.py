"""Benchmark: the 控辍保学 pages county-wide at 300,000 students, against the bare SQL they run.

    python benchmarks/cases.py [--copies 38] [--db PATH] [--postgres URL] [--repeat 5]

Builds (or reuses) the big demo county of benchmarks/student_list.py, which holds its cases (about one child
in five: the registry's flags, lost students, dropouts) and a year of home visits, then for each service a
case page calls measures, in the same run, (a) the bare SQL: the statements the service sends, captured and
replayed on the driver's cursor with rows fetched, and (b) the service itself (scope, masking, rows into
the page's records, the visit rule per child), and prints b / a. Target ≤ 1.5, or under 5 ms more where the
query itself takes about a millisecond. Fastest of --repeat counts. Exits non-zero when a target is missed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("XUEJI_TODAY", "2026-11-23")

from harness import main, service_ratios  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlmodel import Session  # noqa: E402

from xueji.models import AppUser, Case  # noqa: E402
from xueji.services.cases import detail, ledgers, visits  # noqa: E402
from xueji.services.cases.ledgers import Ledger, LedgerFilter  # noqa: E402
from xueji.services.system.accounts import actor_by_username, actor_of  # noqa: E402


def cases(session: Session):  # noqa: ANN201
    county = actor_by_username(session, "demo_county")
    township = actor_by_username(session, "demo_township")
    busiest = session.scalar(  # the teacher with the most open cases
        select(Case.education_user_id)
        .where(Case.status != "closed", Case.education_user_id.is_not(None))  # type: ignore[union-attr]
        .group_by(Case.education_user_id)
        .order_by(func.count().desc())
        .limit(1)
    )
    teacher = actor_of(session.get(AppUser, busiest))
    child = session.scalar(select(Case.child_id).where(Case.education_user_id == busiest).limit(1))
    return (
        (
            "台账首页(全县)",
            lambda: len(ledgers.ledger_page(session, actor=county, given=LedgerFilter()).rows),
        ),
        (
            "疑似辍学台账(全县)",
            lambda: len(
                ledgers.ledger_page(session, actor=county, given=LedgerFilter(Ledger.SUSPECTED_DROPOUT)).rows
            ),
        ),
        (
            "姓名搜索(乡镇)",
            lambda: len(ledgers.ledger_page(session, actor=township, given=LedgerFilter(search="王")).rows),
        ),
        ("双线包保缺失(全县)", lambda: len(ledgers.responsibility_gaps(session, actor=county))),
        ("家访逾期按教师(全县)", lambda: len(visits.overdue_by_teacher(session, actor=county))),
        ("概况个案数(全县)", lambda: len(ledgers.open_counts(session, actor=county))),
        ("教师家访提醒", lambda: len(visits.due_visits(session, actor=teacher))),
        (
            "个案详情(教师)",
            lambda: len(detail.child_detail(session, actor=teacher, child_id=child).timeline),
        ),
    )


if __name__ == "__main__":
    raise SystemExit(main(__doc__, service_ratios(cases)))
