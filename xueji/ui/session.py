"""The signed-in user of this browser: its server-side session, timeouts, sign-out. Keeps the token, never ORM
objects."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import timedelta

import streamlit as st
from sqlmodel import Session
from streamlit.runtime.scriptrunner import get_script_run_ctx

from xueji.auth import Action, Actor
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.services.system import role_grants, web_sessions
from xueji.standby import on_write, read_scope
from xueji.ui.supervision import narrowed

TOKEN = "auth_session_token"  # noqa: S105 (a session-state key) "" once this Streamlit session signed out: the cookie it came with is dead
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


def _token() -> str | None:
    """This browser's session token: the one this Streamlit session already follows, else the cookie the browser
    sent with its connection (set by the sign-in page, HttpOnly: the page's scripts never see it)."""
    held = st.session_state.get(TOKEN)
    if held is None:
        cookie = st.context.cookies.get(web_sessions.COOKIE)
        held = cookie if isinstance(cookie, str) and cookie else None  # AppTest has no connection, no cookies
        st.session_state[TOKEN] = held
    return held


def sign_out(reason: str = web_sessions.SIGNED_OUT) -> None:
    """End this browser's session everywhere (every tab, every replica), audited, and forget what this
    Streamlit session held; the page then offers the sign-in page with the reason."""
    token = st.session_state.get(TOKEN)
    if token is not None:
        with session_scope() as session:
            web_sessions.end(session, token=token, reason=reason)
    st.session_state.clear()
    st.session_state[NOTICE] = reason
    st.session_state[TOKEN] = ""  # this Streamlit session does not pick the dead cookie up again


def current_user(*, active: bool = True) -> tuple[Actor, bool] | None:
    """Return (actor, must change password) for this browser's live session, or None. A city's or province's
    officer who picked one of their counties (ui.supervision) gets the actor narrowed to it.

    The session lives in the database (services.system.web_sessions): a reload or a new tab finds it through the
    cookie; a sign-out or timeout in any tab ends it here too, at this run. A timer's run is not activity."""
    token = _token()
    if not token:
        return None
    with session_scope() as session:
        resumed = web_sessions.resume(session, token=token, active=active)
    if not isinstance(resumed, web_sessions.Resumed):
        st.session_state.clear()
        st.session_state[TOKEN] = ""
        if resumed is not None:
            st.session_state[NOTICE] = resumed
        return None
    # a city's or province's officer looking at one of their counties: the county's actor, checked every run
    return narrowed(resumed.actor), resumed.must_change_password


def watch_deadlines() -> None:
    """Clear an unattended screen when the session ends, without waiting for a click: a fragment the browser
    re-runs every few seconds asks the database whether the session is still live (its runs are not activity)
    and, once it has ended — a timeout, or a sign-out in another tab — reruns the whole app, which then shows
    the signed-out page."""
    idle_seconds = get_settings().idle_timeout_minutes * 60
    every = timedelta(seconds=max(5, min(30, idle_seconds // 6)))

    @st.fragment(run_every=every)
    def deadline_check() -> None:
        if st.session_state.get(TOKEN) and current_user(active=False) is None:
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
