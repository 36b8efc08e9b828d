"""The one way writes, reads of sensitive data, logins and denials are recorded: an HMAC-chained log.

Each entry carries HMAC-SHA-256(key, its content and the previous entry's hash); the key lives outside the
database (xueji.audit.key), so whoever can write to the database cannot recompute the chain after changing an
entry. Entries written before the chain was keyed (key_id NULL) stay as they were, plain SHA-256; they may only
come first, and the first keyed entry chains to their head, so they stay covered. Triggers refuse UPDATE and
DELETE on the table (migration 0011); anchors outside the database (xueji.audit.anchor) catch a log cut short
or wiped. Each entry also records the channel and the client's address (xueji.audit.context).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlmodel import Session, col

from xueji.audit import context as audit_context
from xueji.audit.anchor import Anchor
from xueji.audit.key import (
    AuditKey,
    AuditKeyError,
    create_key_file,
    key_file,
    load_key,
    require_key,
)
from xueji.auth import Actor
from xueji.clock import now
from xueji.models import AppSetting, AuditLog

TAIL_KEY = "audit_tail"
SEAL_ACTION = "audit_seal"
_TABLE = AuditLog.__table__  # type: ignore[attr-defined]
_SHA256_FIELDS = (
    "user_id", "username", "role", "scope", "action", "entity_type", "entity_id", "outcome", "before", "after",
    "detail", "prev_hash",
)  # fmt: skip
_KEYED_FIELDS = (*_SHA256_FIELDS, "key_id", "channel", "client_addr")


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


def _canonical(values: Mapping[str, Any], fields: Sequence[str]) -> bytes:
    content = {name: values[name] for name in fields}
    content["at"] = _utc_naive(values["at"]).isoformat(timespec="microseconds")
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def digest(values: Mapping[str, Any], key: AuditKey | None) -> str:
    """The entry's hash: HMAC-SHA-256 with the key for a keyed entry, plain SHA-256 for one of the old chain."""
    if values["key_id"] is None:
        return hashlib.sha256(_canonical(values, _SHA256_FIELDS)).hexdigest()
    if key is None:
        raise AuditKeyError("没有审计密钥,无法计算签名")
    return hmac.new(key.secret, _canonical(values, _KEYED_FIELDS), hashlib.sha256).hexdigest()


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
    # serialises writers so that two entries never chain to the same predecessor (and ids follow commit order).
    session.execute(update(AppSetting).where(AppSetting.key == TAIL_KEY).values(value=AppSetting.value))
    tail = session.get(AppSetting, TAIL_KEY)
    if tail is None:
        tail = AppSetting(key=TAIL_KEY, value="")
        session.add(tail)
    return tail


def _chained(
    actor: Actor | None, username: str | None, entries: Iterable[Entry], tail: AppSetting, key: AuditKey
) -> list[dict[str, Any]]:
    origin = audit_context.current()
    at = _utc_naive(now()).replace(tzinfo=UTC)
    chained = []
    for item in entries:
        values: dict[str, Any] = {
            "at": at,
            "user_id": actor.user_id if actor else None,
            "username": (actor.username if actor else username or "")[:50],
            "role": actor.role.value if actor else "",
            "scope": actor.scope_label if actor else "",
            "action": item.action,
            "entity_type": item.entity_type,
            "entity_id": None if item.entity_id is None else str(item.entity_id),
            "outcome": item.outcome,
            "before": _plain(item.before) if item.before is not None else None,
            "after": _plain(item.after) if item.after is not None else None,
            "detail": item.detail[:500] if item.detail else None,
            "prev_hash": tail.value or None,
            "key_id": key.key_id,
            "channel": origin.channel,
            "client_addr": origin.address,
        }
        values["hash"] = digest(values, key)
        tail.value = values["hash"]
        chained.append(values)
    return chained


def _last(session: Session) -> Any:
    return session.execute(
        select(col(AuditLog.id), col(AuditLog.key_id)).order_by(col(AuditLog.id).desc()).limit(1)
    ).first()


