"""The one way writes, reads of sensitive data, logins and denials are recorded: a keyed, chained log.

A writer appends its entry in its own transaction, with `mac`, HMAC-SHA-256(key, its content and its chain), and
waits for no one: no shared row is read or written. The sealer (xueji.audit.sealer) then chains the entries, one
chain per county (chain 0: the deployment's own: the operator, city and province officers), each entry's hash
an HMAC of its chain, its place (seq), the entry before it and its mac; on SQLite the writer seals inline. The
key lives outside the database (xueji.audit.key), so whoever can write to the database cannot sign an entry or
recompute a chain after changing one. Entries from before migration 0021 (mac NULL) are the old global chain,
verified as before (the unkeyed SHA-256 ones first, then the keyed ones), and every county's chain starts from
its end. Triggers refuse every UPDATE but sealing, and every DELETE (migrations 0011, 0021); anchors outside
the database (xueji.audit.anchor) hold each chain's head and catch a chain cut short or a log wiped. Each entry
also records the channel and the client's address (xueji.audit.context).
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from sqlalchemy import func, insert, select
from sqlmodel import Session, col

from xueji.audit import context as audit_context
from xueji.audit import sealer
from xueji.audit.anchor import Anchor, ChainHead
from xueji.audit.hashing import digest, entry_mac, plain, seal_hash, utc_naive
from xueji.audit.key import (
    AuditKey,
    AuditKeyError,
    create_key_file,
    key_file,
    load_key,
    require_key,
)
from xueji.audit.sealer import TAIL_KEY, seal_all, seal_pending
from xueji.auth import Actor
from xueji.clock import now
from xueji.config import get_settings
from xueji.locks import write_lock
from xueji.models import AppSetting, AuditLog, School, Township
from xueji.rules.vocab import Role, ScopeKind

__all__ = [
    "SEAL_ACTION", "TAIL_KEY", "AuditKey", "AuditKeyError", "ChainCheck", "ChainHead", "Entry", "chain_of",
    "create_key_file", "digest", "ensure_key", "entry_mac", "key_file", "key_problem", "load_key",
    "newest_key_id", "record", "record_many", "seal_all", "seal_hash", "seal_legacy_chain", "seal_pending",
    "signing_key", "unsealed", "verify_chain",
]  # fmt: skip

SEAL_ACTION = "audit_seal"
_TABLE = AuditLog.__table__  # type: ignore[attr-defined]


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


# The county of a township or school, per database: a place never moves to another county.
_counties: dict[tuple[str, str, int], int] = {}
_counties_guard = threading.Lock()


def chain_of(session: Session, actor: Actor | None) -> int:
    """The chain an actor's entries go to: their county's id (a township's or school's county; the county a city's
    or province's officer has picked), else 0 (the operator, a city's or province's own scope, no actor)."""
    if actor is None or actor.role is Role.SYSTEM or actor.scope_id is None:
        return 0
    if actor.scope_kind is ScopeKind.COUNTY:
        return actor.scope_id
    if actor.scope_kind not in (ScopeKind.TOWNSHIP, ScopeKind.SCHOOL):
        return 0
    cache_key = (str(session.get_bind().engine.url), actor.scope_kind.value, actor.scope_id)
    county = _counties.get(cache_key)
    if county is None:
        if actor.scope_kind is ScopeKind.TOWNSHIP:
            query = select(Township.county_id).where(Township.id == actor.scope_id)
        else:
            query = (
                select(Township.county_id)
                .join(School, col(School.township_id) == Township.id)
                .where(School.id == actor.scope_id)
            )
        found = session.scalar(query)
        if found is None:
            return 0
        county = int(found)
        with _counties_guard:
            if len(_counties) > 50_000:
                _counties.clear()
            _counties[cache_key] = county
    return county


def _signed(
    session: Session, actor: Actor | None, username: str | None, entries: Iterable[Entry], key: AuditKey
) -> list[dict[str, Any]]:
    """The entries' values, each with its chain and mac, hash NULL (sealed later, or inline on SQLite)."""
    origin = audit_context.current()
    at = utc_naive(now()).replace(tzinfo=UTC)
    chain = chain_of(session, actor)
    signed = []
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
            "before": plain(item.before) if item.before is not None else None,
            "after": plain(item.after) if item.after is not None else None,
            "detail": item.detail[:500] if item.detail else None,
            "prev_hash": None,
            "key_id": key.key_id,
            "channel": origin.channel,
            "client_addr": origin.address,
            "chain": chain,
            "hash": None,
            "seq": None,
            "sealed_at": None,
        }
        values["mac"] = entry_mac(values, key)
        signed.append(values)
    if signed and sealer.seals_inline(session):
        sealer.seal_new(session, key, signed)
    return signed


