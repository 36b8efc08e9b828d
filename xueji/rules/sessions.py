"""When a signed-in session ends: after idle time, after an absolute limit, or when locked."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta


def token_hash(token: str) -> str:
    """What the database keeps of a sign-in token: its SHA-256, never the token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def session_end_reason(
    *, login_at: datetime, last_seen: datetime, now: datetime, idle: timedelta, absolute: timedelta
) -> str | None:
    """Return why the session has ended (Chinese), or None while it is still valid."""
    if now - login_at >= absolute:
        return f"登录已超过 {absolute.total_seconds() / 3600:g} 小时,请重新登录"
    if now - last_seen >= idle:
        return f"超过 {idle.total_seconds() / 60:g} 分钟未操作,已自动退出,请重新登录"
    return None


def lockout_until(
    *, failed_logins: int, now: datetime, max_failures: int, lock: timedelta
) -> datetime | None:
    """Return until when an account is locked after this many consecutive failures, or None."""
    return now + lock if failed_logins >= max_failures else None
