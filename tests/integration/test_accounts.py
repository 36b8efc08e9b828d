"""Sign-in (one message and one argon2 check for every refusal), lockout counted across sign-in and the
change-password form, the password blocklist, one-time password expiry, rehashing, and account changes."""

import statistics
import time
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from tests.factories import new_teacher
from xueji.auth import needs_rehash
from xueji.clock import now
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.demo.build import DEMO_PASSWORD
from xueji.models import AppUser, AuditLog
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.system import accounts, role_grants

WRONG = "^账号或密码错误$"


def _entries(session, **where):
    query = select(AuditLog).order_by(AuditLog.id)
    for field, value in where.items():
        query = query.where(getattr(AuditLog, field) == value)
    return list(session.scalars(query))


def _user(session, username):
    return session.scalar(select(AppUser).where(AppUser.username == username))


def test_a_correct_password_signs_in_and_is_audited(demo_engine):
    with session_scope(demo_engine) as session:
        signed = accounts.authenticate(session, username="demo_teacher", password=DEMO_PASSWORD)
        assert signed.actor.role is Role.TEACHER and not signed.must_change_password
        [entry] = _entries(session, action="login")
        assert (entry.username, entry.outcome, entry.role) == ("demo_teacher", "success", "teacher")


def test_five_failures_lock_the_account_and_every_refusal_says_the_same(demo_engine):
    with session_scope(demo_engine) as session:
        for attempt in range(1, 6):
            with pytest.raises(accounts.LoginFailed, match=WRONG):
                accounts.authenticate(session, username="demo_teacher", password=f"wrong{attempt}")
        # locked: even the right password gets the message an unknown account gets
        with pytest.raises(accounts.LoginFailed, match=WRONG):
            accounts.authenticate(session, username="demo_teacher", password=DEMO_PASSWORD)
        assert len(_entries(session, action="login", outcome="failure")) == 5
        assert len(_entries(session, action="lockout")) == 1
        assert len(_entries(session, action="login", outcome="locked")) == 1
        user = _user(session, "demo_teacher")
        user.locked_until = now() - timedelta(seconds=1)  # ten minutes later
        session.commit()
        assert accounts.authenticate(session, username="demo_teacher", password=DEMO_PASSWORD).actor


@pytest.mark.parametrize("username", ["nobody", "system"])
def test_an_unknown_account_gets_the_same_message_and_is_audited(demo_engine, username):
    with session_scope(demo_engine) as session:
        with pytest.raises(accounts.LoginFailed, match=WRONG):
            accounts.authenticate(session, username=username, password="x")
        [entry] = _entries(session, action="login")
        assert (entry.username, entry.outcome, entry.user_id) == (username, "failure", None)


def _median_ms(session, username, tries=20):
    times = []
    for i in range(tries):
        start = time.perf_counter()
        with pytest.raises(accounts.LoginFailed, match=WRONG):
            accounts.authenticate(session, username=username, password=f"Wrong#{i}pass")
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def test_an_unknown_account_takes_as_long_to_refuse_as_a_wrong_password(demo_engine, capsys):
    with session_scope(demo_engine) as session:
        _median_ms(session, "nobody", tries=3)  # warm: the dummy hash is made once per process
        known = _median_ms(session, "demo_teacher")  # wrong, then locked: every refusal pays one argon2 check
        unknown = _median_ms(session, "no_such_user")
        _user(session, "demo_coordinator").is_active = False
        session.commit()
        disabled = _median_ms(session, "demo_coordinator")
    with capsys.disabled():
        print(
            f"\nlogin refusal, median of 20: known {known:.0f} ms, unknown {unknown:.0f} ms, disabled {disabled:.0f} ms"
        )
    for other in (unknown, disabled):
        assert 0.5 <= other / known <= 2.0, (known, other)


def test_wrong_old_passwords_on_the_change_form_count_towards_the_lockout(demo_engine, actors):
    teacher = actors["demo_teacher"]
    with session_scope(demo_engine) as session:
        for i in range(2):
            with pytest.raises(accounts.LoginFailed):
                accounts.authenticate(session, username="demo_teacher", password=f"wrong{i}")
        for _ in range(2):
            with pytest.raises(accounts.AccountError, match="原密码错误$"):
                accounts.change_password(
                    session, actor=teacher, old_password="guess#Pw1", new_password="Gugang#2027"
                )
        with pytest.raises(accounts.AccountLocked, match="已锁定 10 分钟"):
            accounts.change_password(
                session, actor=teacher, old_password="guess#Pw2", new_password="Gugang#2027"
            )
        assert _user(session, "demo_teacher").locked_until is not None
        # locked now: the right old password is refused too, and so is signing in
        with pytest.raises(accounts.AccountLocked):
            accounts.change_password(
                session, actor=teacher, old_password=DEMO_PASSWORD, new_password="Gugang#2027"
            )
        with pytest.raises(accounts.LoginFailed, match=WRONG):
            accounts.authenticate(session, username="demo_teacher", password=DEMO_PASSWORD)
        changes = _entries(session, action="password_change", outcome="failure")
        assert [e.detail for e in changes] == [
            "原密码错误,连续失败 3 次",
            "原密码错误,连续失败 4 次",
            "原密码错误,连续失败 5 次",
        ]
        assert len(_entries(session, action="lockout")) == 1


