"""Accounts: sign-in with lockout, password changes, the administrator's list and switch, and what only the
server's command line may do directly (create, reset, change a role). In the app, new accounts, roles and resets
go through a second person's approval: services.system.role_grants."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlmodel import Session, col

from xueji.audit import record
from xueji.auth import (
    COMMAND_LINE_ROLES,
    ROLE_SCOPES,
    SYSTEM_USERNAME,
    Action,
    Actor,
    hash_password,
    needs_rehash,
    verify_password,
)
from xueji.clock import now
from xueji.config import get_settings
from xueji.db import unit_of_work
from xueji.models import AppSetting, AppUser, City, County, Province, School, Township, WebSession
from xueji.rules.passwords import one_time_password_expired, password_problems
from xueji.rules.sessions import lockout_until, token_hash
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.common.access import deny, require

WRONG_CREDENTIALS = "账号或密码错误"
SCOPE_NAMES = {
    ScopeKind.PROVINCE: "省",
    ScopeKind.CITY: "市(州)",
    ScopeKind.COUNTY: "县区",
    ScopeKind.TOWNSHIP: "乡镇",
    ScopeKind.SCHOOL: "学校",
}
COMMAND_LINE = "服务器命令行"


class LoginFailed(Exception):
    """Sign-in refused; the message is safe to show (it never says whether the account exists)."""


PASSWORD_CHANGED = "密码已在别处修改,请用新密码重新登录"  # noqa: S105 (a message, not a password)


class AccountError(ValueError):
    """An account change was refused; the message says why, in Chinese."""


class AccountLocked(AccountError):
    """Too many wrong passwords on the change-password form: the account is locked and this session must end."""


def on_command_line(actor: Actor) -> bool:
    """Tell whether the actor is the server's command line (the built-in operator, never a signed-in user)."""
    return actor.role is Role.SYSTEM


def _aware(at: datetime | None) -> datetime | None:
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def _scope_id(user: AppUser) -> int | None:
    return {
        ScopeKind.PROVINCE.value: user.province_id,
        ScopeKind.CITY.value: user.city_id,
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


def public_view(user: AppUser) -> dict[str, object]:
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


def _locked(user: AppUser, at: datetime) -> bool:
    locked = _aware(user.locked_until)
    return locked is not None and locked > at


def _count_failure(
    session: Session, user: AppUser, actor: Actor, at: datetime, *, action: str, why: str
) -> bool:
    """Count one more wrong password (sign-in or the change form alike); lock the account after too many in a
    row. Return whether it is locked now."""
    settings = get_settings()
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
        action=action,
        outcome="failure",
        entity_type="user",
        entity_id=user.id,
        detail=f"{why},连续失败 {user.failed_logins} 次",
    )
    if user.locked_until is None:
        return False
    record(
        session,
        actor=actor,
        action="lockout",
        entity_type="user",
        entity_id=user.id,
        detail=f"锁定 {settings.lockout_minutes} 分钟",
    )
    user.failed_logins = 0
    return True