def _last(session: Session) -> Any:
    return session.execute(
        select(col(AuditLog.id), col(AuditLog.key_id)).order_by(col(AuditLog.id).desc()).limit(1)
    ).first()


def signing_key(session: Session) -> AuditKey:
    """The configured key, if it is the one the log's last entry was signed with (or the log has none yet):
    a log signed on with another key would fork, and every entry before the switch stop verifying. One lookup of
    the newest entry by its primary key, no scan."""
    key = require_key()
    last = _last(session)
    if last is not None and last.key_id is not None and last.key_id != key.key_id:
        raise AuditKeyError(
            f"配置的审计密钥(指纹 {key.key_id},来自{key.source})不是签名此日志的密钥(指纹 {last.key_id}):"
            "为免审计链分叉,拒绝写入。请换回原来的密钥(从单独保存的密钥备份中恢复)。"
        )
    return key


_signing_key = signing_key


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
    item = Entry(action, outcome, entity_type, entity_id, before, after, detail)
    (values,) = _signed(session, actor, username, [item], signing_key(session))  # no key, no write
    entry = AuditLog(**values)
    session.add(entry)
    session.flush()
    return entry


def record_many(session: Session, *, actor: Actor | None, entries: Iterable[Entry]) -> int:
    """Append many entries at once (a bulk import's changes), in order, in the caller's transaction."""
    signed = _signed(session, actor, None, entries, signing_key(session))
    if signed:
        session.execute(insert(AuditLog), signed)
    session.flush()
    return len(signed)


def unsealed(session: Session) -> bool:
    """Whether the log ends with an entry of the unkeyed chain (a database upgraded from before the key)."""
    last = _last(session)
    return last is not None and last.key_id is None


def seal_legacy_chain(session: Session, *, actor: Actor) -> AuditLog | None:
    """When the log ends with entries of the unkeyed chain, append the entry that starts keyed chaining, in the
    caller's transaction; None when there is nothing to seal."""
    key = require_key()
    write_lock(session)
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
    checked: int  # entries checked: the old global chain's, the sealed ones and those waiting to be sealed
    bad_id: int | None = None
    reason: str | None = None
    legacy: int = 0  # entries of the unkeyed SHA-256 chain (before the key), checked as such
    key_id: str | None = None  # the fingerprint of the key checked against
    anchors: int = 0  # anchors checked
    last_anchor: Anchor | None = None
    warnings: tuple[str, ...] = ()
    pending: int = 0  # entries not sealed yet (younger than XUEJI_AUDIT_SEAL_MAX_AGE when ok)
    oldest_pending: float | None = None  # seconds the oldest of them has waited
    heads: tuple[ChainHead, ...] = ()  # each chain's last sealed entry, as verified
    global_chain: int = 0  # entries of the old global chain (before migration 0021)
    global_end: tuple[int, str | None] = (0, None)  # its last entry's id and hash
    chain: int | None = None  # the one chain verified (a county's), None for the whole log
    unanchored: int | None = None  # entries written after the last anchor (None: no anchor)


def _global_rows(session: Session) -> Iterable[Any]:
    query = (
        select(_TABLE).where(_TABLE.c.mac.is_(None)).order_by(_TABLE.c.id).execution_options(yield_per=5000)
    )
    for row in session.execute(query):
        yield row._mapping


