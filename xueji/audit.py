"""The one way writes, reads of sensitive data, logins and denials are recorded: a hash-chained log."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, update
from sqlmodel import Session

from xueji.auth import Actor
from xueji.clock import now
from xueji.models import AppSetting, AuditLog

TAIL_KEY = "audit_tail"


def _plain(value: Any) -> Any:
    """Turn a value into JSON-native data, so the stored entry hashes the same after a round trip."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _utc_naive(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at


def entry_hash(entry: AuditLog) -> str:
    """Return the SHA-256 of the entry's content and the hash of the entry before it."""
    content = {
        "at": _utc_naive(entry.at).isoformat(timespec="microseconds"),
        "user_id": entry.user_id,
        "username": entry.username,
        "role": entry.role,
        "scope": entry.scope,
        "action": entry.action,
        "entity_type": entry.entity_type,
        "entity_id": entry.entity_id,
        "outcome": entry.outcome,
        "before": entry.before,
        "after": entry.after,
        "detail": entry.detail,
        "prev_hash": entry.prev_hash,
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    """What one audit entry says; the chain fields are filled in when it is appended."""

    action: str
    outcome: str = "success"
    entity_type: str | None = None
    entity_id: object = None
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    detail: str | None = None


def lock_tail(session: Session) -> AppSetting:
    # Touch the chain's tail row first: on PostgreSQL this row lock, on SQLite the write lock it takes,
    # serialises writers so that two entries never chain to the same predecessor.
    session.execute(update(AppSetting).where(AppSetting.key == TAIL_KEY).values(value=AppSetting.value))
    tail = session.get(AppSetting, TAIL_KEY)
    if tail is None:
        tail = AppSetting(key=TAIL_KEY, value="")
        session.add(tail)
    return tail


def _chained(
    actor: Actor | None, username: str | None, entries: Iterable[Entry], tail: AppSetting
) -> list[AuditLog]:
    at = _utc_naive(now()).replace(tzinfo=UTC)
    chained = []
    for item in entries:
        entry = AuditLog(
            at=at,
            user_id=actor.user_id if actor else None,
            username=(actor.username if actor else username or "")[:50],
            role=actor.role.value if actor else "",
            scope=actor.scope_label if actor else "",
            action=item.action,
            entity_type=item.entity_type,
            entity_id=None if item.entity_id is None else str(item.entity_id),
            outcome=item.outcome,
            before=_plain(item.before) if item.before is not None else None,
            after=_plain(item.after) if item.after is not None else None,
            detail=item.detail[:500] if item.detail else None,
            prev_hash=tail.value or None,
        )
        entry.hash = entry_hash(entry)
        tail.value = entry.hash
        chained.append(entry)
    return chained


def record(
    session: Session,
    *,
    actor: Actor | None,
    action: str,
    outcome: str = "success",
    entity_type: str | None = None,
    entity_id: object = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    detail: str | None = None,
    username: str | None = None,
) -> AuditLog:
    """Append an entry in the caller's transaction; it commits or rolls back with the change it records."""
    tail = lock_tail(session)
    item = Entry(action, outcome, entity_type, entity_id, before, after, detail)
    (entry,) = _chained(actor, username, [item], tail)
    session.add(entry)
    session.flush()
    return entry


def record_many(session: Session, *, actor: Actor | None, entries: Iterable[Entry]) -> int:
    """Append many entries at once (a bulk import's changes), chained in order, in the caller's transaction."""
    tail = lock_tail(session)
    chained = _chained(actor, None, entries, tail)
    if chained:
        columns = [c.name for c in AuditLog.__table__.columns if c.name != "id"]  # type: ignore[attr-defined]
        session.execute(insert(AuditLog), [{c: getattr(e, c) for c in columns} for e in chained])
    session.flush()
    return len(chained)


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    checked: int
    bad_id: int | None = None
    reason: str | None = None


def verify_chain(session: Session) -> ChainCheck:
    """Recompute every entry's hash and link, oldest first; report the first entry that does not fit."""
    prev: str | None = None
    checked = 0
    for entry in session.scalars(select(AuditLog).order_by(AuditLog.id).execution_options(yield_per=2000)):
        if entry.prev_hash != prev:
            return ChainCheck(False, checked, entry.id, "与上一条记录的链接不符(记录被删除或插入)")
        if entry_hash(entry) != entry.hash:
            return ChainCheck(False, checked, entry.id, "内容与哈希不符(记录被修改)")
        prev = entry.hash
        checked += 1
    tail = session.get(AppSetting, TAIL_KEY)
    if tail is not None and (tail.value or None) != prev:
        return ChainCheck(False, checked, None, "最后一条记录与链尾不符(末尾记录被删除)")
    return ChainCheck(True, checked)
