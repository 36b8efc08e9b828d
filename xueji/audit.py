"""The one way writes, reads of sensitive data, logins and denials are recorded: a hash-chained log."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
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
    # Touch the chain's tail row first: on PostgreSQL this row lock, on SQLite the write lock it takes,
    # serialises writers so that two entries never chain to the same predecessor.
    session.execute(update(AppSetting).where(AppSetting.key == TAIL_KEY).values(value=AppSetting.value))
    tail = session.get(AppSetting, TAIL_KEY)
    if tail is None:
        tail = AppSetting(key=TAIL_KEY, value="")
        session.add(tail)
    entry = AuditLog(
        at=now(),
        user_id=actor.user_id if actor else None,
        username=(actor.username if actor else username or "")[:50],
        role=actor.role.value if actor else "",
        scope=actor.scope_label if actor else "",
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        outcome=outcome,
        before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None,
        detail=detail[:500] if detail else None,
        prev_hash=tail.value or None,
    )
    entry.at = _utc_naive(entry.at).replace(tzinfo=UTC)
    entry.hash = entry_hash(entry)
    tail.value = entry.hash
    session.add(entry)
    session.flush()
    return entry


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
