"""An import killed in the middle of its write leaves the database exactly as it was, on both databases."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import Engine, select, text

from tests.conftest import ROOT
from xueji.audit import seal_all, verify_chain
from xueji.db import session_scope
from xueji.demo.registry_file import template_rows, template_workbook
from xueji.models import School

TABLES = ("student", "family_member", "school_class", "audit_log", "app_setting", "audit_chain")
KEYS = {"app_setting": "key", "audit_chain": "chain"}


def snapshot(engine: Engine) -> dict[str, str]:
    """Each table's row count and a digest of its ids: any row added, removed or renumbered shows."""
    result = {}
    with engine.connect() as conn:
        for table in TABLES:
            key = KEYS.get(table, "id")
            values = conn.execute(text(f"SELECT {key} FROM {table} ORDER BY {key}")).scalars().all()  # noqa: S608
            result[table] = f"{len(values)}:{hashlib.sha256(repr(values).encode()).hexdigest()[:16]}"
        result["tail"] = conn.execute(text("SELECT value FROM app_setting WHERE key = 'audit_tail'")).scalar()
        result["heads"] = repr(
            conn.execute(text("SELECT chain, seq, hash FROM audit_chain ORDER BY chain")).all()
        )
        result["unsealed"] = conn.execute(text("SELECT count(*) FROM audit_log WHERE hash IS NULL")).scalar()
    return result


def start_import(database_url: str, path: Path) -> subprocess.Popen:
    env = {**os.environ, "XUEJI_DATABASE_URL": database_url, "XUEJI_TODAY": "2026-11-23"}
    return subprocess.Popen(
        [sys.executable, "-m", "xueji.cli", "import", "students", str(path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_killing_the_import_mid_write_leaves_the_database_as_before(demo_engine, database_url, tmp_path):
    with session_scope(demo_engine) as session:
        schools = [(s.code, s.kind) for s in session.scalars(select(School).order_by(School.code))]
    path = tmp_path / "county.xlsx"
    path.write_bytes(template_workbook(list(template_rows(schools, 20000, school_year=2026, seed=5))))
    before = snapshot(demo_engine)
    rng = random.Random(20261123)
    for attempt in range(3):
        proc = start_import(database_url, path)
        assert proc.stderr is not None
        for line in proc.stderr:  # the CLI says when the write transaction begins
            if "正在写入" in line:
                break
        time.sleep(rng.uniform(0.05, 0.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL, (
            f"第{attempt + 1}次:导入在被终止前已结束,测试没有命中写入过程"
        )
        assert snapshot(demo_engine) == before
        if database_url.startswith("sqlite"):
            with demo_engine.connect() as conn:
                assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    with session_scope(demo_engine) as session:
        assert verify_chain(session).ok
        assert seal_all(session) == 0  # nothing of a killed import waits to be sealed either
    # The database is not left locked or half-recovered: the same import now runs to the end.
    finished = start_import(database_url, path)
    _, errors = finished.communicate(timeout=300)
    assert finished.returncode == 0, errors
    assert snapshot(demo_engine)["student"] != before["student"]