def _signing_key(session: Session) -> AuditKey:
    """The configured key, if it is the one the log's last entry was signed with (or the log has none yet):
    a chain signed on with another key would fork, and every entry before the switch stop verifying."""
    key = require_key()
    last = _last(session)
    if last is not None and last.key_id is not None and last.key_id != key.key_id:
        raise AuditKeyError(
            f"配置的审计密钥(指纹 {key.key_id},来自{key.source})不是签名此日志的密钥(指纹 {last.key_id}):"
            "为免审计链分叉,拒绝写入。请换回原来的密钥(从单独保存的密钥备份中恢复)。"
        )
    return key


def key_problem(session: Session) -> str | None:
    """Why no audit entry can be written now (no key, an unusable one, not the log's), or None."""
    try:
        _signing_key(session)
    except AuditKeyError as exc:
        return str(exc)
    return None


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
    (values,) = _chained(actor, username, [item], tail, _signing_key(session))  # no key, no write
    entry = AuditLog(**values)
    session.add(entry)
    session.flush()
    return entry


def record_many(session: Session, *, actor: Actor | None, entries: Iterable[Entry]) -> int:
    """Append many entries at once (a bulk import's changes), chained in order, in the caller's transaction."""
    tail = lock_tail(session)
    chained = _chained(actor, None, entries, tail, _signing_key(session))
    if chained:
        session.execute(insert(AuditLog), chained)
    session.flush()
    return len(chained)


def unsealed(session: Session) -> bool:
    """Whether the log ends with an entry of the unkeyed chain (a database upgraded from before the key)."""
    last = _last(session)
    return last is not None and last.key_id is None


def seal_legacy_chain(session: Session, *, actor: Actor) -> AuditLog | None:
    """When the log ends with entries of the unkeyed chain, append the entry that starts keyed chaining, in the
    caller's transaction; None when there is nothing to seal."""
    key = require_key()
    lock_tail(session)
    last = _last(session)
    if last is None or last.key_id is not None:
        return None
    legacy = session.scalar(select(func.count()).select_from(AuditLog)) or 0
    return record(
        session,
        actor=actor,
        action=SEAL_ACTION,
        entity_type="audit_log",
        entity_id=last.id,
        detail=f"审计日志自此以密钥签名(密钥指纹 {key.key_id});此前 {legacy} 条为升级前的 SHA-256 链,仍按 SHA-256 校验",
    )


def newest_key_id(session: Session) -> str | None:
    """The key id of the newest keyed entry, or None when no entry was ever signed with a key."""
    return session.scalar(
        select(col(AuditLog.key_id))
        .where(col(AuditLog.key_id).is_not(None))
        .order_by(col(AuditLog.id).desc())
        .limit(1)
    )


def ensure_key(session: Session) -> tuple[AuditKey, bool]:
    """The key, and whether it was created now: for `xueji init` and `xueji demo` only. A key file is created
    (mode 600) only when there is no key and no entry was ever signed; a lost key is never replaced."""
    key = load_key()
    if key is not None:
        return key, False
    signed_with = newest_key_id(session)
    if signed_with:
        raise AuditKeyError(
            f"审计日志已由密钥(指纹 {signed_with})签名,但找不到这把密钥({key_file()} 或 XUEJI_AUDIT_KEY)。"
            "请从单独保存的密钥备份中恢复;系统不会新建密钥,否则此前的记录将全部无法校验。"
        )
    return create_key_file(), True


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    checked: int
    bad_id: int | None = None
    reason: str | None = None
    legacy: int = 0  # entries of the unkeyed SHA-256 chain (before the key), checked as such
    key_id: str | None = None  # the fingerprint of the key checked against
    anchors: int = 0  # anchors checked
    last_anchor: Anchor | None = None
    warnings: tuple[str, ...] = ()