@unit_of_work
def authenticate(session: Session, *, username: str, password: str) -> SignedIn:
    """Check a sign-in; count failures, lock after too many, audit every outcome, commit.

    Every refusal says the same thing and costs one argon2 check, whether the account is unknown, disabled,
    locked or the password wrong (an unknown account is checked against a dummy hash), so neither the message
    nor the time tells which accounts exist. Only someone who typed the right password learns more (an expired
    one-time password).
    """
    settings = get_settings()
    at = now()
    name = username.strip()
    user = session.scalar(select(AppUser).where(AppUser.username == name))
    known = user is not None and user.is_active and user.username != SYSTEM_USERNAME
    matches = verify_password(user.password_hash if user is not None and known else None, password)
    if user is None or not known:
        record(
            session, actor=None, username=name, action="login", outcome="failure", detail="账号不存在或已停用"
        )
        session.commit()
        raise LoginFailed(WRONG_CREDENTIALS)
    actor = actor_of(user)
    if _locked(user, at):
        record(session, actor=actor, action="login", outcome="locked", entity_type="user", entity_id=user.id)
        session.commit()
        raise LoginFailed(WRONG_CREDENTIALS)
    if not matches:
        _count_failure(session, user, actor, at, action="login", why="密码错误")
        session.commit()
        raise LoginFailed(WRONG_CREDENTIALS)
    valid = timedelta(hours=settings.one_time_password_hours)
    if user.must_change_password and one_time_password_expired(
        issued_at=_aware(user.password_changed_at), now=at, valid=valid
    ):
        record(
            session,
            actor=actor,
            action="login",
            outcome="failure",
            entity_type="user",
            entity_id=user.id,
            detail="一次性密码已过期",
        )
        session.commit()
        raise LoginFailed(
            f"一次性密码已超过 {settings.one_time_password_hours} 小时的有效期,不能再用。"
            "请联系系统管理员重新发放一次性密码。"
        )
    detail = None
    if user.password_hash is not None and needs_rehash(user.password_hash):
        user.password_hash = hash_password(
            password
        )  # the argon2 parameters changed: store it the current way
        detail = "已按当前参数重新计算密码哈希"
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = at
    record(session, actor=actor, action="login", entity_type="user", entity_id=user.id, detail=detail)
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
def change_password(
    session: Session, *, actor: Actor, old_password: str, new_password: str, token: str | None = None
) -> int:
    """Change one's own password after checking the old one and the password rules, and sign out every other
    session of the account (a phone left signed in somewhere): all but the one whose token is given. A wrong old
    password counts towards the lockout like a wrong sign-in; when it locks the account, AccountLocked says the
    session ends. Returns how many other sessions were signed out."""
    settings = get_settings()
    user = session.get(AppUser, actor.user_id)
    if user is None or not user.is_active:
        raise AccountError("账号不存在或已停用")
    at = now()
    locked = f"原密码错误次数过多,账号已锁定 {settings.lockout_minutes} 分钟,请稍后重新登录"
    if _locked(user, at):
        record(
            session,
            actor=actor,
            action="password_change",
            outcome="locked",
            entity_type="user",
            entity_id=user.id,
        )
        session.commit()
        raise AccountLocked(locked)
    if not verify_password(user.password_hash, old_password):
        now_locked = _count_failure(session, user, actor, at, action="password_change", why="原密码错误")
        session.commit()
        raise AccountLocked(locked) if now_locked else AccountError("原密码错误")
    if problems := password_problems(new_password, username=user.username):
        raise AccountError(";".join(problems))
    if verify_password(user.password_hash, new_password):
        raise AccountError("新密码不能与原密码相同")
    before = public_view(user)
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.password_changed_at = at
    user.failed_logins = 0
    others = select(WebSession.id).where(WebSession.user_id == user.id, col(WebSession.ended_at).is_(None))
    if token:
        others = others.where(WebSession.token_hash != token_hash(token))
    ended = list(session.scalars(others))
    if ended:
        session.execute(
            update(WebSession)
            .where(col(WebSession.id).in_(ended))
            .values(ended_at=at, end_reason=PASSWORD_CHANGED)
        )
    for _ in ended:  # each ended session is one sign-out, as any other ending is
        record(
            session,
            actor=actor,
            action="logout",
            entity_type="user",
            entity_id=user.id,
            detail=PASSWORD_CHANGED,
        )
    record(
        session,
        actor=actor,
        action="password_change",
        entity_type="user",
        entity_id=user.id,
        before=before,
        after=public_view(user),
        detail=f"同时退出该账号的其他 {len(ended)} 处登录" if ended else None,
    )
    session.commit()
    return len(ended)


def one_time_password() -> str:
    """Return a random password that meets the rules (shown once, changed at first sign-in)."""
    # handed over in person: no characters that read alike (I l 1, O o 0)
    alphabet = "".join(c for c in string.ascii_letters + string.digits if c not in "Il1Oo0")
    while True:
        body = "".join(secrets.choice(alphabet) for _ in range(10))
        candidate = body[:5] + secrets.choice("@#%+=") + body[5:]
        if not password_problems(candidate):
            return candidate


def issue_one_time_password(
    user: AppUser, password: str | None = None, *, password_hash: str | None = None, must_change: bool = True
) -> str:
    """Give the account a new one-time password (random unless given), unlocked, to be changed at first sign-in
    and valid for the configured hours from now; return it to show once. A batch passes the password with the
    hash it made already (services.system.batch_passwords hashes many at once)."""
    chosen = password or one_time_password()
    user.password_hash = password_hash if password and password_hash else hash_password(chosen)
    user.must_change_password = must_change
    user.password_changed_at = now()
    user.failed_logins = 0
    user.locked_until = None
    return chosen


