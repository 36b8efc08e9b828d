"""Accounts: sign-in with lockout, password changes, and the administrator's user management."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from xueji.audit import record
from xueji.auth import ROLE_SCOPES, SYSTEM_USERNAME, Action, Actor, hash_password, verify_password
from xueji.clock import now
from xueji.config import get_settings
from xueji.db import unit_of_work
from xueji.models import AppSetting, AppUser, County, School, Township
from xueji.rules.passwords import password_problems
from xueji.rules.sessions import lockout_until
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.common.access import require


class LoginFailed(Exception):
    """Sign-in refused; the message is safe to show (it never says whether the account exists)."""


class AccountError(ValueError):
    """An account change was refused; the message says why, in Chinese."""


def _aware(at: datetime | None) -> datetime | None:
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def _scope_id(user: AppUser) -> int | None:
    return {
        ScopeKind.COUNTY.value: user.county_id,
        ScopeKind.TOWNSHIP.value: user.township_id,
        ScopeKind.SCHOOL.value: user.school_id,
    }[user.scope_kind]


def actor_of(user: AppUser) -> Actor:
    """Return the acting-user view of an account."""
    return Actor(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        scope_kind=ScopeKind(user.scope_kind),
        scope_id=_scope_id(user),
    )


def _public(user: AppUser) -> dict[str, object]:
    """The audited view of an account: never the password hash."""
    return {
        "账号": user.username,
        "姓名": user.display_name,
        "角色": Role(user.role).label,
        "范围": f"{user.scope_kind}:{_scope_id(user)}",
        "启用": user.is_active,
        "须改密码": user.must_change_password,
    }


@dataclass(frozen=True)
class SignedIn:
    actor: Actor
    must_change_password: bool


@unit_of_work
def authenticate(session: Session, *, username: str, password: str) -> SignedIn:
    """Check a sign-in; count failures, lock after too many, audit every outcome, commit."""
    settings = get_settings()
    at = now()
    user = session.scalar(select(AppUser).where(AppUser.username == username.strip()))
    if user is None or not user.is_active or user.username == SYSTEM_USERNAME:
        record(
            session,
            actor=None,
            username=username.strip(),
            action="login",
            outcome="failure",
            detail="账号不存在或已停用",
        )
        session.commit()
        raise LoginFailed("账号或密码错误")
    actor = actor_of(user)
    locked = _aware(user.locked_until)
    if locked is not None and locked > at:
        minutes = max(1, int((locked - at).total_seconds() // 60) + 1)
        record(session, actor=actor, action="login", outcome="locked", entity_type="user", entity_id=user.id)
        session.commit()
        raise LoginFailed(f"账号已锁定,请 {minutes} 分钟后再试")
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        user.locked_until = lockout_until(
            failed_logins=user.failed_logins,
            now=at,
            max_failures=settings.max_failed_logins,
            lock=timedelta(minutes=settings.lockout_minutes),
        )
        record(
            session,
            actor=actor,
            action="login",
            outcome="failure",
            entity_type="user",
            entity_id=user.id,
            detail=f"连续失败 {user.failed_logins} 次",
        )
        message = "账号或密码错误"
        if user.locked_until is not None:
            record(
                session,
                actor=actor,
                action="lockout",
                entity_type="user",
                entity_id=user.id,
                detail=f"锁定 {settings.lockout_minutes} 分钟",
            )
            user.failed_logins = 0
            message = f"密码错误次数过多,账号已锁定 {settings.lockout_minutes} 分钟"
        session.commit()
        raise LoginFailed(message)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = at
    record(session, actor=actor, action="login", entity_type="user", entity_id=user.id)
    session.commit()
    return SignedIn(actor, user.must_change_password)


@unit_of_work
def record_logout(session: Session, *, actor: Actor, reason: str = "退出") -> None:
    """Audit a sign-out (by the user or by a timeout)."""
    record(session, actor=actor, action="logout", entity_type="user", entity_id=actor.user_id, detail=reason)
    session.commit()


def load_actor(session: Session, user_id: int) -> tuple[Actor, bool] | None:
    """Return the actor and must-change flag of an active account, or None if it was disabled meanwhile."""
    user = session.get(AppUser, user_id)
    if user is None or not user.is_active:
        return None
    return actor_of(user), user.must_change_password


@unit_of_work
def change_password(session: Session, *, actor: Actor, old_password: str, new_password: str) -> None:
    """Change one's own password after checking the old one and the password rules."""
    user = session.get(AppUser, actor.user_id)
    if user is None:
        raise AccountError("账号不存在")
    if not verify_password(user.password_hash, old_password):
        record(
            session,
            actor=actor,
            action="password_change",
            outcome="failure",
            entity_type="user",
            entity_id=user.id,
            detail="原密码错误",
        )
        session.commit()
        raise AccountError("原密码错误")
    if problems := password_problems(new_password, username=user.username):
        raise AccountError(";".join(problems))
    if verify_password(user.password_hash, new_password):
        raise AccountError("新密码不能与原密码相同")
    before = _public(user)
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.password_changed_at = now()
    record(
        session,
        actor=actor,
        action="password_change",
        entity_type="user",
        entity_id=user.id,
        before=before,
        after=_public(user),
    )
    session.commit()


