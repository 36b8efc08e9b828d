"""Server-side sessions (services.system.web_sessions) on both databases: what a cookie's token resumes, what ends
it (sign-out, idle and absolute limits, a disabled account, a password reset) and that each end is one audited
sign-out, whichever tab or replica notices it first."""

from datetime import timedelta

from sqlalchemy import func, select

from tests.factories import new_teacher
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.models import AppUser, AuditLog, WebSession
from xueji.rules.sessions import token_hash
from xueji.services.system import accounts, web_sessions
from xueji.services.system.web_sessions import Resumed


def _open(engine, username="demo_teacher"):
    with session_scope(engine) as session:
        user_id = accounts.user_id_of(session, username)
        return web_sessions.open_session(session, user_id=user_id, client_addr="10.1.2.3"), user_id


def _resume(engine, token, active=True):
    with session_scope(engine) as session:
        return web_sessions.resume(session, token=token, active=active)


def _shift(engine, token, **ago):
    """Move a session's start and last activity back by `ago`."""
    with session_scope(engine) as session:
        web = session.scalar(select(WebSession).where(WebSession.token_hash == token_hash(token)))
        web.created_at -= timedelta(**ago)
        web.last_seen_at -= timedelta(**ago)
        session.commit()


def _logouts(engine, user_id):
    with session_scope(engine) as session:
        return session.scalars(
            select(AuditLog.detail).where(AuditLog.action == "logout", AuditLog.entity_id == str(user_id))
        ).all()


def test_a_token_resumes_its_user_and_nothing_else_does(demo_engine):
    token, user_id = _open(demo_engine)
    resumed = _resume(demo_engine, token)
    assert (
        isinstance(resumed, Resumed) and resumed.actor.user_id == user_id and not resumed.must_change_password
    )
    for forged in (None, "", token[:-1] + ("A" if token[-1] != "A" else "B"), "x" * 5000):
        assert _resume(demo_engine, forged) is None
    with session_scope(demo_engine) as session:
        stored = session.scalars(select(WebSession.token_hash)).all()
    assert stored == [token_hash(token)] and token not in stored


def test_signing_out_ends_the_session_for_every_tab_once_and_audited(demo_engine):
    token, user_id = _open(demo_engine)
    with session_scope(demo_engine) as session:
        web_sessions.end(session, token=token)
        web_sessions.end(session, token=token)  # a second tab signing out too: nothing more happens
    assert _resume(demo_engine, token) == web_sessions.SIGNED_OUT
    assert _logouts(demo_engine, user_id) == [web_sessions.SIGNED_OUT]


def test_idle_and_absolute_limits_end_a_session_with_their_reason(demo_engine):
    settings = get_settings()
    idle, user_id = _open(demo_engine)
    _shift(demo_engine, idle, minutes=settings.idle_timeout_minutes)
    assert "未操作" in _resume(demo_engine, idle)
    assert "未操作" in _resume(demo_engine, idle)  # stays ended
    long, _ = _open(demo_engine)
    with session_scope(demo_engine) as session:  # active a minute ago, signed in 12 hours ago
        web = session.scalar(select(WebSession).where(WebSession.token_hash == token_hash(long)))
        web.created_at -= timedelta(hours=settings.session_limit_hours)
        session.commit()
    assert f"{settings.session_limit_hours} 小时" in _resume(demo_engine, long)
    assert len(_logouts(demo_engine, user_id)) == 2  # each end audited once


def test_activity_is_written_at_most_once_a_minute_and_a_timer_is_not_activity(demo_engine):
    token, _ = _open(demo_engine)
    _shift(demo_engine, token, minutes=5)

    def last_seen():
        with session_scope(demo_engine) as session:
            return session.scalar(select(WebSession.last_seen_at))

    before = last_seen()
    _resume(demo_engine, token, active=False)  # the deadline check's timer
    assert last_seen() == before
    _resume(demo_engine, token)
    moved = last_seen()
    assert moved > before
    _resume(demo_engine, token)  # again within the minute: no write
    assert last_seen() == moved