def scope_columns(session: Session, role: Role, scope_kind: ScopeKind, scope_code: str) -> dict[str, int]:
    """The scope column of an account of this role, found by the scope's code; refuse a scope the role cannot have."""
    if scope_kind not in ROLE_SCOPES[role]:
        allowed = "、".join(SCOPE_NAMES[k] for k in ROLE_SCOPES[role])
        raise AccountError(f"{role.label}的管辖范围只能是{allowed}")
    id_column, code_column = {
        ScopeKind.PROVINCE: (Province.id, Province.code),
        ScopeKind.CITY: (City.id, City.code),
        ScopeKind.COUNTY: (County.id, County.code),
        ScopeKind.TOWNSHIP: (Township.id, Township.code),
        ScopeKind.SCHOOL: (School.id, School.code),
    }[scope_kind]
    target_id = session.scalar(select(id_column).where(code_column == scope_code.strip()))
    if target_id is None:
        raise AccountError(f"找不到代码为 {scope_code} 的{SCOPE_NAMES[scope_kind]}")
    closed_on = {ScopeKind.TOWNSHIP: Township.closed_on, ScopeKind.SCHOOL: School.closed_on}.get(scope_kind)
    if closed_on is not None and session.scalar(select(closed_on).where(id_column == target_id)) is not None:
        raise AccountError(f"代码为 {scope_code} 的{SCOPE_NAMES[scope_kind]}已撤并或关闭,不能作为管辖范围")
    return {f"{scope_kind.value}_id": target_id}


def new_account_values(
    session: Session, *, username: str, display_name: str, role: Role, scope_kind: ScopeKind, scope_code: str
) -> dict[str, object]:
    """Check what a new account is given; return its columns (name, role, scope) or refuse in Chinese."""
    username = username.strip()
    if not username or not username.isascii() or not username.replace("_", "").replace(".", "").isalnum():
        raise AccountError("账号只能由英文字母、数字、下划线和点组成")
    if role is Role.SYSTEM:
        raise AccountError("系统操作员账号由系统内置,不能新建")
    if session.scalar(select(AppUser.id).where(AppUser.username == username)) is not None:
        raise AccountError(f"账号 {username} 已存在")
    if not display_name.strip():
        raise AccountError("请填写姓名")
    return {
        "username": username,
        "display_name": display_name.strip(),
        "role": role.value,
        "scope_kind": scope_kind.value,
        **scope_columns(session, role, scope_kind, scope_code),
    }


def _command_line_only(session: Session, actor: Actor, action: str, what: str) -> None:
    """Refuse (and audit) a direct account change by anyone but the server's command line."""
    require(session, actor, Action.USER_MANAGE)
    if not on_command_line(actor):
        deny(
            session,
            actor,
            action,
            f"不能直接{what}:请在“账号管理”页提交申请,经第二人批准后生效;"
            "系统管理员、审计员账号只能在服务器命令行上办理",
            entity_type="user",
        )


def add_account(
    session: Session,
    actor: Actor,
    user: AppUser,
    *,
    detail: str,
    password: str | None = None,
    password_hash: str | None = None,
    must_change: bool = True,
) -> str:
    """Store a new account with a one-time password (or the given one, with its hash if made already) and its
    audit entry; return the password."""
    chosen = issue_one_time_password(user, password, password_hash=password_hash, must_change=must_change)
    session.add(user)
    session.flush()
    record(
        session,
        actor=actor,
        action="create",
        entity_type="user",
        entity_id=user.id,
        after=public_view(user),
        detail=detail,
    )
    return chosen


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
    """Create an account with a one-time password (or the given one), on the server's command line only.

    This is how administrator and auditor accounts are made, and the first county officer; in the app an
    administrator requests a new account instead (role_grants.request_account) and a second person approves it.
    """
    _command_line_only(session, actor, "user.create", "新建账号")
    values = new_account_values(
        session,
        username=username,
        display_name=display_name,
        role=role,
        scope_kind=scope_kind,
        scope_code=scope_code,
    )
    if password and (problems := password_problems(password, username=str(values["username"]))):
        raise AccountError(";".join(problems))
    user = AppUser(**values)
    chosen = add_account(session, actor, user, detail=COMMAND_LINE, password=password)
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
    """Give an account a new one-time password and unlock it, on the server's command line only (in the app a
    reset is requested and approved: role_grants.request_password_reset)."""
    _command_line_only(session, actor, "user.reset_password", "重置密码")
    user = _managed_user(session, actor, user_id)
    before = public_view(user)
    password = issue_one_time_password(user)
    record(
        session,
        actor=actor,
        action="password_reset",
        entity_type="user",
        entity_id=user.id,
        before=before,
        after=public_view(user),
        detail=COMMAND_LINE,
    )
    session.commit()
    return password


