"""SIGKILL at random points while visits are logged and visit sheets imported: after each kill the database
passes its integrity check, every write the process acknowledged is there, no sheet is half-imported, and the
audit chain verifies. 5 kills per database by default; .ci/run sets XUEJI_LONG_TESTS=1 for 50."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, text
from sqlmodel import col

from benchmarks.load import IMPORT_ROWS
from tests.conftest import ROOT
from xueji.audit import seal_all, verify_chain
from xueji.db import session_scope
from xueji.models import AuditLog, HomeVisit

pytestmark = pytest.mark.usefixtures("fixed_today")
KILLS = 50 if os.environ.get("XUEJI_LONG_TESTS") == "1" else 5


def rows_of(token: str) -> int:
    """The worker imports a sheet on even steps and logs one visit on odd ones."""
    return IMPORT_ROWS if int(token.rsplit("-", 1)[1]) % 2 == 0 else 1


@pytest.fixture
def fork_server(database_url: str) -> Iterator[subprocess.Popen]:
    """The worker's fork server (tests.load.crash_worker): its imports paid once, not once per kill."""
    env = {**os.environ, "XUEJI_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(
        [sys.executable, "-m", "tests.load.crash_worker", database_url],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as server:
        yield server
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=60)


def run_until_killed(server: subprocess.Popen, prefix: str, seed: int, delay: float) -> dict[str, int]:
    """Fork a worker, kill it `delay` seconds after it is ready; the tokens it acknowledged, with rows."""
    assert server.stdin is not None and server.stdout is not None
    server.stdin.write(f"{prefix} {seed}\n")
    server.stdin.flush()
    ready, pid = server.stdout.readline().split()
    assert ready == "ready", "工作进程没有就绪(见标准错误输出)"
    timer = threading.Timer(delay, os.kill, (int(pid), signal.SIGKILL))
    timer.start()
    acknowledged: dict[str, int] = {}
    for line in server.stdout:
        word, *rest = line.split()
        if word == "exit":
            status = int(rest[0])
            break
        token, rows = rest
        acknowledged[token] = int(rows)
    timer.cancel()
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, "工作进程不是被终止的"
    return acknowledged


def test_killed_at_random_points_the_database_keeps_every_acknowledged_write_and_no_half_import(
    demo_engine, database_url, fork_server
):
    rng = random.Random(20261124)
    acknowledged: dict[str, int] = {}
    started = time.perf_counter()
    for kill in range(KILLS):
        acknowledged |= run_until_killed(fork_server, f"crash{kill}", kill, rng.uniform(0.05, 0.8))
        with demo_engine.connect() as conn:
            if database_url.startswith("sqlite"):
                assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok", f"第{kill + 1}次"
            stored = dict(
                conn.execute(
                    select(HomeVisit.next_step, func.count())
                    .where(col(HomeVisit.next_step).like("crash%"))
                    .group_by(HomeVisit.next_step)
                ).all()
            )
        missing = {t: n for t, n in acknowledged.items() if stored.get(t) != n}
        assert missing == {}, f"第{kill + 1}次终止后,已确认的写入丢失或不全"
        half = {t: n for t, n in stored.items() if n != rows_of(t)}
        assert half == {}, "有导入只写入了一部分"
    with session_scope(demo_engine) as session:
        assert verify_chain(
            session
        ).ok  # PostgreSQL: the acknowledged entries wait for the sealer (young: ok)
        seal_all(session)  # as the server's sealer would: then every one is in its chain
        check = verify_chain(session)
        assert check.ok and check.pending == 0, check.reason
        audited = session.scalar(
            select(func.count())
            .select_from(AuditLog)
            .join(HomeVisit, AuditLog.entity_id == func.cast(HomeVisit.id, AuditLog.entity_id.type))
            .where(AuditLog.entity_type == "home_visit", col(HomeVisit.next_step).like("crash%"))
        )
        assert audited == sum(stored.values())
    assert len(acknowledged) >= KILLS, "进程多在写入前就被终止,测试没有覆盖写入过程"
    print(f"{KILLS} kills, {len(acknowledged)} acknowledged writes, {time.perf_counter() - started:.0f} s")
