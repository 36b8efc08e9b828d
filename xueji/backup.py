"""Backups while the app runs, and their restore into an empty database.

SQLite: the online backup API copies a consistent snapshot of the file page by page (writers carry on under
WAL); the backup is itself a SQLite database. PostgreSQL: pg_dump's custom format, restored with pg_restore in
one transaction. Each backup is recorded in the audit log first (so the copy holds its own entry); a restore
appends its entry to the restored log, seals what waited in the copy, then verifies the signed chains. The audit key is not in the database,
so not in a backup either: restoring needs the deployment's key (kept and backed up separately), and the
append-only triggers come back with the schema.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect
from sqlmodel import Session

from xueji.audit import ChainCheck, record, seal_all, verify_chain
from xueji.audit.key import require_key
from xueji.auth import Actor
from xueji.config import get_settings
from xueji.db import make_engine, session_scope, unit_of_work
from xueji.services.system.accounts import system_actor


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, in Chinese."""


@dataclass(frozen=True)
class Restored:
    tables: int
    chain: ChainCheck


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("内存数据库无法备份")
    return Path(database)


def _libpq_url(engine: Engine) -> str:
    """The URL as pg_dump and pg_restore take it (no +psycopg)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def pg_tool(name: str) -> str:
    """pg_dump or pg_restore: on the PATH, else the newest installed under /usr/lib/postgresql."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    if not versions:
        raise BackupError(f"未找到 {name}:请安装 PostgreSQL 客户端 (postgresql-client)")
    return str(versions[-1])


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{what}失败:{done.stderr.strip()[-500:]}")


@unit_of_work
def _record(session: Session, *, actor: Actor, action: str, detail: str) -> None:
    record(session, actor=actor, action=action, entity_type="database", detail=detail)
    session.commit()


def backup(engine: Engine, target: Path, *, actor: Actor) -> int:
    """Write a consistent copy of the whole database to target; returns its size in bytes."""
    target = target.resolve()
    if target.exists():
        raise BackupError(f"{target} 已存在;请换一个文件名(备份不覆盖已有文件)")
    target.parent.mkdir(parents=True, exist_ok=True)
    with session_scope(engine) as session:
        _record(session, actor=actor, action="backup", detail=f"备份到 {target}")
        seal_all(session)  # PostgreSQL: the copy holds its entries sealed (later ones wait in the copy)
    if engine.dialect.name == "sqlite":
        partial = target.with_name(target.name + ".part")
        wait = get_settings().sqlite_busy_timeout_ms / 1000
        with sqlite3.connect(_sqlite_path(engine), timeout=wait) as source, sqlite3.connect(partial) as copy:
            source.backup(copy)
        partial.rename(target)  # a backup cut short never looks complete
    else:
        _run([pg_tool("pg_dump"), "--format=custom", f"--file={target}", _libpq_url(engine)], "pg_dump 备份")
    target.chmod(0o600)  # it holds every child's full ID number: readable by the account that made it only
    return target.stat().st_size


def restore(url: str, source: Path) -> Restored:
    """Restore a backup into the empty database at url; then record it and verify the audit chain."""
    if not source.is_file():
        raise BackupError(f"找不到备份文件 {source}")
    require_key()  # the restore's own entry needs it: refuse before anything is written, not after
    engine = make_engine(url)
    if inspect(engine).get_table_names():
        raise BackupError(
            "目标数据库不是空的:恢复只写入新建的空数据库,以免覆盖现有数据。"
            "请新建一个空数据库(或换一个 SQLite 文件名)后再恢复,核对无误后再切换 XUEJI_DATABASE_URL。"
        )
    if engine.dialect.name == "sqlite":
        with sqlite3.connect(source) as backup_file:
            if backup_file.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError(f"{source} 不是完好的 SQLite 备份")
            with sqlite3.connect(_sqlite_path(engine)) as target:
                backup_file.backup(target)
        engine.dispose()
    else:
        _run(
            [pg_tool("pg_restore"), "--no-owner", "--exit-on-error", "--single-transaction",
             f"--dbname={_libpq_url(engine)}", str(source)],
            "pg_restore 恢复",
        )  # fmt: skip
    with session_scope(engine) as session:
        _record(session, actor=system_actor(session), action="restore", detail=f"从 {source} 恢复")
        seal_all(session)  # the entries that were still waiting in the copy, and the restore's own
        chain = verify_chain(session)
    return Restored(len(inspect(engine).get_table_names()), chain)
