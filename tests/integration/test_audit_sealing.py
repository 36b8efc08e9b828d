"""Issue 27: audit entries written without waiting for anyone, sealed afterwards into one chain per county.

Many writers at once (threads, each with its own session) and a sealer running beside them: every committed entry
is sealed exactly once, each chain's seqs run 1..n without a gap, the log verifies; a writer's long transaction or
rollback cannot leave a committed entry out. A sealer killed (SIGKILL) while it holds its batch seals nothing, and
the next one seals everything. A tampered entry fails its own county's verify while another county's verifies; an
entry removed from a chain is caught; an entry left unsealed longer than XUEJI_AUDIT_SEAL_MAX_AGE fails verify.
Both databases; on SQLite the writers seal inline, and the queue is also tried with that turned off.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select, text
from sqlmodel import Session

from tests.conftest import ROOT
from xueji.audit import anchor as audit_anchor
from xueji.audit import chain_of, record, seal_all, sealer, verify_chain
from xueji.auth import Actor
from xueji.cli import main as xueji_main
from xueji.clock import today
from xueji.config import SettingsError, get_settings, settings_from_env
from xueji.db import session_scope, unit_of_work
from xueji.models import AuditLog, County, School, Township
from xueji.rules.vocab import Role, ScopeKind

COUNTY2_CODE = "430182000000"


def officer(county: int, name: str = "w") -> Actor:
    return Actor(None, f"{name}{county}", Role.COUNTY_OFFICER, ScopeKind.COUNTY, county)


def second_county(engine: Engine) -> int:
    """A second county beside the demo's, so that two county chains exist."""
    with session_scope(engine) as session:
        county = County(code=COUNTY2_CODE, name="宁乡市")
        session.add(county)
        session.commit()
        return int(county.id)


@unit_of_work
def _write(session: Session, *, actor: Actor, token: str, rollback: bool = False) -> None:
    record(session, actor=actor, action="update", entity_type="student", entity_id=1, detail=token)
    if rollback:
        session.rollback()
    else:
        session.commit()


def chains_are_gapless(engine: Engine) -> dict[int, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT chain, seq FROM audit_log WHERE mac IS NOT NULL ORDER BY chain, seq")
        ).all()
    seqs: dict[int, list[int]] = defaultdict(list)
    for chain, seq in rows:
        seqs[chain].append(seq)
    for chain, found in seqs.items():
        assert found == list(range(1, len(found) + 1)), f"链 {chain} 的序号不连续"
    return {chain: len(found) for chain, found in seqs.items()}


@pytest.fixture(params=[True, False], ids=["inline", "queued"])
def inline(request, database_url, monkeypatch) -> bool:  # noqa: ANN001
    """SQLite's writers seal inline (the default) or leave their entries to the sealer; PostgreSQL always queues."""
    if database_url.startswith("postgresql") and request.param:
        pytest.skip("PostgreSQL 的写入者从不自行封存")
    monkeypatch.setattr(sealer, "INLINE_ON_SQLITE", request.param)
    return request.param


def test_many_writers_and_a_sealer_seal_every_committed_entry_once(demo_engine, inline):
    county2 = second_county(demo_engine)
    with session_scope(demo_engine) as session:
        township = session.scalar(select(Township.id).order_by(Township.id))
        school = session.scalar(select(School.id).order_by(School.id))
        before = session.scalar(select(func.count()).select_from(AuditLog))
    actors = [
        officer(1), officer(county2), Actor(None, "t", Role.TOWNSHIP_OFFICIAL, ScopeKind.TOWNSHIP, township),
        Actor(None, "s", Role.REGISTRAR, ScopeKind.SCHOOL, school),
        Actor(None, "c", Role.CITY_OFFICER, ScopeKind.CITY, 1),
        Actor(None, "v", Role.CITY_OFFICER, ScopeKind.COUNTY, county2, via=(ScopeKind.CITY, 1)),
    ]  # fmt: skip
    with session_scope(demo_engine) as session:
        assert [chain_of(session, a) for a in actors] == [1, county2, 1, 1, 0, county2]
    committed: list[str] = []
    errors: list[BaseException] = []
    stop = threading.Event()
    lock = threading.Lock()

    def writer(n: int) -> None:
        rng = random.Random(n)
        try:
            with session_scope(demo_engine) as session:
                for i in range(25):
                    token = f"w{n}-{i}"
                    rollback = rng.random() < 0.1
                    _write(session, actor=actors[(n + i) % len(actors)], token=token, rollback=rollback)
                    if not rollback:
                        with lock:
                            committed.append(token)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def sealing() -> None:
        try:
            with session_scope(demo_engine) as session:
                while not stop.is_set():
                    seal_all(session, batch=17)  # small batches: many passes while the writers write
                    time.sleep(0.01)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    long_token = "long-transaction"

    def long_writer() -> None:
        """A writer that holds its transaction open while later entries are written and sealed (PostgreSQL: on
        SQLite it would hold the only write lock)."""
        try:
            with session_scope(demo_engine) as session:
                record(session, actor=officer(1), action="update", detail=long_token)
                time.sleep(1.0)
                session.commit()
                with lock:
                    committed.append(long_token)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    if demo_engine.dialect.name == "postgresql":
        threads.append(threading.Thread(target=long_writer))
    sealer_thread = threading.Thread(target=sealing)
    sealer_thread.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    stop.set()
    sealer_thread.join(timeout=60)
    assert errors == []
    with session_scope(demo_engine) as session:
        seal_all(session)  # what came after the sealer's last pass
        tokens = list(session.scalars(select(AuditLog.detail).where(AuditLog.id > 0).order_by(AuditLog.id)))
        unsealed = session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.hash.is_(None)))
        total = session.scalar(select(func.count()).select_from(AuditLog))
        check = verify_chain(session)
    assert unsealed == 0 and total == before + len(committed)
    assert sorted(t for t in tokens if t and (t.startswith("w") or t == long_token)) == sorted(committed)
    assert check.ok and check.pending == 0, check.reason
    counts = chains_are_gapless(demo_engine)
    assert set(counts) >= {0, 1, county2}