def _rows(session: Session) -> Iterable[Any]:
    query = select(_TABLE).order_by(_TABLE.c.id).execution_options(yield_per=5000)
    for row in session.execute(query):
        yield row._mapping


def _entry_problem(row: Mapping[str, Any], key: AuditKey, keyed_seen: bool) -> str | None:
    if row["key_id"] is None:
        if keyed_seen:
            return "未以密钥签名,却排在已签名的记录之后(记录被改写成无密钥的 SHA-256 链)"
        if digest(row, None) != row["hash"]:
            return "内容与哈希不符(记录被修改)"
        return None
    if row["key_id"] != key.key_id:
        return (
            f"由另一把密钥(指纹 {row['key_id']})签名,当前配置的密钥指纹是 {key.key_id}:"
            "密钥不对(请换回原来的密钥),或记录被伪造"
        )
    if not hmac.compare_digest(digest(row, key), row["hash"]):
        return "内容与签名不符(记录被修改,或有人在没有密钥的情况下重算了哈希)"
    return None


def _anchor_problem(anchor: Anchor, row: Mapping[str, Any], position: int) -> str | None:
    if anchor.head != row["hash"]:
        return f"{anchor.label}记下的第 {row['id']} 条记录哈希已变(锚定后日志被改写)"
    if anchor.count != position:
        return (
            f"{anchor.label}时截至第 {row['id']} 条共 {anchor.count} 条记录,现在为 {position} 条"
            "(锚定后有记录被删除或插入)"
        )
    return None


def verify_chain(session: Session, *, anchors: Sequence[Anchor] | None = None) -> ChainCheck:
    """Recompute every entry's hash and link, oldest first, and hold the log against the anchors (when given):
    report the first entry that does not fit, or the first anchor the log no longer reaches. Needs the key."""
    try:
        key = require_key()
    except AuditKeyError as exc:
        return ChainCheck(False, 0, None, str(exc))
    pending: dict[int, list[Anchor]] = {}
    for anchor in anchors or ():
        pending.setdefault(anchor.last_id, []).append(anchor)
    pending.pop(0, None)  # anchored while the log was empty: nothing to hold against
    prev: str | None = None
    checked = legacy = 0
    keyed_seen = False

    def failed(bad_id: int | None, reason: str) -> ChainCheck:
        return ChainCheck(False, checked, bad_id, reason, legacy, key.key_id)

    last_id = None
    for row in _rows(session):
        if row["prev_hash"] != prev:
            return failed(row["id"], "与上一条记录的链接不符(记录被删除或插入)")
        if problem := _entry_problem(row, key, keyed_seen):
            return failed(row["id"], problem)
        keyed_seen = keyed_seen or row["key_id"] is not None
        legacy += row["key_id"] is None
        prev, last_id = row["hash"], row["id"]
        checked += 1
        for anchor in pending.pop(row["id"], ()):
            if problem := _anchor_problem(anchor, row, checked):
                return failed(row["id"], problem)
    tail = session.get(AppSetting, TAIL_KEY)
    if tail is not None and (tail.value or None) != prev:
        return failed(None, "最后一条记录与链尾不符(末尾记录被删除)")
    if legacy and not keyed_seen:
        return failed(
            last_id,
            f"全部 {legacy} 条记录都是无密钥的 SHA-256 链,没有一条以密钥签名:刚升级的数据库请运行 xueji init;"
            "否则日志已被整体改写",
        )
    if pending:
        anchor = min((a for group in pending.values() for a in group), key=lambda a: a.line_no)
        return failed(
            anchor.last_id,
            f"{anchor.label}记下的第 {anchor.last_id} 条记录(当时共 {anchor.count} 条)已不存在,"
            f"现在只有 {checked} 条:日志末尾被截断,或整个日志被清空",
        )
    given = list(anchors or ())
    last_anchor = max(given, key=lambda a: a.line_no) if given else None
    return ChainCheck(True, checked, None, None, legacy, key.key_id, len(given), last_anchor)