def _sealed_rows(session: Session, chain: int | None) -> Iterable[Any]:
    query = select(_TABLE).where(_TABLE.c.mac.is_not(None), _TABLE.c.hash.is_not(None))
    if chain is not None:
        query = query.where(_TABLE.c.chain == chain)
    query = query.order_by(_TABLE.c.chain, _TABLE.c.seq).execution_options(yield_per=5000)
    for row in session.execute(query):
        yield row._mapping


def _pending_rows(session: Session, chain: int | None) -> Iterable[Any]:
    query = select(_TABLE).where(_TABLE.c.hash.is_(None), _TABLE.c.mac.is_not(None))
    if chain is not None:
        query = query.where(_TABLE.c.chain == chain)
    for row in session.execute(query.order_by(_TABLE.c.id).execution_options(yield_per=5000)):
        yield row._mapping


def _entry_problem(row: Mapping[str, Any], key: AuditKey, keyed_seen: bool) -> str | None:
    """An entry of the old global chain: its hash against its content and link."""
    if row["key_id"] is None:
        if keyed_seen:
            return "未以密钥签名,却排在已签名的记录之后(记录被改写成无密钥的 SHA-256 链)"
        if row["hash"] is None or digest(row, None) != row["hash"]:
            return "内容与哈希不符(记录被修改)"
        return None
    if problem := _key_problem(row, key):
        return problem
    if row["hash"] is None or not hmac.compare_digest(digest(row, key), row["hash"]):
        return "内容与签名不符(记录被修改,或有人在没有密钥的情况下重算了哈希)"
    return None


def _key_problem(row: Mapping[str, Any], key: AuditKey) -> str | None:
    if row["key_id"] != key.key_id:
        return (
            f"由另一把密钥(指纹 {row['key_id'] or '无'})签名,当前配置的密钥指纹是 {key.key_id}:"
            "密钥不对(请换回原来的密钥),或记录被伪造"
        )
    return None


def _mac_problem(row: Mapping[str, Any], key: AuditKey) -> str | None:
    """An entry of a county's chain: its signature against its content."""
    if problem := _key_problem(row, key):
        return problem
    if not hmac.compare_digest(entry_mac(row, key), row["mac"]):
        return "内容与签名不符(记录被修改,或有人在没有密钥的情况下重算了签名)"
    return None


def _anchor_problem(anchor: Anchor, row: Mapping[str, Any], position: int) -> str | None:
    if anchor.head != row["hash"]:
        return f"{anchor.label}记下的第 {row['id']} 条记录哈希已变(锚定后日志被改写)"
    if anchor.legacy_count != position:
        return (
            f"{anchor.label}时截至第 {row['id']} 条共 {anchor.legacy_count} 条记录,现在为 {position} 条"
            "(锚定后有记录被删除或插入)"
        )
    return None


def chain_label(chain: int) -> str:
    return "全局链(无县区)" if chain == 0 else f"县区 {chain} 的链"


class _Failed(Exception):
    def __init__(self, bad_id: int | None, reason: str) -> None:
        super().__init__(reason)
        self.bad_id, self.reason = bad_id, reason


@dataclass
class _Walk:
    """What verify has seen so far."""

    key: AuditKey
    checked: int = 0
    legacy: int = 0
    global_chain: int = 0
    global_end: tuple[int, str | None] = (0, None)
    keyed_seen: bool = False
    heads: dict[int, ChainHead] = field(default_factory=dict)