def move_account(user: AppUser, role: Role, scope_kind: ScopeKind, columns: dict[str, int]) -> None:
    """Give the account this role and scope (one role per account, so duties stay separated)."""
    user.role, user.scope_kind = role.value, scope_kind.value
    user.county_id = user.township_id = user.school_id = None
    for column, value in columns.items():
        setattr(user, column, value)


@unit_of_work
def set_role_and_scope(
    session: Session, *, actor: Actor, user_id: int, role: Role, scope_kind: ScopeKind, scope_code: str
) -> None:
    """Give an account another role or scope, on the server's command line only (in the app: requested and
    approved, role_grants.request_role_change)."""
    _command_line_only(session, actor, "user.set_role", "更改角色或管辖范围")
    user = _managed_user(session, actor, user_id)
    if role is Role.SYSTEM:
        raise AccountError("系统操作员账号由系统内置,不能设置")
    before = public_view(user)
    move_account(user, role, scope_kind, scope_columns(session, role, scope_kind, scope_code))
    record(
        session,
        actor=actor,
        action="update",
        entity_type="user",
        entity_id=user.id,
        before=before,
        after=public_view(user),
        detail=f"更改角色或管辖范围({COMMAND_LINE})",
    )
    session.commit()


@unit_of_work
def set_active(session: Session, *, actor: Actor, user_id: int, active: bool) -> None:
    """Disable (or enable again) an account; accounts are never deleted, so the audit log keeps its names.
    An auditor's account is switched only on the server's command line: the administrator cannot blind the
    person who checks them."""
    user = _managed_user(session, actor, user_id)
    if user.role == Role.AUDITOR.value and not on_command_line(actor):
        deny(
            session,
            actor,
            "user.set_active",
            "审计员账号只能在服务器命令行上停用或启用",
            entity_type="user",
            entity_id=user.id,
        )
    if user.id == actor.user_id and not active:
        raise AccountError("不能停用自己的账号")
    before = public_view(user)
    user.is_active = active
    record(
        session,
        actor=actor,
        action="update",
        entity_type="user",
        entity_id=user.id,
        before=before,
        after=public_view(user),
        detail=("启用账号" if active else "停用账号")
        + (f"({COMMAND_LINE})" if on_command_line(actor) else ""),
    )
    session.commit()


@dataclass(frozen=True)
class UserRow:
    """One account as the administrator's list shows it (labels, not codes)."""

    id: int
    username: str
    display_name: str
    role: str
    scope: str
    is_active: bool
    must_change_password: bool
    locked: bool
    last_login_at: datetime | None
    command_line_only: bool  # administrator and auditor accounts: reset and changed on the command line only


def scope_names(session: Session) -> dict[tuple[str, int | None], str]:
    """The name of every province, city, county, township and school, by (scope kind, id)."""
    return (
        {("province", i): n for i, n in session.execute(select(Province.id, Province.name))}
        | {("city", i): n for i, n in session.execute(select(City.id, City.name))}
        | {("county", i): n for i, n in session.execute(select(County.id, County.name))}
        | {("township", i): n for i, n in session.execute(select(Township.id, Township.name))}
        | {("school", i): n for i, n in session.execute(select(School.id, School.name))}
    )


def list_users(session: Session, *, actor: Actor) -> list[UserRow]:
    """Every account but the built-in operator, with the name of its scope."""
    require(session, actor, Action.USER_MANAGE)
    names = scope_names(session)
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
                Role(user.role) in COMMAND_LINE_ROLES,
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
    user = AppUser(
        username="admin",
        display_name="系统管理员",
        role=Role.ADMIN.value,
        scope_kind=ScopeKind.COUNTY.value,
        county_id=session.scalar(select(County.id).order_by(County.id)),
    )
    chosen = add_account(session, operator, user, detail=COMMAND_LINE, password=password)
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
