"""Sign-in, lockout, password rules, first-login change, and the administrator's account changes."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import new_teacher
from xueji.clock import now
from xueji.db import session_scope
from xueji.demo.build import DEMO_PASSWORD
from xueji.models import AppUser, AuditLog
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.system import accounts


def _entries(session, **where):
    query = select(AuditLog).order_by(AuditLog.id)
    for field, value in where.items():
        query = query.where(getattr(AuditLog, field) == value)
    return list(session.scalars(query))


def test_a_correct_password_signs_in_and_is_audited(demo_engine):
    with session_scope(demo_engine) as session:
        signed = accounts.authenticate(session, username="demo_teacher", password=DEMO_PASSWORD)
        assert signed.actor.role is Role.TEACHER and not signed.must_change_password
        [entry] = _entries(session, action="login")
        assert (entry.username, entry.outcome, entry.role) == ("demo_teacher", "success", "teacher")


def test_five_failures_lock_the_account_for_ten_minutes(demo_engine):
    with session_scope(demo_engine) as session:
        for attempt in range(1, 6):
            with pytest.raises(accounts.LoginFailed) as failed:
                accounts.authenticate(session, username="demo_teacher", password=f"wrong{attempt}")
        assert "锁定 10 分钟" in str(failed.value)
        with pytest.raises(accounts.LoginFailed, match="已锁定"):
            accounts.authenticate(session, username="demo_teacher", password=DEMO_PASSWORD)
        assert len(_entries(session, action="login", outcome="failure")) == 5
        assert len(_entries(session, action="lockout")) == 1
        assert len(_entries(session, action="login", outcome="locked")) == 1
        user = session.scalar(select(AppUser).where(AppUser.username == "demo_teacher"))
        user.locked_until = now() - timedelta(seconds=1)  # ten minutes later
        session.commit()
        assert accounts.authenticate(session, username="demo_teacher", password=DEMO_PASSWORD).actor


def test_an_unknown_account_gets_the_same_message_and_is_audited(demo_engine):
    with session_scope(demo_engine) as session:
        with pytest.raises(accounts.LoginFailed, match="^账号或密码错误$"):
            accounts.authenticate(session, username="nobody", password="x")
        [entry] = _entries(session, action="login")
        assert (entry.username, entry.outcome, entry.user_id) == ("nobody", "failure", None)


def test_a_new_account_must_change_its_one_time_password_by_the_rules(demo_engine, actors):
    admin = actors["demo_admin"]
    with session_scope(demo_engine) as session:
        user, password = new_teacher(session, admin, "wang_t", "王老师")
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


def test_a_reset_password_unlocks_and_forces_a_change(demo_engine, actors):
    admin = actors["demo_admin"]
    with session_scope(demo_engine) as session:
        teacher_id = accounts.user_id_of(session, "demo_teacher")
        user = session.get(AppUser, teacher_id)
        user.locked_until = now() + timedelta(minutes=10)
        session.commit()
        password = accounts.reset_password(session, actor=admin, user_id=teacher_id)
        assert accounts.authenticate(session, username="demo_teacher", password=password).must_change_password


def test_a_disabled_account_cannot_sign_in(demo_engine, actors):
    with session_scope(demo_engine) as session:
        accounts.set_active(
            session,
            actor=actors["demo_admin"],
            user_id=accounts.user_id_of(session, "demo_teacher"),
            active=False,
        )
        with pytest.raises(accounts.LoginFailed):
            accounts.authenticate(session, username="demo_teacher", password=DEMO_PASSWORD)
        assert accounts.load_actor(session, actors["demo_teacher"].user_id) is None


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"username": "demo_teacher"}, "已存在"),
        ({"username": "张三"}, "英文字母"),
        ({"role": Role.REGISTRAR, "scope_kind": ScopeKind.COUNTY, "scope_code": "430181000000"}, "管辖范围"),
        ({"scope_code": "9999999999"}, "找不到"),
        ({"role": Role.SYSTEM}, "内置"),
    ],
)
def test_account_creation_refuses_bad_input_in_chinese(demo_engine, actors, kwargs, reason):
    values = {
        "username": "new_t",
        "display_name": "新老师",
        "role": Role.TEACHER,
        "scope_kind": ScopeKind.SCHOOL,
        "scope_code": "2143016965",
    } | kwargs
    with session_scope(demo_engine) as session, pytest.raises(accounts.AccountError, match=reason):
        accounts.create_user(session, actor=actors["demo_admin"], **values)


def test_the_first_admin_gets_a_one_time_password_and_no_default(engine):
    with session_scope(engine) as session:
        username, password = accounts.create_first_admin(session)
        assert username == "admin" and len(password) >= 8
        assert accounts.authenticate(session, username="admin", password=password).must_change_password
        assert accounts.create_first_admin(session) is None
        with pytest.raises(accounts.LoginFailed):
            accounts.authenticate(session, username="system", password="")


def test_the_admin_can_move_an_account_to_another_scope_and_it_takes_effect(demo_engine, actors):
    from xueji.services.registry import students

    with session_scope(demo_engine) as session:
        official_id = accounts.user_id_of(session, "demo_township")
        accounts.set_role_and_scope(
            session,
            actor=actors["demo_admin"],
            user_id=official_id,
            role=Role.TOWNSHIP_OFFICIAL,
            scope_kind=ScopeKind.TOWNSHIP,
            scope_code="430181106000",
        )
        moved, _ = accounts.load_actor(session, official_id)
        schools = {r.school for r in students.list_students(session, actor=moved, limit=10_000).rows}
        assert schools and all(s.startswith("沙市镇") for s in schools)
        entry = session.scalars(select(AuditLog).where(AuditLog.detail == "更改角色或管辖范围")).one()
        assert entry.before["范围"] != entry.after["范围"]
        with pytest.raises(accounts.AccountError, match="管辖范围"):
            accounts.set_role_and_scope(
                session,
                actor=actors["demo_admin"],
                user_id=official_id,
                role=Role.REGISTRAR,
                scope_kind=ScopeKind.TOWNSHIP,
                scope_code="430181106000",
            )