def test_a_successful_change_clears_the_failure_count(demo_engine, actors):
    teacher = actors["demo_teacher"]
    with session_scope(demo_engine) as session:
        with pytest.raises(accounts.AccountError):
            accounts.change_password(
                session, actor=teacher, old_password="guess#Pw1", new_password="Gugang#2027"
            )
        accounts.change_password(
            session, actor=teacher, old_password=DEMO_PASSWORD, new_password="Gugang#2027"
        )
        assert _user(session, "demo_teacher").failed_logins == 0


@pytest.mark.parametrize(
    ("new_password", "reason"),
    [
        (DEMO_PASSWORD, "演示密码"),
        ("Password1", "常见密码"),
        ("P@ssw0rd", "常见密码"),
        ("Xueji#2099", "xueji"),
    ],
)
def test_common_and_demo_passwords_are_refused_on_change(demo_engine, actors, new_password, reason):
    with session_scope(demo_engine) as session, pytest.raises(accounts.AccountError, match=reason):
        accounts.change_password(
            session, actor=actors["demo_teacher"], old_password=DEMO_PASSWORD, new_password=new_password
        )


def test_a_new_account_must_change_its_one_time_password_by_the_rules(demo_engine, actors):
    admin = actors["demo_admin"]
    with session_scope(demo_engine) as session:
        _, password = new_teacher(session, admin, "wang_t", "王老师")
        signed = accounts.authenticate(session, username="wang_t", password=password)
        assert signed.must_change_password
        with pytest.raises(accounts.AccountError, match="至少三类"):
            accounts.change_password(
                session, actor=signed.actor, old_password=password, new_password="abcdefghij"
            )
        with pytest.raises(accounts.AccountError, match="原密码错误"):
            accounts.change_password(
                session, actor=signed.actor, old_password="bad", new_password="Guzhen#2027"
            )
        accounts.change_password(
            session, actor=signed.actor, old_password=password, new_password="Guzhen#2027"
        )
        again = accounts.authenticate(session, username="wang_t", password="Guzhen#2027")
        assert not again.must_change_password


def _age_password(session, username, hours):
    user = _user(session, username)
    user.password_changed_at = now() - timedelta(hours=hours)
    session.commit()


def test_a_one_time_password_expires_after_72_hours_and_says_whom_to_ask(demo_engine, actors):
    with session_scope(demo_engine) as session:
        _, password = new_teacher(session, actors["demo_admin"], "otp_t", "过期老师")
        _age_password(session, "otp_t", 72 - 0.1)
        assert accounts.authenticate(session, username="otp_t", password=password).must_change_password
        _age_password(session, "otp_t", 72)
        with pytest.raises(accounts.LoginFailed, match="72 小时.*联系系统管理员"):
            accounts.authenticate(session, username="otp_t", password=password)
        assert _entries(session, action="login", detail="一次性密码已过期")[0].username == "otp_t"
        # a wrong password on an expired one-time password learns nothing more than any wrong password
        with pytest.raises(accounts.LoginFailed, match=WRONG):
            accounts.authenticate(session, username="otp_t", password="Wrong#pass1")
        # a password the user chose never expires
        _age_password(session, "demo_teacher", 24 * 400)
        assert accounts.authenticate(session, username="demo_teacher", password=DEMO_PASSWORD)


def test_the_expiry_is_a_setting(demo_engine, actors, monkeypatch):
    monkeypatch.setenv("XUEJI_ONE_TIME_PASSWORD_HOURS", "2")
    get_settings.cache_clear()
    try:
        with session_scope(demo_engine) as session:
            _, password = new_teacher(session, actors["demo_admin"], "otp2_t", "两小时")
            _age_password(session, "otp2_t", 2.01)
            with pytest.raises(accounts.LoginFailed, match="2 小时"):
                accounts.authenticate(session, username="otp2_t", password=password)
    finally:
        get_settings.cache_clear()


