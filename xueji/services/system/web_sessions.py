"""Signed-in browsers: the server side of the sign-in cookie.

The cookie holds a random token; the database keeps only its SHA-256, with the user, when the session began and
when it was last active. Every replica reads the same rows, so a reload, a reconnection after the phone switched
apps, or a new tab of the same browser finds the session again; signing out and the idle and absolute limits end
it (ended_at) for every tab and replica at once. Each end is audited as a sign-out with its reason."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, select

from xueji.audit import record
from xueji.auth import Actor
from xueji.clock import now
from xueji.config import get_settings
from xueji.db import unit_of_work
from xueji.models import AppUser, WebSession
from xueji.rules.sessions import session_end_reason, token_hash
from xueji.services.system import accounts

COOKIE = "xueji_session"
TOKEN_BYTES = 32
# Activity is written at most this often (or a 30th of the idle limit, if shorter: the limit is kept to within
# about 3 %): a page's every rerun would otherwise be a write.
TOUCH_EVERY = timedelta(seconds=60)
KEEP_ENDED = timedelta(days=30)  # a user's old session rows are removed this long after their limit
SIGNED_OUT = "退出"
DISABLED = "账号已被停用"
RESET = "密码已被重置,请用新发放的一次性密码重新登录"
PASSWORD_CHANGED = accounts.PASSWORD_CHANGED


@dataclass(frozen=True)
class Resumed:
    """A live session: its user, whether they must change their password first, and when it began."""

    actor: Actor
    must_change_password: bool
    started_at: datetime


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


@unit_of_work
def open_session(session: Session, *, user_id: int, client_addr: str | None = None) -> str:
    """Start a session for a user who has just signed in; return the token for the cookie (never stored)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    at = now()
    kept = timedelta(hours=get_settings().session_limit_hours) + KEEP_ENDED
    session.execute(  # this user's sessions long over: the audit log keeps their sign-ins and sign-outs
        delete(WebSession).where(WebSession.user_id == user_id, WebSession.created_at < at - kept)
    )
    session.add(
        WebSession(
            token_hash=token_hash(token),
            user_id=user_id,
            created_at=at,
            last_seen_at=at,
            client_addr=client_addr,
        )
    )
    session.commit()
    return token


def _find(session: Session, token: str | None) -> WebSession | None:
    if not token or len(token) > 200:
        return None
    return session.scalar(select(WebSession).where(WebSession.token_hash == token_hash(token)))


def end_reason(web: WebSession, at: datetime) -> str | None:
    """Why this session is over (ended, idle too long, signed in too long), or None while it is live."""
    if web.ended_at is not None:
        return web.end_reason or SIGNED_OUT
    settings = get_settings()
    return session_end_reason(
        login_at=_aware(web.created_at),
        last_seen=_aware(web.last_seen_at),
        now=at,
        idle=timedelta(minutes=settings.idle_timeout_minutes),
        absolute=timedelta(hours=settings.session_limit_hours),
    )


@unit_of_work
def _end(session: Session, web_id: int, reason: str) -> None:
    """End a live session (once, even when two tabs or replicas race to end it) and audit the sign-out, in one
    write transaction of its own."""
    ended = session.execute(
        update(WebSession)
        .where(WebSession.id == web_id, WebSession.ended_at.is_(None))  # type: ignore[union-attr]
        .values(ended_at=now(), end_reason=reason[:100])
    )
    user_id = session.scalar(select(WebSession.user_id).where(WebSession.id == web_id))
    user = session.get(AppUser, user_id) if ended.rowcount else None  # type: ignore[attr-defined]
    if user is not None:  # a disabled account's sign-out is audited too
        record(session, actor=accounts.actor_of(user), action="logout", entity_type="user", entity_id=user.id,
               detail=reason)  # fmt: skip
    session.commit()


@unit_of_work
def _touch(session: Session, web_id: int, at: datetime) -> None:
    session.execute(update(WebSession).where(WebSession.id == web_id).values(last_seen_at=at))
    session.commit()


def _over(session: Session, web: WebSession, at: datetime) -> str | None:
    """Why this session must end now (a limit passed, the account disabled, its password reset), or None."""
    if reason := end_reason(web, at):
        return reason
    user = session.get(AppUser, web.user_id)
    if user is None or not user.is_active:
        return DISABLED
    reset_at = user.password_changed_at
    if user.must_change_password and reset_at is not None and _aware(reset_at) > _aware(web.created_at):
        return RESET  # a one-time password issued since: whoever held this session is out
    return None


def resume(session: Session, *, token: str | None, active: bool = True) -> Resumed | str | None:
    """The live session of this token: a Resumed, or the Chinese reason it has ended, or None for no session.

    Reading is a plain read; a session found over (a limit passed, account disabled, password reset) is ended
    and audited, and an active request (a full run of the app, not a timer) is recorded as activity at most once
    a minute, each in a write transaction of its own (SQLite: BEGIN IMMEDIATE, retried), never by upgrading the
    read."""
    web = _find(session, token)
    if web is None:
        return None
    at = now()
    reason = _over(session, web, at)
    web_id, ended, last_seen, started = web.id, web.ended_at, _aware(web.last_seen_at), _aware(web.created_at)
    user = session.get(AppUser, web.user_id)
    resumed = (
        None
        if reason or user is None
        else Resumed(accounts.actor_of(user), user.must_change_password, started)
    )
    session.rollback()  # the read ends here: a write below begins its own transaction
    assert web_id is not None
    if reason:
        if ended is None:
            _end(session, web_id, reason)
        return reason
    idle = timedelta(minutes=get_settings().idle_timeout_minutes)
    if active and at - last_seen >= min(TOUCH_EVERY, idle / 30):
        _touch(session, web_id, at)
    return resumed


def is_live(session: Session, *, token: str | None) -> bool:
    """Whether the token names a live session, changing nothing (the sign-in redirect asks this)."""
    web = _find(session, token)
    return web is not None and end_reason(web, now()) is None


def end(session: Session, *, token: str | None, reason: str = SIGNED_OUT) -> None:
    """Sign this session out everywhere (every tab and replica of this browser)."""
    web = _find(session, token)
    web_id = web.id if web is not None and web.ended_at is None else None
    session.rollback()
    if web_id is not None:
        _end(session, web_id, reason)


def expire(session: Session, *, token: str | None) -> None:
    """End (and audit) a session found over when its browser comes back to sign in: one left idle with no tab
    open would otherwise never be recorded as ended."""
    web = _find(session, token)
    reason = _over(session, web, now()) if web is not None and web.ended_at is None else None
    web_id = web.id if web is not None else None
    session.rollback()
    if reason and web_id is not None:
        _end(session, web_id, reason)
