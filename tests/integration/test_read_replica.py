"""A PostgreSQL primary and a streaming-replication hot standby on loopback: writes go to the primary, the
dashboards and ledgers read from the standby (XUEJI_READ_DATABASE_URL), and a user reads their own write at
once (the page waits for the standby to replay it, or reads the primary if it lags)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.exc import DBAPIError

from tests.app.conftest import sign_in
from tests.conftest import ROOT, require
from tests.factories import taught_student, visit_facts
from xueji.config import get_settings
from xueji.db import get_engine, make_engine, migrate, session_scope
from xueji.demo import load_demo
from xueji.models import HomeVisit, Student
from xueji.services.cases import visits
from xueji.services.system.accounts import actor_of
from xueji.standby import ON_STANDBY, on_write, read_scope

SCRIPT = str(ROOT / "scripts" / "pg-server.sh")


def _start(*args: str) -> str:
    done = subprocess.run([SCRIPT, *args], check=False, capture_output=True, text=True)
    assert done.returncode == 0, f"{args[0]}: {done.stderr}"
    return done.stdout.strip()


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[str, str]]:
    """(primary URL, standby URL), the standby streaming from the primary."""
    installed = shutil.which("initdb") or list(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    require("PostgreSQL", bool(installed), "scripts/test.sh 会安装 PostgreSQL")
    base = Path(tempfile.mkdtemp(prefix="xueji-replication-"))  # under /tmp: the postgres user must reach it
    base.chmod(0o755)
    primary = _start("start", str(base / "primary"))
    try:
        standby = _start("standby", str(base / "primary"), str(base / "standby"))
        try:
            yield primary, standby
        finally:
            subprocess.run([SCRIPT, "stop", str(base / "standby")], check=False)
    finally:
        subprocess.run([SCRIPT, "stop", str(base / "primary")], check=False)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def replicated(servers, monkeypatch) -> Iterator[tuple[Engine, Engine]]:
    """The demo county on the primary, the app configured with the standby for reads."""
    primary_url, standby_url = servers
    monkeypatch.setenv("XUEJI_DATABASE_URL", primary_url)
    monkeypatch.setenv("XUEJI_READ_DATABASE_URL", standby_url)
    monkeypatch.setenv("XUEJI_READ_WAIT_MS", "300")
    monkeypatch.setenv("XUEJI_TODAY", "2026-11-23")
    get_settings.cache_clear()
    primary = make_engine(primary_url)
    migrate(primary)
    with session_scope(primary) as session:
        if session.scalar(select(func.count()).select_from(Student)) == 0:
            from tests.conftest import SMALL_DEMO

            load_demo(session, SMALL_DEMO)
    yield primary, make_engine(standby_url)
    get_settings.cache_clear()


def test_writes_go_to_the_primary_and_a_user_reads_their_own_write_at_once(replicated):
    primary, standby = replicated
    positions: list[str] = []
    on_write(positions.append)
    with standby.connect() as conn, pytest.raises(DBAPIError, match="read-only"):
        conn.execute(text("CREATE TABLE nope (id int)"))  # the standby takes no writes at all
    with standby.connect() as conn:
        assert conn.execute(text("SELECT pg_is_in_recovery()")).scalar() is True
        conn.execute(text("SELECT pg_wal_replay_pause()"))  # hold the standby back: it lags behind
    try:
        with session_scope() as session:
            teacher, student = taught_student(session)
            visit = visits.log_visit(
                session, actor=actor_of(teacher), facts=visit_facts(next_step="读己之写"), student_id=student
            )
        assert positions, "a committed write reports the primary's WAL position"
        with read_scope(after=positions[-1]) as session:  # the standby has not replayed it: read the primary
            assert session.info[ON_STANDBY] is False
            assert session.get(HomeVisit, visit.id) is not None
        with standby.connect() as conn:
            assert conn.execute(select(HomeVisit.id).where(HomeVisit.id == visit.id)).first() is None
    finally:
        with standby.connect() as conn:
            conn.execute(text("SELECT pg_wal_replay_resume()"))
    with read_scope(after=positions[-1]) as session:  # caught up (within XUEJI_READ_WAIT_MS): the standby
        assert session.info[ON_STANDBY] is True
        assert session.scalar(text("SELECT pg_is_in_recovery()")) is True
        assert session.get(HomeVisit, visit.id) is not None
    assert get_engine() is primary


def test_the_dashboards_read_from_the_standby(replicated):
    primary, standby = replicated
    sent: dict[str, list[str]] = {"primary": [], "standby": []}
    listeners = [
        (engine, lambda *a, name=name: sent[name].append(a[2]))
        for name, engine in (("primary", primary), ("standby", standby))
    ]
    for engine, listener in listeners:
        event.listen(engine, "before_cursor_execute", listener)
    try:
        at = sign_in("demo_county")
        assert not at.exception
        dashboard_reads = len(sent["standby"])
        at.switch_page("pages/dashboards/retention.py").run()
        assert not at.exception
    finally:
        for engine, listener in listeners:
            event.remove(engine, "before_cursor_execute", listener)
    assert dashboard_reads > 0  # 概况, the county's landing page
    assert len(sent["standby"]) > dashboard_reads  # 巩固率
    assert any("student" in s for s in sent["standby"])
    # The primary saw the sign-in (a write) and the account checks, not the dashboards' queries.
    assert not any("GROUP BY" in s for s in sent["primary"] if "audit" not in s)