def test_a_hash_with_old_argon2_parameters_is_rehashed_at_sign_in(demo_engine):
    with session_scope(demo_engine) as session:
        user = _user(session, "demo_registrar")
        user.password_hash = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(DEMO_PASSWORD)
        session.commit()
        assert needs_rehash(user.password_hash)
        accounts.authenticate(session, username="demo_registrar", password=DEMO_PASSWORD)
        session.expire_all()
        stored = _user(session, "demo_registrar").password_hash
        assert not needs_rehash(stored) and "m=65536,t=3,p=4" in stored
        assert accounts.authenticate(session, username="demo_registrar", password=DEMO_PASSWORD)
        first, second = _entries(session, action="login", username="demo_registrar")
        assert first.detail == "已按当前参数重新计算密码哈希" and second.detail is None


def test_the_command_line_resets_a_password_unlocks_and_forces_a_change(demo_engine):
    with session_scope(demo_engine) as session:
        teacher_id = accounts.user_id_of(session, "demo_teacher")
        user = session.get(AppUser, teacher_id)
        user.locked_until = now() + timedelta(minutes=10)
        session.commit()
        operator = accounts.system_actor(session)
        password = accounts.reset_password(session, actor=operator, user_id=teacher_id)
        assert accounts.authenticate(session, username="demo_teacher", password=password).must_change_password
        [entry] = _entries(session, action="password_reset")
        assert (entry.username, entry.detail) == ("system", "服务器命令行")


def test_a_disabled_account_cannot_sign_in(demo_engine, actors):
    with session_scope(demo_engine) as session:
        accounts.set_active(
            session,
            actor=actors["demo_admin"],
            user_id=accounts.user_id_of(session, "demo_teacher"),
            active=False,
        )
        with pytest.raises(accounts.LoginFailed, match=WRONG):
            accounts.authenticate(session, username="demo_teacher", password=DEMO_PASSWORD)
        assert accounts.load_actor(session, actors["demo_teacher"].user_id) is None


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"username": "demo_teacher"}, "已存在"),
        ({"username": "张三"}, "英文字母"),
        ({"role": Role.REGISTRAR, "scope_kind": ScopeKind.COUNTY, "scope_code": "430181000000"}, "管辖范围"),
        ({"scope_code": "9999999999"}, "找不到"),
        ({"role": Role.SYSTEM}, "系统操作员"),
        ({"display_name": " "}, "姓名"),
    ],
)
def test_an_account_request_refuses_bad_input_in_chinese(demo_engine, actors, kwargs, reason):
    values = {
        "username": "new_t",
        "display_name": "新老师",
        "role": Role.TEACHER,
        "scope_kind": ScopeKind.SCHOOL,
        "scope_code": "2143016965",
    } | kwargs
    with session_scope(demo_engine) as session, pytest.raises(accounts.AccountError, match=reason):
        role_grants.request_account(session, actor=actors["demo_admin"], **values)


def test_the_first_admin_gets_a_one_time_password_and_no_default(engine):
    with session_scope(engine) as session:
        username, password = accounts.create_first_admin(session)
        assert username == "admin" and len(password) >= 8
        assert accounts.authenticate(session, username="admin", password=password).must_change_password
        assert accounts.create_first_admin(session) is None
        with pytest.raises(accounts.LoginFailed):
            accounts.authenticate(session, username="system", password="")
        _age_password(session, "admin", 73)
        with pytest.raises(accounts.LoginFailed, match="一次性密码"):
            accounts.authenticate(session, username="admin", password=password)


def test_an_approved_move_to_another_scope_takes_effect(demo_engine, actors):
    from xueji.services.registry import students

    with session_scope(demo_engine) as session:
        official_id = accounts.user_id_of(session, "demo_township")
        grant = role_grants.request_role_change(
            session,
            actor=actors["demo_admin"],
            user_id=official_id,
            role=Role.TOWNSHIP_OFFICIAL,
            scope_kind=ScopeKind.TOWNSHIP,
            scope_code="430181106000",
        )
        still, _ = accounts.load_actor(session, official_id)
        assert still == actors["demo_township"]  # nothing changes before the approval
        assert role_grants.approve(session, actor=actors["demo_county"], grant_id=grant.id).password is None
        moved, _ = accounts.load_actor(session, official_id)
        schools = {r.school for r in students.list_students(session, actor=moved, limit=10_000).rows}
        assert schools and all(s.startswith("沙市镇") for s in schools)
        entry = session.scalars(
            select(AuditLog).where(AuditLog.detail.like("更改角色或管辖范围,批准申请%"))
        ).one()
        assert entry.before["范围"] != entry.after["范围"] and entry.username == "demo_county"
        with pytest.raises(accounts.AccountError, match="管辖范围"):
            role_grants.request_role_change(
                session,
                actor=actors["demo_admin"],
                user_id=official_id,
                role=Role.REGISTRAR,
                scope_kind=ScopeKind.TOWNSHIP,
                scope_code="430181106000",
            )