def test_a_disabled_account_or_a_password_reset_ends_its_sessions(demo_engine):
    with session_scope(demo_engine) as session:
        admin = accounts.actor_by_username(session, "demo_admin")
        user, _ = new_teacher(session, admin, "t_sessions")
        user.must_change_password = False  # past the first change
        user_id = user.id
        session.commit()
    disabled, _ = _open(demo_engine, "t_sessions")
    with session_scope(demo_engine) as session:
        accounts.set_active(session, actor=admin, user_id=user_id, active=False)
    assert _resume(demo_engine, disabled) == web_sessions.DISABLED
    assert _logouts(demo_engine, user_id) == [
        web_sessions.DISABLED
    ]  # audited, though the account is disabled
    with session_scope(demo_engine) as session:
        accounts.set_active(session, actor=admin, user_id=user_id, active=True)
    reset, _ = _open(demo_engine, "t_sessions")
    _shift(demo_engine, reset, minutes=1)
    with session_scope(demo_engine) as session:
        accounts.issue_one_time_password(session.get(AppUser, user_id))
        session.commit()
    assert _resume(demo_engine, reset) == web_sessions.RESET
    fresh, _ = _open(demo_engine, "t_sessions")  # signed in with the one-time password: sent to change it
    resumed = _resume(demo_engine, fresh)
    assert isinstance(resumed, Resumed) and resumed.must_change_password


def test_changing_ones_own_password_signs_out_the_accounts_other_sessions_but_not_this_one(demo_engine):
    with session_scope(demo_engine) as session:
        admin = accounts.actor_by_username(session, "demo_admin")
        user, password = new_teacher(session, admin, "t_phone_left")
        user_id = user.id
        session.commit()
    here, _ = _open(demo_engine, "t_phone_left")
    phone, _ = _open(demo_engine, "t_phone_left")  # a phone left signed in somewhere
    with session_scope(demo_engine) as session:
        actor = accounts.actor_by_username(session, "t_phone_left")
        ended = accounts.change_password(
            session, actor=actor, old_password=password, new_password="Xinmima#2026", token=here
        )
    assert ended == 1
    assert isinstance(_resume(demo_engine, here), Resumed)
    assert _resume(demo_engine, phone) == web_sessions.PASSWORD_CHANGED
    assert _logouts(demo_engine, user_id) == [web_sessions.PASSWORD_CHANGED]


def test_a_users_sessions_long_over_are_removed_when_they_sign_in_again(demo_engine):
    old, user_id = _open(demo_engine)
    _shift(demo_engine, old, days=31, hours=get_settings().session_limit_hours)
    recent, _ = _open(demo_engine)
    _shift(demo_engine, recent, days=2)
    _open(demo_engine)
    with session_scope(demo_engine) as session:
        count = session.scalar(
            select(func.count()).select_from(WebSession).where(WebSession.user_id == user_id)
        )
    assert count == 2


def test_a_session_left_idle_with_no_tab_open_is_ended_and_audited_when_its_browser_comes_back(demo_engine):
    token, user_id = _open(demo_engine)
    _shift(demo_engine, token, minutes=get_settings().idle_timeout_minutes)
    with session_scope(demo_engine) as session:
        assert not web_sessions.is_live(session, token=token)  # the gate's question changes nothing
    assert _logouts(demo_engine, user_id) == []
    with session_scope(demo_engine) as session:
        web_sessions.expire(session, token=token)  # the sign-in page, shown to that browser
        web_sessions.expire(session, token=token)
    assert len(_logouts(demo_engine, user_id)) == 1 and "未操作" in _logouts(demo_engine, user_id)[0]


def test_a_check_that_read_before_another_writer_committed_still_records_activity(demo_engine):
    """A tab's session check reads, another tab writes and commits, then the first records its activity: the
    write begins a transaction of its own instead of upgrading a stale read (SQLite would refuse at once)."""
    token, _ = _open(demo_engine)
    _shift(demo_engine, token, minutes=5)
    mine = WebSession.token_hash == token_hash(token)
    with session_scope(demo_engine) as session:
        before = session.scalar(select(WebSession.last_seen_at).where(mine))
    with session_scope(demo_engine) as reader, session_scope(demo_engine) as other:
        reader.scalar(select(WebSession.last_seen_at))  # a read transaction begins
        busy, _ = _open(demo_engine)  # meanwhile another sign-in commits
        other.scalar(select(func.count()).select_from(WebSession))
        resumed = web_sessions.resume(reader, token=token)
        assert isinstance(resumed, Resumed)
    with session_scope(demo_engine) as session:
        assert session.scalar(select(WebSession.last_seen_at).where(mine)) > before and busy
