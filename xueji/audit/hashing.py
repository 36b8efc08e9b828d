"""What an audit entry's hashes are computed over: the canonical JSON of its content, and the keyed HMACs.

Three kinds of entry, by what they carry:
- the unkeyed chain (key_id NULL, before migration 0011): hash = SHA-256 of the content and prev_hash;
- the keyed global chain (mac NULL, 0011 to 0020): hash = HMAC of the content and prev_hash;
- a county's chain (0021 on): mac = HMAC of the content (its chain included), written by the writer; the sealer
  then adds hash = HMAC of (chain, seq, prev_hash, mac). Different prefixes keep the two HMACs apart.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from xueji.audit.key import AuditKey, AuditKeyError

SHA256_FIELDS = (
    "user_id", "username", "role", "scope", "action", "entity_type", "entity_id", "outcome", "before", "after",
    "detail", "prev_hash",
)  # fmt: skip
KEYED_FIELDS = (*SHA256_FIELDS, "key_id", "channel", "client_addr")
MAC_FIELDS = (*(f for f in KEYED_FIELDS if f != "prev_hash"), "chain")
_MAC_PREFIX = b"xueji audit entry v2\0"
_SEAL_PREFIX = b"xueji audit seal v2\0"


def plain(value: Any) -> Any:
    """Turn a value into JSON-native data, so the stored entry hashes the same after a round trip."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def utc_naive(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at


def canonical(values: Mapping[str, Any], fields: Sequence[str]) -> bytes:
    content = {name: values[name] for name in fields}
    content["at"] = utc_naive(values["at"]).isoformat(timespec="microseconds")
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def digest(values: Mapping[str, Any], key: AuditKey | None) -> str:
    """The hash of an entry of the global chain (before 0021): HMAC-SHA-256 with the key for a keyed entry,
    plain SHA-256 for one of the unkeyed chain."""
    if values["key_id"] is None:
        return hashlib.sha256(canonical(values, SHA256_FIELDS)).hexdigest()
    if key is None:
        raise AuditKeyError("没有审计密钥,无法计算签名")
    return hmac.new(key.secret, canonical(values, KEYED_FIELDS), hashlib.sha256).hexdigest()


def entry_mac(values: Mapping[str, Any], key: AuditKey) -> str:
    """The writer's signature of an entry's content (chain included, its place in the chain not)."""
    return hmac.new(key.secret, _MAC_PREFIX + canonical(values, MAC_FIELDS), hashlib.sha256).hexdigest()


def seal_hash(key: AuditKey, chain: int, seq: int, prev_hash: str | None, mac: str) -> str:
    """The sealer's hash of an entry at its place: chain, position, the entry before it, and its signature."""
    link = json.dumps([chain, seq, prev_hash, mac], separators=(",", ":")).encode()
    return hmac.new(key.secret, _SEAL_PREFIX + link, hashlib.sha256).hexdigest()
