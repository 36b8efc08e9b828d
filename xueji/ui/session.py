"""The signed-in user of this browser session: sign-in, timeouts, sign-out. Keeps ids, never ORM objects."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime, timedelta

import streamlit as st
from sqlmodel import Session
from streamlit.runtime.scriptrunner import get_script_run_ctx

from xueji.auth import Action, Actor
from xueji.clock import now
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.rules.sessions import session_end_reason
from xueji.services.system import accounts, role_grants
from xueji.standby import on_write, read_scope

USER_ID = "auth_user_id"
LOGIN_AT = "auth_login_at"
LAST_SEEN = "auth_last_seen"
NOTICE = "auth_notice"
WRITE_POSITION = "db_write_position"


def _remember_write(position: str) -> None:
    """After this browser session commits a write, keep the primary's WAL position it must read back."""
    if get_script_run_ctx() is not None:
        st.session_state[WRITE_POSITION] = position


on_write(_remember_write)


def reading() -> AbstractContextManager[Session]:
    """A session for a read-heavy page (dashboards, ledgers): on the standby when XUEJI_READ_DATABASE_URL is
    set, once it has replayed this user's own last write; otherwise on the primary."""
    return read_scope(after=st.session_state.get(WRITE_POSITION))


def sign_in(username: str, password: str) -> str | None:
    """Try to sign in; return a Chinese error message, or None on success."""
    try:
        with session_scope() as session:
            signed = accounts.authenticate(session, username=username, password=password)
    except accounts.LoginFailed as exc:
        return str(exc)
    at = now()
    st.session_state[USER_ID] = signed.actor.user_id
    st.session_state[LOGIN_AT] = at
    st.session_state[LAST_SEEN] = at
    st.session_state.pop(NOTICE, None)
    return None


def sign_out(reason: str = "退出") -> None:
    """End the session, audit it, and forget everything this session held."""
    user_id = st.session_state.get(USER_ID)
    if user_id is not None:
        with session_scope() as session:
            loaded = accounts.load_actor(session, user_id)
            if loaded is not None:
                accounts.record_logout(session, actor=loaded[0], reason=reason)
    st.session_state.clear()
    if reason != "退出":
        st.session_state[NOTICE] = reason


def _end_reason(at: datetime) -> str | None:
    """Why this signed-in session has ended (idle too long, signed in too long), or None."""
    settings = get_settings()
    login_at: datetime = st.session_state[LOGIN_AT]
    last_seen: datetime = st.session_state[LAST_SEEN]
    return session_end_reason(
        login_at=login_at,
        last_seen=last_seen,
        now=at,
        idle=timedelta(minutes=settings.idle_timeout_minutes),
        absolute=timedelta(hours=settings.session_limit_hours),
    )


def current_user() -> tuple[Actor, bool] | None:
    """Return (actor, must change password) for this session, ending it when it has timed out."""
    user_id = st.session_state.get(USER_ID)
    if user_id is None:
        return None
    at = now()
    if reason := _end_reason(at):
        sign_out(reason)
        return None
    with session_scope() as session:
        loaded = accounts.load_actor(session, user_id)
    if loaded is None:
        sign_out("账号已被停用")
        return None
    st.session_state[LAST_SEEN] = at
    return loaded


def watch_deadlines() -> None:
    """Clear an unattended screen when the session ends, without waiting for a click: a fragment the browser
    re-runs every few seconds checks the deadlines (its runs are not activity: only a full run counts as one)
    and, once one has passed, signs out and reruns the whole app, which then shows the sign-in page."""
    idle_seconds = get_settings().idle_timeout_minutes * 60
    every = timedelta(seconds=max(5, min(30, idle_seconds // 6)))

    @st.fragment(run_every=every)
    def deadline_check() -> None:
        if st.session_state.get(USER_ID) is not None and (reason := _end_reason(now())):
            sign_out(reason)
            st.rerun(scope="app")

    deadline_check()


def approvals_waiting(actor: Actor) -> int:
    """How many account requests wait for this actor's approval (0 for roles that approve none)."""
    if not actor.can(Action.GRANT_APPROVE):
        return 0
    with session_scope() as session:
        return role_grants.awaiting_count(session, actor=actor)


def require_actor(action: Action | None = None) -> Actor:
    """Return the signed-in actor for a page that needs this action; stop the page otherwise.

    The router registers only the pages a role may open and every service checks again; this guard keeps a
    page from even drawing for someone who reached it another way.
    """
    user = current_user()
    if user is None or user[1]:
        st.stop()
    actor = user[0]
    if action is not None and not actor.can(action):
        st.error(f"无权访问此页面:您的角色({actor.role.label})无权{action.label}")
        st.stop()
    return actor