def queue_entries(engine: Engine, n: int, counties: tuple[int, ...] = (1,)) -> None:
    with session_scope(engine) as session:
        for i in range(n):
            record(session, actor=officer(counties[i % len(counties)]), action="update", detail=f"q{i}")
        session.commit()


def unsealed_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(text("SELECT count(*) FROM audit_log WHERE hash IS NULL"))


def start_sealer(database_url: str, *, pause: float | None = None) -> subprocess.Popen:
    env = {**os.environ, "XUEJI_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    env.pop(sealer.PAUSE_ENV, None)
    if pause is not None:
        env[sealer.PAUSE_ENV] = str(pause)
    return subprocess.Popen(
        [sys.executable, "-m", "xueji.cli", "audit", "seal", "--batch", "400"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_a_sealer_killed_mid_batch_seals_nothing_and_the_next_seals_all(
    demo_engine, database_url, monkeypatch
):
    monkeypatch.setattr(sealer, "INLINE_ON_SQLITE", False)
    second = second_county(demo_engine)
    queue_entries(demo_engine, 300, (1, second, 1))
    with demo_engine.connect() as conn:
        sealed_before = conn.execute(
            text("SELECT id, hash FROM audit_log WHERE hash IS NOT NULL ORDER BY id")
        ).all()
    proc = start_sealer(database_url, pause=60)
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert "paused after sealing 150 of 300" in line, line + proc.stderr.read()
    proc.send_signal(signal.SIGKILL)  # half its batch updated, nothing committed
    proc.wait(timeout=30)
    assert unsealed_count(demo_engine) == 300
    with demo_engine.connect() as conn:
        assert conn.execute(
            text("SELECT id, hash FROM audit_log WHERE hash IS NOT NULL ORDER BY id")
        ).all() == (sealed_before)
    with session_scope(demo_engine) as session:
        check = verify_chain(session)
    assert check.ok and check.pending == 300
    deadline = time.monotonic() + 60
    while unsealed_count(demo_engine) and time.monotonic() < deadline:  # PostgreSQL ends the killed session
        done = start_sealer(database_url)
        out, err = done.communicate(timeout=120)
        assert done.returncode == 0, err
        time.sleep(0.2)
    assert unsealed_count(demo_engine) == 0
    with session_scope(demo_engine) as session:
        check = verify_chain(session)
    assert check.ok and check.pending == 0, check.reason
    chains_are_gapless(demo_engine)


def tamper(engine: Engine, entry_id: int) -> None:
    """Change an entry's content with the triggers out of the way (as the database's owner could)."""
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_seal_only")
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_delete")
        else:
            conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER USER")
        conn.execute(text("UPDATE audit_log SET detail = '改过' WHERE id = :i"), {"i": entry_id})


def verify_county(capsys, code: str) -> tuple[int, str]:  # noqa: ANN001
    exit_code = xueji_main(["audit", "verify", "--county", code])
    said = capsys.readouterr()
    return exit_code, (said.out + said.err).strip()


def test_a_tampered_entry_fails_its_own_countys_verify_only(demo_engine, use_database, capsys):
    second = second_county(demo_engine)
    queue_entries(demo_engine, 12, (1, second))
    with session_scope(demo_engine) as session:
        seal_all(session)
        demo_code = session.scalar(select(County.code).where(County.id == 1))
        victim = session.scalar(
            select(AuditLog.id).where(AuditLog.chain == second, AuditLog.detail == "q5")
        )  # fmt: skip
    assert verify_county(capsys, COUNTY2_CODE)[0] == 0
    tamper(demo_engine, victim)
    code, said = verify_county(capsys, COUNTY2_CODE)
    assert code == 1 and f"第 {victim} 条记录" in said and "内容与签名不符" in said, said
    code, said = verify_county(capsys, demo_code)
    assert code == 0 and "审计日志完整(县区 1 的链)" in said, said
    code, said = xueji_main(["audit", "verify"]), capsys.readouterr().err
    assert code == 1 and f"第 {victim} 条记录" in said
    assert verify_county(capsys, "999999999999")[0] == 1


def test_an_entry_removed_from_a_chain_is_caught(demo_engine, use_database):
    queue_entries(demo_engine, 6)
    with session_scope(demo_engine) as session:
        seal_all(session)
        middle = session.scalar(select(AuditLog.id).where(AuditLog.detail == "q3"))
        last = session.scalar(select(func.max(AuditLog.id)))
    with demo_engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_delete")
        else:
            conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER USER")
        conn.execute(text("DELETE FROM audit_log WHERE id = :i"), {"i": middle})
    with session_scope(demo_engine) as session:
        check = verify_chain(session)
        assert not check.ok and "缺了第" in check.reason and check.bad_id == middle + 1
        assert not verify_chain(session, chain=1).ok
    with demo_engine.begin() as conn:  # the last one too: its chain's head no longer matches
        conn.execute(text("DELETE FROM audit_log WHERE id >= :i"), {"i": middle})
    with session_scope(demo_engine) as session:
        check = verify_chain(session)
    assert not check.ok and "末尾记录被删除" in check.reason, (check.reason, last)


def test_an_entry_left_unsealed_too_long_fails_verify(demo_engine, use_database, monkeypatch, capsys):
    monkeypatch.setattr(sealer, "INLINE_ON_SQLITE", False)
    queue_entries(demo_engine, 2)
    code = xueji_main(["audit", "verify"])
    said = capsys.readouterr().out
    assert code == 0 and "其中 2 条尚待封存" in said
    later = today() + timedelta(days=1)
    monkeypatch.setenv("XUEJI_TODAY", later.isoformat())  # the clock a day on: the entries waited a day
    get_settings.cache_clear()
    code = xueji_main(["audit", "verify"])
    said = capsys.readouterr().err
    assert code == 1 and "2 条记录尚未封存" in said and "封存器没有运行" in said, said
    assert xueji_main(["audit", "seal"]) == 0 and "已封存 2 条审计记录" in capsys.readouterr().out
    assert xueji_main(["audit", "verify"]) == 0


def test_anchors_hold_each_chains_head_and_old_anchors_still_read(demo_engine, use_database, capsys):
    second = second_county(demo_engine)
    queue_entries(demo_engine, 4, (1, second))
    assert xueji_main(["audit", "anchor"]) == 0
    line = capsys.readouterr().out.strip()
    anchor = audit_anchor.parse(line, 1)
    assert anchor.heads is not None and {h.chain for h in anchor.heads} >= {0, 1, second}
    assert anchor.count == anchor.legacy_count + sum(h.seq for h in anchor.heads)
    old = audit_anchor.parse(
        "xueji-audit-anchor v1 at=2026-11-01T08:00:00+08:00 count=3 last_id=3 head=" + "a" * 64 + " key=-", 1
    )
    assert old.heads is None and old.legacy_count == 3 and old.line().startswith("xueji-audit-anchor v1")
    with pytest.raises(audit_anchor.AnchorFileError):
        audit_anchor.parse(line.replace(f"count={anchor.count}", f"count={anchor.count + 1}"), 1)


def test_the_sealing_settings_refuse_nonsense():
    assert settings_from_env({}).audit_seal_seconds == 1 and settings_from_env({}).audit_seal_max_age == 300
    assert (
        settings_from_env({"XUEJI_AUDIT_SEAL_SECONDS": "0"}).audit_seal_seconds == 0
    )  # no thread: cron only
    for env in (
        {"XUEJI_AUDIT_SEAL_SECONDS": "-1"},
        {"XUEJI_AUDIT_SEAL_SECONDS": "一秒"},
        {"XUEJI_AUDIT_SEAL_SECONDS": "3600"},
        {"XUEJI_AUDIT_SEAL_MAX_AGE": "5"},
        {"XUEJI_AUDIT_SEAL_SECONDS": "100", "XUEJI_AUDIT_SEAL_MAX_AGE": "150"},
    ):
        with pytest.raises(SettingsError):
            settings_from_env(env)


def test_the_background_sealer_starts_only_for_postgresql_once_per_database(database_url, engine):
    if database_url.startswith("sqlite"):
        assert sealer.start_background(database_url) is None  # SQLite's writers seal inline
        return
    stop = sealer.start_background(database_url, seconds=0.05)
    try:
        assert stop is not None and sealer.start_background(database_url, seconds=0.05) is None
        queue_entries(engine, 3)
        deadline = time.monotonic() + 30
        while unsealed_count(engine) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert unsealed_count(engine) == 0
    finally:
        sealer.stop_background(database_url)