def one_time_password() -> str:
    """Return a random password that meets the rules (shown once, changed at first sign-in)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        body = "".join(secrets.choice(alphabet) for _ in range(10))
        candidate = body[:5] + secrets.choice("@#%+=") + body[5:]
        if not password_problems(candidate):
            return candidate


def _scope_columns(session: Session, role: Role, scope_kind: ScopeKind, scope_code: str) -> dict[str, int]:
    if scope_kind not in ROLE_SCOPES[role]:
        allowed = "、".join(k.value for k in ROLE_SCOPES[role])
        raise AccountError(f"{role.label}的管辖范围只能是 {allowed}")
    id_column, code_column, noun = {
        ScopeKind.COUNTY: (County.id, County.code, "县区"),
        ScopeKind.TOWNSHIP: (Township.id, Township.code, "乡镇"),
        ScopeKind.SCHOOL: (School.id, School.code, "学校"),
    }[scope_kind]
    target_id = session.scalar(select(id_column).where(code_column == scope_code.strip()))
    if target_id is None:
        raise AccountError(f"找不到代码为 {scope_code} 的{noun}")
    return {f"{scope_kind.value}_id": target_id}


@unit_of_work
def create_user(
    session: Session,
    *,
    actor: Actor,
    username: str,
    display_name: str,
    role: Role,
    scope_kind: ScopeKind,
    scope_code: str,
    password: str | None = None,
) -> tuple[AppUser, str]:
    """Create an account with a one-time password (or the given one); it must be changed at first sign-in."""
    require(session, actor, Action.USER_MANAGE)
    username = username.strip()
    if not username or not username.isascii() or not username.replace("_", "").replace(".", "").isalnum():
        raise AccountError("账号只能由英文字母、数字、下划线和点组成")
    if role is Role.SYSTEM:
        raise AccountError("系统操作员账号由系统内置,不能新建")
    if session.scalar(select(AppUser.id).where(AppUser.username == username)) is not None:
        raise AccountError(f"账号 {username} 已存在")
    if not display_name.strip():
        raise AccountError("请填写姓名")
    chosen = password or one_time_password()
    if password and (problems := password_problems(password, username=username)):
        raise AccountError(";".join(problems))
    user = AppUser(
        username=username,
        display_name=display_name.strip(),
        role=role.value,
        scope_kind=scope_kind.value,
        password_hash=hash_password(chosen),
        must_change_password=True,
        **_scope_columns(session, role, scope_kind, scope_code),
    )
    session.add(user)
    session.flush()
    record(session, actor=actor, action="create", entity_type="user", entity_id=user.id, after=_public(user))
    session.commit()
    return user, chosen


def _managed_user(session: Session, actor: Actor, user_id: int) -> AppUser:
    require(session, actor, Action.USER_MANAGE)
    user = session.get(AppUser, user_id)
    if user is None or user.username == SYSTEM_USERNAME:
        raise AccountError("账号不存在")
    return user


@unit_of_work
def reset_password(session: Session, *, actor: Actor, user_id: int) -> str:
    """Give an account a new one-time password and unlock it; it must be changed at next sign-in."""
    user = _managed_user(session, actor, user_id)
    before = _public(user)
    password = one_time_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.failed_logins = 0
    user.locked_until = None
    record(
        session,
        actor=actor,
        action="password_reset",
        entity_type="user",
        entity_id=user.id,
        before=before,
        after=_public(user),
    )
    session.commit()
    return password


@unit_of_work
def set_role_and_scope(
    session: Session, *, actor: Actor, user_id: int, role: Role, scope_kind: ScopeKind, scope_code: str
) -> None:
    """Give an account another role or scope; one role per account, so duties stay separated."""
    user = _managed_user(session, actor, user_id)
    if role is Role.SYSTEM:
        raise AccountError("系统操作员账号由系统内置,不能设置")
    if user.id == actor.user_id:
        raise AccountError("不能更改自己的角色")
    before = _public(user)
    columns = _scope_columns(session, role, scope_kind, scope_code)
    user.role, user.scope_kind = role.value, scope_kind.value
    user.county_id = user.township_id = user.school_id = None
    for column, value in columns.items():
        setattr(user, column, value)
    record(
        session,
        actor=actor,
        action="update",
        entity_type="user",
        entity_id=user.id,
        before=before,
        after=_public(user),
        detail="更改角色或管辖范围",
    )
    session.commit()


@unit_of_work
def set_active(session: Session, *, actor: Actor, user_id: int, active: bool) -> None:
    """Disable (or enable again) an account; accounts are never deleted, so the audit log keeps its names."""
    user = _managed_user(session, actor, user_id)
    if user.id == actor.user_id and not active:
        raise AccountError("不能停用自己的账号")
    before = _public(user)
    user.is_active = active
    record(
        session,
        actor=actor,
        action="update",
        entity_type="user",
        entity_id=user.id,
        before=before,
        after=_public(user),
        detail="启用账号" if active else "停用账号",
    )
    session.commit()


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    display_name: str
    role: str
    scope: str
    is_active: bool
    must_change_password: bool
    locked: bool
    last_login_at: datetime | None


def list_users(session: Session, *, actor: Actor) -> list[UserRow]:
    """Every account but the built-in operator, with the name of its scope."""
    require(session, actor, Action.USER_MANAGE)
    names = (
        {("county", i): n for i, n in session.execute(select(County.id, County.name))}
        | {("township", i): n for i, n in session.execute(select(Township.id, Township.name))}
        | {("school", i): n for i, n in session.execute(select(School.id, School.name))}
    )
    at = now()
    rows = []
    for user in session.scalars(
        select(AppUser).where(AppUser.username != SYSTEM_USERNAME).order_by(AppUser.id)
    ):
        locked = _aware(user.locked_until)
        rows.append(
            UserRow(
                user.id,
                user.username,
                user.display_name,
                Role(user.role).label,
                names.get((user.scope_kind, _scope_id(user)), ""),
                user.is_active,
                user.must_change_password,
                locked is not None and locked > at,
                user.last_login_at,
            )
        )
    return rows


def system_actor(session: Session) -> Actor:
    """Return the built-in operator that batch commands act as, creating its account on first use."""
    user = session.scalar(select(AppUser).where(AppUser.username == SYSTEM_USERNAME))
    if user is None:
        county_id = session.scalar(select(County.id).order_by(County.id))
        user = AppUser(
            username=SYSTEM_USERNAME,
            display_name="系统操作员",
            role=Role.SYSTEM.value,
            scope_kind=ScopeKind.COUNTY.value,
            county_id=county_id,
            password_hash=None,
            must_change_password=False,
        )
        session.add(user)
        session.commit()
    return actor_of(user)


def actor_by_username(session: Session, username: str) -> Actor:
    """Return the actor of an active account, for batch commands run with --as USER."""
    user = session.scalar(select(AppUser).where(AppUser.username == username))
    if user is None or not user.is_active:
        raise AccountError(f"账号 {username} 不存在或已停用")
    return actor_of(user)


@unit_of_work
def create_first_admin(session: Session, *, password: str | None = None) -> tuple[str, str] | None:
    """Create the first administrator if there is none; return (username, password) to show once.

    No default password is ever shipped: the password is random (or XUEJI_ADMIN_PASSWORD) and must be
    changed at first sign-in. The scope is the county, once one exists.
    """
    if session.scalar(select(AppUser.id).where(AppUser.role == Role.ADMIN.value)) is not None:
        return None
    operator = system_actor(session)
    chosen = password or one_time_password()
    user = AppUser(
        username="admin",
        display_name="系统管理员",
        role=Role.ADMIN.value,
        scope_kind=ScopeKind.COUNTY.value,
        county_id=session.scalar(select(County.id).order_by(County.id)),
        password_hash=hash_password(chosen),
        must_change_password=True,
    )
    session.add(user)
    session.flush()
    record(
        session, actor=operator, action="create", entity_type="user", entity_id=user.id, after=_public(user)
    )
    session.commit()
    return user.username, chosen


def is_demo_database(session: Session) -> bool:
    """Tell whether this database was built by the demo (its demo passwords may then be shown)."""
    from xueji.demo.build import DEMO_SETTING_KEY

    return session.get(AppSetting, DEMO_SETTING_KEY) is not None


def user_id_of(session: Session, username: str) -> int:
    """Return the id of an account by its username."""
    user_id = session.scalar(select(AppUser.id).where(AppUser.username == username))
    if user_id is None:
        raise AccountError(f"账号 {username} 不存在")
    return int(user_id)
