"""Reads from a streaming-replication standby (XUEJI_READ_DATABASE_URL) for the read-heavy pages, with each
user reading their own writes: after a commit on the primary the user's session keeps the primary's WAL
position, and a page reads the standby only once it has replayed that far."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from xueji.config import get_settings
from xueji.db import get_engine, make_engine, session_scope

ON_STANDBY = "xueji_on_standby"  # session.info: this session reads from the standby (it cannot write)
_write_listeners: list[Callable[[str], None]] = []


def on_write(listener: Callable[[str], None]) -> None:
    """Call listener with the primary's WAL position after each commit on the primary (when a standby serves
    reads), so the caller can ask the standby to have replayed at least that far."""
    if listener not in _write_listeners:
        _write_listeners.append(listener)


@event.listens_for(OrmSession, "after_commit")
def _after_commit(session: OrmSession) -> None:
    if _write_listeners and get_settings().read_database_url and session.get_bind() is get_engine():
        position = write_position(get_engine())
        for listener in _write_listeners:
            listener(position)


def write_position(engine: Engine) -> str:
    """The primary's current WAL insert position: at or past the end of every transaction committed so far."""
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT pg_current_wal_insert_lsn()::text")).scalar_one())


def read_engine() -> Engine:
    """The engine of the read-only standby if XUEJI_READ_DATABASE_URL is set, else the primary's."""
    url = get_settings().read_database_url
    return make_engine(url) if url else get_engine()


@contextmanager
def read_scope(after: str | None = None) -> Iterator[Session]:
    """A session for a read-heavy page: on the standby when one is configured, once it has replayed the WAL up
    to `after` (the position after this user's last write), waiting at most XUEJI_READ_WAIT_MS; if the standby
    is further behind, or cannot be reached, the page reads from the primary instead."""
    engine = read_engine()
    if engine is not get_engine() and not _caught_up(engine, after):
        engine = get_engine()
    with session_scope(engine) as session:
        session.info[ON_STANDBY] = engine is not get_engine()
        yield session


def writable_bind(session: Session) -> Engine | Connection:
    """Where a write made on behalf of this session goes: its own database, or the primary for a standby's."""
    return get_engine() if session.info.get(ON_STANDBY) else session.get_bind()


def _caught_up(engine: Engine, after: str | None) -> bool:
    deadline = time.monotonic() + get_settings().read_wait_ms / 1000
    query = text("SELECT pg_last_wal_replay_lsn() >= CAST(:after AS pg_lsn)")
    try:
        with engine.connect() as conn:
            while after is not None and not conn.execute(query, {"after": after}).scalar():
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.01)
                conn.rollback()
    except DBAPIError:
        return False
    return True