def _walk_global(session: Session, walk: _Walk, anchors: Sequence[Anchor]) -> None:
    """The old global chain (mac NULL), oldest first, against v1 anchors and the v2 anchors' global part."""
    pending: dict[int, list[Anchor]] = {}
    for anchor in anchors:
        if anchor.last_id:
            pending.setdefault(anchor.last_id, []).append(anchor)
    prev: str | None = None
    # The old chain ended at migration 0021: every entry of it comes before the first entry of a county's chain.
    first_new = session.scalar(select(func.min(_TABLE.c.id)).where(_TABLE.c.mac.is_not(None)))
    for row in _global_rows(session):
        if first_new is not None and row["id"] > first_new:
            raise _Failed(row["id"], "未以密钥签名,却排在已签名的记录之后(记录被改写成升级前的旧链)")
        if row["prev_hash"] != prev:
            raise _Failed(row["id"], "与上一条记录的链接不符(记录被删除或插入)")
        if problem := _entry_problem(row, walk.key, walk.keyed_seen):
            raise _Failed(row["id"], problem)
        walk.keyed_seen = walk.keyed_seen or row["key_id"] is not None
        walk.legacy += row["key_id"] is None
        walk.global_chain += 1
        walk.checked += 1
        prev, walk.global_end = row["hash"], (row["id"], row["hash"])
        for anchor in pending.pop(row["id"], ()):
            if problem := _anchor_problem(anchor, row, walk.global_chain):
                raise _Failed(row["id"], problem)
    tail = session.get(AppSetting, TAIL_KEY)
    if tail is None and walk.global_chain:
        raise _Failed(None, "升级前的全局链没有链尾记录(链尾被删除,或记录是伪造后插入的)")
    if tail is not None and (tail.value or None) != prev:
        raise _Failed(None, "升级前的全局链最后一条记录与链尾不符(末尾记录被删除或插入)")
    if walk.legacy and not walk.keyed_seen and first_new is None:
        raise _Failed(
            walk.global_end[0],
            f"全部 {walk.legacy} 条记录都是无密钥的 SHA-256 链,没有一条以密钥签名:刚升级的数据库请运行 xueji init;"
            "否则日志已被整体改写",
        )
    if pending:
        anchor = min((a for group in pending.values() for a in group), key=lambda a: a.line_no)
        raise _Failed(
            anchor.last_id,
            f"{anchor.label}记下的第 {anchor.last_id} 条记录(当时共 {anchor.legacy_count} 条)已不存在,"
            f"现在只有 {walk.global_chain} 条:日志末尾被截断,或整个日志被清空",
        )


def _walk_chains(session: Session, walk: _Walk, chain: int | None, anchors: Sequence[Anchor]) -> None:
    """Every sealed entry, chain by chain in seq order: place, link, seal hash, signature; then the anchors' and
    audit_chain's heads."""
    start = session.get(AppSetting, TAIL_KEY)
    first_prev = (start.value or None) if start is not None else None
    wanted: dict[tuple[int, int], list[tuple[Anchor, str]]] = {}
    for anchor in anchors:
        for head in anchor.heads or ():
            if chain is None or head.chain == chain:
                wanted.setdefault((head.chain, head.seq), []).append((anchor, head.hash))
    current: int | None = None
    seq, prev = 0, first_prev
    for row in _sealed_rows(session, chain):
        if row["chain"] != current:
            current, seq, prev = row["chain"], 0, first_prev
        where = chain_label(row["chain"])
        if row["seq"] != seq + 1:
            raise _Failed(row["id"], f"{where}的第 {row['seq']} 条记录之前缺了第 {seq + 1} 条(记录被删除)")
        if row["prev_hash"] != prev:
            raise _Failed(row["id"], f"与{where}上一条记录的链接不符(记录被删除、插入或替换)")
        if problem := _mac_problem(row, walk.key):
            raise _Failed(row["id"], problem)
        if not hmac.compare_digest(
            seal_hash(walk.key, row["chain"], row["seq"], prev, row["mac"]), row["hash"]
        ):
            raise _Failed(
                row["id"], f"在{where}中的位置与封存哈希不符(记录被挪动,或有人在没有密钥的情况下重算了哈希)"
            )
        seq, prev = row["seq"], row["hash"]
        walk.heads[row["chain"]] = ChainHead(row["chain"], seq, prev)
        walk.keyed_seen = True
        walk.checked += 1
        for anchor, hashed in wanted.pop((row["chain"], seq), ()):
            if hashed != row["hash"]:
                raise _Failed(
                    row["id"], f"{anchor.label}记下的{where}第 {seq} 条记录哈希已变(锚定后日志被改写)"
                )
    stored = sealer.heads(session, None if chain is None else [chain])
    for number in sorted(set(stored) | set(walk.heads)):
        have = walk.heads.get(number)
        if number not in stored:
            raise _Failed(
                have.seq if have else None, f"{chain_label(number)}没有链头记录(audit_chain 被改动)"
            )
        head_seq, head_hash = stored[number]
        if have is None or (have.seq, have.hash) != (head_seq, head_hash):
            raise _Failed(
                None,
                f"{chain_label(number)}的最后一条记录与链头(第 {head_seq} 条)不符"
                f"(现在到第 {have.seq if have else 0} 条:末尾记录被删除)",
            )
    if wanted:
        (number, at), found = min(wanted.items(), key=lambda item: item[1][0][0].line_no)
        anchor = found[0][0]
        have_seq = walk.heads[number].seq if number in walk.heads else 0
        raise _Failed(
            None,
            f"{anchor.label}记下的{chain_label(number)}第 {at} 条记录已不存在,现在只到第 {have_seq} 条:"
            "链的末尾被截断,或整个日志被清空",
        )


