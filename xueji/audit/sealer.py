"""The sealer: gives each audit entry written since the last pass its place in its county's chain.

Writers insert their entries with a keyed signature of the content (mac) and no hash, in their own transaction,
touching no shared row. The sealer takes the queue (entries without a hash, by id: a partial index), and per
chain gives each the next seq, links it to the chain's head (prev_hash) and hashes it (seal_hash), updating the
entries and the heads (audit_chain) in one transaction: a sealer killed mid-batch leaves nothing half-sealed,
the next pass seals the batch again. The queue is "hash IS NULL", not an id watermark, so an entry committed
late (a long transaction, ids taken out of order) is sealed all the same. The first entry of every chain links
to the end of the old global chain (the 'audit_tail' setting), which stays covered.

Who seals: on SQLite, every writer, inline, in its own transaction (SQLite has one writer at a time anyway). On
PostgreSQL, a background thread in each server process (start_background, every XUEJI_AUDIT_SEAL_SECONDS) and
`xueji audit seal` (cron, systemd); an advisory lock lets one seal at a time, the others return at once.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

from sqlalchemy import bindparam, insert, select, text
from sqlmodel import Session

from xueji.audit.hashing import seal_hash
from xueji.audit.key import AuditKey
from xueji.clock import now
from xueji.config import get_settings
from xueji.db import make_engine, session_scope, unit_of_work
from xueji.locks import write_lock
from xueji.models import AppSetting, AuditChain, AuditLog

logger = logging.getLogger(__name__)

TAIL_KEY = "audit_tail"  # the end of the global chain of the entries written before migration 0021
DEFAULT_BATCH = 2000
SEAL_LOCK_ID = 0x7875656A69_5345  # "xuejiSE": the sealers' advisory lock on PostgreSQL
# For tests only: after sealing half its batch, the sealer says so on stderr and sleeps this many seconds (so a
# test can kill it while it holds the batch).
PAUSE_ENV = "XUEJI_AUDIT_SEAL_PAUSE"
# Whether writers on SQLite seal their own entries inline (the default); tests turn it off to queue entries.
INLINE_ON_SQLITE = True
_TABLE = AuditLog.__table__  # type: ignore[attr-defined]
_CHAINS = AuditChain.__table__  # type: ignore[attr-defined]


def seals_inline(session: Session) -> bool:
    return INLINE_ON_SQLITE and session.get_bind().dialect.name == "sqlite"


class Linker:
    """The chains' heads as the sealer moves them forward within one transaction."""

    def __init__(self, session: Session, key: AuditKey) -> None:
        self.session = session
        self.key = key
        self.heads: dict[int, tuple[int, str | None]] = {}
        self.stored: dict[int, int] = {}  # chain → seq of its audit_chain row, for the chains that have one
        self.start: str | None = None
        self.started = False

    def _head(self, chain: int) -> tuple[int, str | None]:
        if chain not in self.heads:
            row = self.session.execute(
                select(_CHAINS.c.seq, _CHAINS.c.hash).where(_CHAINS.c.chain == chain)
            ).first()
            if row is not None:
                self.heads[chain] = (int(row.seq), row.hash)
                self.stored[chain] = int(row.seq)
            else:
                if not self.started:
                    tail = self.session.get(AppSetting, TAIL_KEY)
                    self.start, self.started = (tail.value or None) if tail else None, True
                self.heads[chain] = (0, self.start)
        return self.heads[chain]

    def link(self, chain: int, mac: str) -> dict[str, Any]:
        """The next place in the chain for an entry with this signature: seq, prev_hash, hash."""
        seq, prev = self._head(chain)
        seq += 1
        sealed = seal_hash(self.key, chain, seq, prev, mac)
        self.heads[chain] = (seq, sealed)
        return {"seq": seq, "prev_hash": prev, "hash": sealed}

    def save(self) -> None:
        """Write the moved heads to audit_chain, in the caller's transaction."""
        moved = [(c, s, h) for c, (s, h) in self.heads.items() if s and self.stored.get(c) != s]
        for chain, seq, sealed in moved:
            if chain in self.stored:
                self.session.execute(
                    _CHAINS.update().where(_CHAINS.c.chain == chain).values(seq=seq, hash=sealed)
                )
            else:
                self.session.execute(insert(_CHAINS).values(chain=chain, seq=seq, hash=sealed))
            self.stored[chain] = seq


_SEAL = (
    _TABLE.update()
    .where(_TABLE.c.id == bindparam("b_id"), _TABLE.c.hash.is_(None))
    .values(
        seq=bindparam("b_seq"),
        prev_hash=bindparam("b_prev"),
        hash=bindparam("b_hash"),
        sealed_at=bindparam("b_at"),
    )
)


def _pause(done: int, total: int) -> None:
    seconds = os.environ.get(PAUSE_ENV)
    if seconds:
        print(f"xueji-audit-seal: paused after sealing {done} of {total}", file=sys.stderr, flush=True)
        time.sleep(float(seconds))


def _apply(session: Session, updates: list[dict[str, Any]]) -> None:
    if not updates:
        return
    result = session.execute(_SEAL, updates)
    if session.get_bind().dialect.name == "sqlite" and result.rowcount != len(updates):  # type: ignore[attr-defined]
        raise RuntimeError("审计记录封存时有记录已被封存:封存中止")


