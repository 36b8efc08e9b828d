"""Write locks: writers that must not interleave (two submissions of one request, two 文号 of one township) take
the lock of what they touch, and only that, so that unrelated writers run side by side.

On PostgreSQL each key is a transaction-level advisory lock (released at commit or rollback); keys are taken in
sorted order, so two writers never wait on each other in a circle. SQLite has one writer at a time anyway: there
the first write statement takes the database's write lock, before the caller reads what it will check, so that
its read cannot go stale (a deferred transaction that read first could not then write), and the writers of
this process wait for it in line (xueji.writer_queue).
"""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlmodel import Session

from xueji.writer_queue import wait_in_line

GLOBAL = "global"  # the whole database: only for the rare writer whose check spans every county


def _lock_id(key: str) -> int:
    """A stable signed 64-bit number for a key (advisory locks take a bigint)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


def write_lock(session: Session, *keys: str) -> None:
    """Take the write locks of these keys (e.g. "school:12", "township:3:notice"), in the caller's transaction.
    No key means GLOBAL, a lock shared by every caller that names none (it does not wait for the named ones)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        wait_in_line(connection)  # this process's writers in turn, not SQLite's busy polling
        connection.execute(text("UPDATE app_setting SET value = value WHERE key = 'write_lock'"))
        return
    for key in sorted(set(keys or (GLOBAL,))):
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _lock_id(key)})