def _walk_pending(session: Session, walk: _Walk, chain: int | None) -> tuple[int, float | None]:
    """The entries not sealed yet: their signatures; too old a wait fails."""
    count, oldest = 0, None
    moment = now()
    for row in _pending_rows(session, chain):
        if problem := _mac_problem(row, walk.key):
            raise _Failed(row["id"], problem)
        at = row["at"] if row["at"].tzinfo else row["at"].replace(tzinfo=UTC)
        waited = (moment - at).total_seconds()
        oldest = waited if oldest is None else max(oldest, waited)
        count += 1
        walk.checked += 1
        walk.keyed_seen = True
    limit = get_settings().audit_seal_max_age
    if oldest is not None and oldest > limit:
        raise _Failed(
            None,
            f"有 {count} 条记录尚未封存,最早的已等待 {oldest:.0f} 秒(上限 {limit} 秒):封存器没有运行"
            "(PostgreSQL:检查服务器进程或 xueji-audit-seal 定时任务,可手动运行 xueji audit seal)",
        )
    return count, oldest


def _unanchored(walk: _Walk, last: Anchor | None, pending: int, chain: int | None) -> int | None:
    if last is None:
        return None
    if last.heads is None:  # a v1 anchor: every entry after its global chain's count
        return walk.checked - last.count
    anchored = {h.chain: h.seq for h in last.heads}
    after = sum(h.seq - anchored.get(c, 0) for c, h in walk.heads.items())
    if chain is None:
        after += walk.global_chain - last.legacy_count
    return after + pending


def verify_chain(
    session: Session, *, anchors: Sequence[Anchor] | None = None, chain: int | None = None
) -> ChainCheck:
    """Recompute every entry's signature, place and link, chain by chain, and hold the log against the anchors
    (when given): report the first entry that does not fit, or the first anchor the log no longer reaches, or
    entries left unsealed too long. chain: one county's chain alone (counties verify independently); the old
    global chain is then not walked. Needs the key."""
    try:
        key = require_key()
    except AuditKeyError as exc:
        return ChainCheck(False, 0, None, str(exc))
    given = list(anchors or ())
    walk = _Walk(key)
    try:
        if chain is None:
            _walk_global(session, walk, given)
        _walk_chains(session, walk, chain, given)
        pending, oldest = _walk_pending(session, walk, chain)
    except _Failed as failed:
        return ChainCheck(
            False, walk.checked, failed.bad_id, failed.reason, walk.legacy, key.key_id, chain=chain
        )
    last_anchor = max(given, key=lambda a: a.line_no) if given else None
    return ChainCheck(
        True, walk.checked, None, None, walk.legacy, key.key_id, len(given), last_anchor, (), pending, oldest,
        tuple(sorted(walk.heads.values(), key=lambda h: h.chain)), walk.global_chain, walk.global_end, chain,
        _unanchored(walk, last_anchor, pending, chain),
    )  # fmt: skip
