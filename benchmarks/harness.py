"""Shared by the benchmarks: build the big demo county once, capture the SQL a service sends, replay it bare,
and time the fastest of several runs."""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from xueji.db import make_engine, migrate
from xueji.demo.build import DemoSpec, load_demo
from xueji.models import Student

# Benchmark databases are throwaway: a fixed key signs their audit log unless the operator gives one.
os.environ.setdefault("XUEJI_AUDIT_KEY", "be" * 32)


def build(url: str, copies: int, scale: float = 1.0) -> None:
    """Migrate; load the big demo county unless the database already holds students."""
    engine = make_engine(url)
    migrate(engine)
    with Session(engine) as session:
        if session.exec(select(Student.id).limit(1)).first() is None:
            started = time.perf_counter()
            summary = load_demo(session, DemoSpec(seed=1, copies=copies, scale=scale))
            print(f"  built {summary.students:,} students in {time.perf_counter() - started:.0f} s")
    engine.dispose()


class Capture:
    """The statements and parameters the engine sends while active."""

    def __init__(self, engine: Engine) -> None:
        self.sent: list = []
        self.on = False
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if self.on:
            self.sent.append((statement, parameters))

    def statements_of(self, run: Callable[[], object]) -> list:
        """Run once with capture on; return what it sent."""
        self.sent, self.on = [], True
        try:
            run()
        finally:
            self.on = False
        return list(self.sent)


def replay(session: Session, statements: list) -> Callable[[], None]:
    """The bare SQL: the same statements on the driver's cursor, rows fetched, nothing else."""

    def bare() -> None:
        cursor = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        for statement, parameters in statements:
            cursor.execute(statement, parameters)
            cursor.fetchall()
        cursor.close()

    return bare


def fastest(repeat: int, run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


PER_CALL = 0.005  # a query of about a millisecond: the fixed cost of a call dominates the ratio


def service_ratios(
    cases: Callable[[Session], tuple], judged: Callable[[str], bool] = lambda label: True
) -> Callable[[str, str, int], bool]:
    """A report for main(): for each (label, service) of cases(session), the bare SQL it sends (captured,
    replayed on the driver's cursor, rows fetched) against the service itself; target ratio ≤ 1.5, or under
    PER_CALL more, for the cases `judged` names (the others are shown for insight)."""

    def report(name: str, url: str, repeat: int) -> bool:
        engine = make_engine(url)
        capture = Capture(engine)
        ok = True
        print(f"{name}:")
        print(f"  {'case':<22} {'rows':>6} {'bare SQL':>9} {'service':>9} {'ratio':>6}")
        with Session(engine) as session:
            for label, service in cases(session):
                rows = service()  # warm
                bare = replay(session, capture.statements_of(service))
                bare()
                a, b = fastest(repeat, bare), fastest(repeat, service)
                met = b / a <= 1.5 or b - a < PER_CALL
                ok &= met or not judged(label)
                mark = "" if judged(label) else "  (shown, not judged)"
                print(f"  {label:<18} {rows:>6,} {a * 1000:>7.1f}ms {b * 1000:>7.1f}ms {b / a:>6.2f}{mark}")
        engine.dispose()
        return ok

    return report


def main(doc: str, report: Callable[[str, str, int], bool]) -> int:
    """The command line every benchmark shares: build (or reuse) the county on SQLite and, given a URL, on
    PostgreSQL; report on each; exit non-zero when a target is missed."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--copies", type=int, default=38, help="each school this many times (at most 98)")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="classes per grade × this (1.3 × 98 ≈ 1,000,000)"
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", type=Path, help="SQLite file to build once and reuse")
    parser.add_argument("--postgres", default=os.environ.get("XUEJI_TEST_PG_URL"))
    parser.add_argument("--postgres-only", action="store_true", help="skip SQLite (e.g. a million students)")
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        if not args.postgres_only:
            url = f"sqlite:///{args.db or Path(tmp) / 'county.db'}"
            build(url, args.copies, args.scale)
            ok &= report("SQLite", url, args.repeat)
        if args.postgres:
            build(args.postgres, args.copies, args.scale)
            ok &= report("PostgreSQL", args.postgres, args.repeat)
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1