def seal_queued(session: Session, linker: Linker, *, limit: int) -> int:
    """Seal up to limit queued entries, oldest id first, in the caller's transaction (which must hold the
    sealer's turn); returns how many."""
    rows = session.execute(
        select(_TABLE.c.id, _TABLE.c.chain, _TABLE.c.mac)
        .where(_TABLE.c.hash.is_(None))
        .order_by(_TABLE.c.id)
        .limit(limit)
    ).all()
    if not rows:
        return 0
    at = now()
    updates = []
    for row in rows:
        if (
            row.mac is None
        ):  # not a writer's entry (an unsealed row of the old chain cannot be): leave it to verify
            raise RuntimeError(f"第 {row.id} 条审计记录没有签名,无法封存:请运行 xueji audit verify")
        linked = linker.link(int(row.chain), row.mac)
        updates.append(
            {
                "b_id": row.id,
                "b_seq": linked["seq"],
                "b_prev": linked["prev_hash"],
                "b_hash": linked["hash"],
                "b_at": at,
            }
        )
    half = len(updates) // 2
    _apply(session, updates[:half])
    _pause(half, len(updates))
    _apply(session, updates[half:])
    linker.save()
    return len(rows)


def seal_new(session: Session, key: AuditKey, entries: Iterable[MutableMapping[str, Any]]) -> None:
    """SQLite's writers: seal their own new entries (dicts of values, before the insert) in their transaction,
    after anything still queued; the caller inserts them and the heads are saved here."""
    write_lock(session)  # one writer at a time holds the chains' heads
    linker = Linker(session, key)
    while seal_queued(session, linker, limit=DEFAULT_BATCH) == DEFAULT_BATCH:
        pass
    at = now()
    for values in entries:
        values.update(linker.link(int(values["chain"]), values["mac"]), sealed_at=at)
    linker.save()


def _take_turn(session: Session) -> bool:
    """The sealer's lock, in the transaction: PostgreSQL's advisory lock (False when another sealer holds it),
    SQLite's write lock (waited for)."""
    if session.get_bind().dialect.name == "sqlite":
        write_lock(session)
        return True
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": SEAL_LOCK_ID}))


@unit_of_work
def seal_pending(session: Session, *, batch: int = DEFAULT_BATCH) -> int:
    """One batch: seal up to batch queued entries and commit; 0 when the queue is empty or another sealer is at
    work (PostgreSQL)."""
    from xueji.audit import signing_key  # noqa: PLC0415 - the package imports this module

    if not _take_turn(session):
        session.rollback()
        return 0
    if session.scalar(select(_TABLE.c.id).where(_TABLE.c.hash.is_(None)).limit(1)) is None:
        session.rollback()
        return 0
    sealed = seal_queued(session, Linker(session, signing_key(session)), limit=batch)
    session.commit()
    return sealed


def seal_all(session: Session, *, batch: int = DEFAULT_BATCH) -> int:
    """Seal until the queue is empty (or another sealer has the turn); returns how many were sealed here."""
    total = 0
    while (sealed := seal_pending(session, batch=batch)) > 0:
        total += sealed
        if sealed < batch:
            break
    return total


def queue(session: Session, *, chain: int | None = None) -> tuple[int, Any]:
    """How many entries wait to be sealed (of one chain, or all), and when the oldest was written."""
    from sqlalchemy import func  # noqa: PLC0415

    query = select(func.count(), func.min(_TABLE.c.at)).where(_TABLE.c.hash.is_(None))
    if chain is not None:
        query = query.where(_TABLE.c.chain == chain)
    count, oldest = session.execute(query).one()
    return int(count or 0), oldest


# --- the background sealer of a PostgreSQL server process ------------------------------------------------------

_started: dict[str, threading.Event] = {}
_guard = threading.Lock()


def _loop(url: str, seconds: float, stop: threading.Event) -> None:
    failures = 0
    while not stop.wait(seconds if failures == 0 else min(60.0, seconds * 2**failures)):
        try:
            with session_scope(make_engine(url)) as session:
                seal_all(session)
            failures = 0
        except Exception:  # keep sealing after a restart of the database, a network hiccup
            failures = min(failures + 1, 6)
            logger.exception("audit sealer: a pass failed (retrying)")


def start_background(url: str | None = None, *, seconds: float | None = None) -> threading.Event | None:
    """Start this process's sealer thread for a PostgreSQL database (once per URL); returns the event that stops
    it, or None when there is nothing to start (SQLite seals inline; XUEJI_AUDIT_SEAL_SECONDS=0 turns it off)."""
    settings = get_settings()
    url = url or settings.database_url
    interval = settings.audit_seal_seconds if seconds is None else seconds
    if not url.startswith("postgres") or interval <= 0:
        return None
    with _guard:
        if url in _started:
            return None
        stop = _started[url] = threading.Event()
    threading.Thread(target=_loop, args=(url, interval, stop), name="xueji-audit-sealer", daemon=True).start()
    return stop


def stop_background(url: str) -> None:
    with _guard:
        stop = _started.pop(url, None)
    if stop is not None:
        stop.set()


def heads(session: Session, chains: Iterable[int] | None = None) -> Mapping[int, tuple[int, str]]:
    """The heads in audit_chain (of these chains, or all)."""
    query = select(_CHAINS.c.chain, _CHAINS.c.seq, _CHAINS.c.hash)
    if chains is not None:
        query = query.where(_CHAINS.c.chain.in_(list(chains)))
    return {int(r.chain): (int(r.seq), r.hash) for r in session.execute(query)}
