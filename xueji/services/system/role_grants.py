"""Separation of duties: in the app the administrator only requests a new account, a role or scope, or a password
reset; a second person approves it (auth.GRANT_APPROVERS: the role that may, with a scope holding the request's),
and only then does it take effect. The one-time password of an approved new account or reset is shown to the
approver, who hands it over in person: the administrator never holds a password that reads children's data.
Administrator and auditor accounts are never requested here: they are made on the server's command line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlmodel import Session, col

from xueji.audit import record
from xueji.auth import COMMAND_LINE_ROLES, GRANT_APPROVERS, ROLE_SCOPES, Action, Actor
from xueji.clock import now
from xueji.db import unit_of_work
from xueji.models import AppUser, RoleGrant, School, Township
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.common.access import deny, require
from xueji.services.system.accounts import (
    AccountError,
    add_account,
    issue_one_time_password,
    move_account,
    new_account_values,
    public_view,
    scope_columns,
    scope_names,
)


class GrantKind(StrEnum):
    NEW_ACCOUNT = "new_account"
    ROLE_CHANGE = "role_change"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a kind of request, not a password

    @property
    def label(self) -> str:
        return {"new_account": "新建账号", "role_change": "更改角色或范围", "password_reset": "重置密码"}[
            self.value
        ]


class GrantStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {"pending": "待批准", "approved": "已批准", "rejected": "已驳回", "cancelled": "已撤回"}[
            self.value
        ]


_WHERE = {ScopeKind.COUNTY: "本县", ScopeKind.TOWNSHIP: "本乡镇", ScopeKind.SCHOOL: "本校"}


def approvers_label(role: Role) -> str:
    """Who approves a request for this role, in words (本校学籍管理员或本县县教育局)."""
    names = [
        f"{_WHERE[min(ROLE_SCOPES[a], key=list(ScopeKind).index)]}{a.label}"
        for a in sorted(GRANT_APPROVERS.get(role, ()), key=list(Role).index, reverse=True)
    ]
    return "或".join(names) if names else "服务器命令行"


@dataclass(frozen=True)
class GrantRow:
    """One request as the pages show it: labels, never codes."""

    id: int
    kind: str
    username: str
    display_name: str
    role: str
    scope: str
    current: str  # the account's role and scope now (empty for a new account)
    requested_by: str
    requested_at: datetime
    status: str
    decided_by: str
    decided_at: datetime | None
    note: str
    approvers: str
    own_account_of_requester: bool  # the administrator asked for their own account: the approver should know


@dataclass(frozen=True)
class Approved:
    """What the approver is told: the account, and its one-time password to hand over (new account, reset)."""

    username: str
    display_name: str
    password: str | None


def scope_of(row: RoleGrant | AppUser) -> tuple[ScopeKind, int | None]:
    kind = ScopeKind(row.scope_kind)
    return kind, {
        ScopeKind.COUNTY: row.county_id,
        ScopeKind.TOWNSHIP: row.township_id,
        ScopeKind.SCHOOL: row.school_id,
    }[kind]


def scope_holds(
    session: Session, outer: tuple[ScopeKind, int | None], inner: tuple[ScopeKind, int | None]
) -> bool:
    """Tell whether the inner scope (a county, township or school) lies inside the outer one."""
    (outer_kind, outer_id), (kind, target) = outer, inner
    if outer_id is None or target is None:
        return False
    if kind is outer_kind:
        return target == outer_id
    township = (
        target
        if kind is ScopeKind.TOWNSHIP
        else session.scalar(select(School.township_id).where(School.id == target))
        if kind is ScopeKind.SCHOOL
        else None
    )
    if outer_kind is ScopeKind.TOWNSHIP:
        return kind is ScopeKind.SCHOOL and township == outer_id
    if outer_kind is ScopeKind.COUNTY and township is not None:
        return session.scalar(select(Township.county_id).where(Township.id == township)) == outer_id
    return False


def _actor_scope(actor: Actor) -> tuple[ScopeKind, int | None]:
    return actor.scope_kind, actor.scope_id


def grant_view(grant: RoleGrant) -> dict[str, object]:
    """The audited view of a request."""
    kind, scope_id = scope_of(grant)
    return {
        "申请": GrantKind(grant.kind).label,
        "账号": grant.username,
        "姓名": grant.display_name,
        "角色": Role(grant.role).label,
        "范围": f"{kind.value}:{scope_id}",
        "状态": GrantStatus(grant.status).label,
    }


def _requestable(session: Session, actor: Actor, role: Role, action: str) -> None:
    """Refuse (and audit) a request for a role that is never requested in the app."""
    if role in COMMAND_LINE_ROLES:
        deny(
            session,
            actor,
            action,
            f"{role.label}账号只能在服务器命令行上创建、更改和重置(xueji user …),不能在页面上申请",
            entity_type="role_grant",
        )
    if role not in GRANT_APPROVERS:
        raise AccountError(f"不能申请{role.label}角色")


def _in_requester_scope(
    session: Session, actor: Actor, scope: tuple[ScopeKind, int | None], action: str
) -> None:
    if not scope_holds(session, _actor_scope(actor), scope):
        deny(session, actor, action, "该管辖范围不在您的管辖范围内", entity_type="role_grant")


def _no_open_request(session: Session, username: str) -> None:
    pending = select(RoleGrant.id).where(
        RoleGrant.username == username, RoleGrant.status == GrantStatus.PENDING.value
    )
    if session.scalar(pending) is not None:
        raise AccountError(f"账号 {username} 已有一条待批准的申请,请等它处理完或撤回后再申请")


def _file(session: Session, actor: Actor, grant: RoleGrant, what: str) -> RoleGrant:
    session.add(grant)
    session.flush()
    record(
        session,
        actor=actor,
        action="grant_request",
        entity_type="role_grant",
        entity_id=grant.id,
        after=grant_view(grant),
        detail=f"{what},待{approvers_label(Role(grant.role))}批准",
    )
    session.commit()
    return grant


@unit_of_work
def request_account(
    session: Session,
    *,
    actor: Actor,
    username: str,
    display_name: str,
    role: Role,
    scope_kind: ScopeKind,
    scope_code: str,
) -> RoleGrant:
    """Request a new account; it is created, with a one-time password for the approver to hand over, on approval."""
    require(session, actor, Action.USER_MANAGE)
    _requestable(session, actor, role, "grant.request_account")
    values = new_account_values(
        session,
        username=username,
        display_name=display_name,
        role=role,
        scope_kind=scope_kind,
        scope_code=scope_code,
    )
    grant = RoleGrant(kind=GrantKind.NEW_ACCOUNT.value, requested_by=actor.user_id, **values)
    _in_requester_scope(session, actor, scope_of(grant), "grant.request_account")
    _no_open_request(session, grant.username)
    return _file(session, actor, grant, f"申请新建{role.label}账号")


def _subject(session: Session, actor: Actor, user_id: int, action: str) -> AppUser:
    """The account a request is about; an auditor's or the operator's is refused (and audited)."""
    require(session, actor, Action.USER_MANAGE)
    user = session.get(AppUser, user_id)
    if user is None or user.role == Role.SYSTEM.value:
        raise AccountError("账号不存在")
    if user.role == Role.AUDITOR.value:
        deny(
            session,
            actor,
            action,
            "审计员账号只能在服务器命令行上创建、更改和重置(xueji user …)",
            entity_type="user",
            entity_id=user.id,
        )
    return user


@unit_of_work
def request_role_change(
    session: Session, *, actor: Actor, user_id: int, role: Role, scope_kind: ScopeKind, scope_code: str
) -> RoleGrant:
    """Request another role or scope for an account (the administrator's own too); it changes on approval."""
    user = _subject(session, actor, user_id, "grant.request_role")
    _requestable(session, actor, role, "grant.request_role")
    columns = scope_columns(session, role, scope_kind, scope_code)
    grant = RoleGrant(
        kind=GrantKind.ROLE_CHANGE.value,
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=role.value,
        scope_kind=scope_kind.value,
        requested_by=actor.user_id,
        **columns,
    )
    if (grant.role, scope_of(grant)) == (user.role, scope_of(user)):
        raise AccountError("角色和管辖范围都没有变化")
    _in_requester_scope(session, actor, scope_of(grant), "grant.request_role")
    _no_open_request(session, user.username)
    return _file(session, actor, grant, f"申请把角色改为{role.label}")


@unit_of_work
def request_password_reset(session: Session, *, actor: Actor, user_id: int) -> RoleGrant:
    """Request a new one-time password for an account; the approver receives it, to hand over in person."""
    user = _subject(session, actor, user_id, "grant.request_reset")
    if user.id == actor.user_id:
        raise AccountError("不能为自己申请重置密码:请在“修改密码”页修改")
    _requestable(session, actor, Role(user.role), "grant.request_reset")
    grant = RoleGrant(
        kind=GrantKind.PASSWORD_RESET.value,
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        scope_kind=user.scope_kind,
        county_id=user.county_id,
        township_id=user.township_id,
        school_id=user.school_id,
        requested_by=actor.user_id,
    )
    _no_open_request(session, user.username)
    return _file(session, actor, grant, "申请重置密码")


def _pending(session: Session, grant_id: int) -> RoleGrant:
    """The request, locked for this transaction; refuse one already decided (two approvers at once)."""
    grant = session.scalar(select(RoleGrant).where(RoleGrant.id == grant_id).with_for_update())
    if grant is None:
        raise AccountError("申请不存在")
    if grant.status != GrantStatus.PENDING.value:
        raise AccountError(f"该申请已被处理({GrantStatus(grant.status).label})")
    return grant


def _refusal(session: Session, actor: Actor, grant: RoleGrant) -> str | None:
    """Why this actor may not decide this request, or None."""
    role = Role(grant.role)
    if actor.role not in GRANT_APPROVERS.get(role, frozenset()):
        return f"{role.label}的申请须由{approvers_label(role)}批准"
    if actor.user_id in (grant.requested_by, grant.user_id):
        return "不能批准自己提交的申请,也不能批准涉及自己账号的申请"
    if not scope_holds(session, _actor_scope(actor), scope_of(grant)):
        return "该申请的管辖范围不在您的管辖范围内"
    return None


def _decidable(session: Session, actor: Actor, grant_id: int, action: str) -> RoleGrant:
    require(session, actor, Action.GRANT_APPROVE)
    grant = _pending(session, grant_id)
    if why := _refusal(session, actor, grant):
        deny(session, actor, action, why, entity_type="role_grant", entity_id=grant_id)
    return grant


def decide(session: Session, actor: Actor, grant: RoleGrant, status: GrantStatus) -> None:
    grant.status = status.value
    grant.decided_by = actor.user_id
    grant.decided_at = now()


def create_requested_account(
    session: Session, actor: Actor, grant: RoleGrant, issued: tuple[str, str] | None = None
) -> tuple[AppUser, str]:
    """The requested account, with a one-time password (issued: one hashed already, with its hash)."""
    if session.scalar(select(AppUser.id).where(AppUser.username == grant.username)) is not None:
        raise AccountError(f"账号 {grant.username} 已存在(申请之后在命令行上建的),请驳回本申请")
    kind, scope_id = scope_of(grant)
    user = AppUser(
        username=grant.username,
        display_name=grant.display_name,
        role=grant.role,
        scope_kind=kind.value,
        phone=grant.phone,
        **{f"{kind.value}_id": scope_id},
    )
    password, password_hash = issued or (None, None)
    password = add_account(
        session, actor, user, detail=f"批准申请 {grant.id}", password=password, password_hash=password_hash
    )
    grant.user_id = user.id
    return user, password


def _change_account(session: Session, actor: Actor, grant: RoleGrant) -> tuple[AppUser, str | None]:
    user = session.get(AppUser, grant.user_id)
    if user is None or user.role == Role.AUDITOR.value:
        raise AccountError("该账号已不能按本申请更改,请驳回本申请")
    before = public_view(user)
    password = None
    if grant.kind == GrantKind.PASSWORD_RESET.value:
        # the approver was chosen for the account's role and scope at the time of the request
        if (user.role, scope_of(user)) != (grant.role, scope_of(grant)):
            raise AccountError("该账号的角色或管辖范围在申请之后已变,请驳回本申请,由管理员重新申请")
        password = issue_one_time_password(user)
        action, detail = "password_reset", f"批准申请 {grant.id}"
    else:
        kind, scope_id = scope_of(grant)
        move_account(user, Role(grant.role), kind, {f"{kind.value}_id": int(scope_id or 0)})
        action, detail = "update", f"更改角色或管辖范围,批准申请 {grant.id}"
    record(
        session,
        actor=actor,
        action=action,
        entity_type="user",
        entity_id=user.id,
        before=before,
        after=public_view(user),
        detail=detail,
    )
    return user, password


@unit_of_work
def approve(session: Session, *, actor: Actor, grant_id: int) -> Approved:
    """Approve a request and carry it out; a new account's or a reset's one-time password is returned to the
    approver only, shown once."""
    grant = _decidable(session, actor, grant_id, "grant.approve")
    if grant.batch is not None:  # its classes are assigned with it: services.system.grant_batches
        raise AccountError("该申请属于一批导入的账号,请在“账号审批”页按批次批准")
    apply = create_requested_account if grant.kind == GrantKind.NEW_ACCOUNT.value else _change_account
    user, password = apply(session, actor, grant)
    decide(session, actor, grant, GrantStatus.APPROVED)
    record(
        session,
        actor=actor,
        action="grant_approve",
        entity_type="role_grant",
        entity_id=grant.id,
        after=grant_view(grant),
        detail=f"批准:{GrantKind(grant.kind).label} {grant.username}",
    )
    session.commit()
    return Approved(user.username, user.display_name, password)


@unit_of_work
def reject(session: Session, *, actor: Actor, grant_id: int, reason: str) -> None:
    """Reject a request, with the reason the administrator will read."""
    grant = _decidable(session, actor, grant_id, "grant.reject")
    if not reason.strip():
        raise AccountError("请填写驳回原因")
    decide(session, actor, grant, GrantStatus.REJECTED)
    grant.note = reason.strip()[:200]
    record(
        session,
        actor=actor,
        action="grant_reject",
        entity_type="role_grant",
        entity_id=grant.id,
        after=grant_view(grant),
        detail=f"驳回:{grant.note}",
    )
    session.commit()


@unit_of_work
def cancel(session: Session, *, actor: Actor, grant_id: int) -> None:
    """Withdraw a pending request (an administrator's)."""
    require(session, actor, Action.USER_MANAGE)
    grant = _pending(session, grant_id)
    decide(session, actor, grant, GrantStatus.CANCELLED)
    record(
        session,
        actor=actor,
        action="grant_cancel",
        entity_type="role_grant",
        entity_id=grant.id,
        after=grant_view(grant),
        detail="撤回申请",
    )
    session.commit()


def _rows(session: Session, grants: list[RoleGrant]) -> list[GrantRow]:
    names = scope_names(session)
    ids = {g.requested_by for g in grants} | {g.decided_by for g in grants} | {g.user_id for g in grants}
    people = {
        u.id: u
        for u in session.scalars(
            select(AppUser).where(col(AppUser.id).in_([i for i in ids if i is not None]))
        )
    }

    def who(user_id: int | None) -> str:
        user = people.get(user_id) if user_id is not None else None
        return f"{user.display_name}({user.username})" if user else ""

    def where(row: RoleGrant | AppUser) -> str:
        kind, scope_id = scope_of(row)
        return names.get((kind.value, scope_id), "")

    rows = []
    for g in grants:
        subject = people.get(g.user_id) if g.user_id is not None else None
        current = (
            f"{Role(subject.role).label} · {where(subject)}"
            if subject is not None and g.kind != GrantKind.NEW_ACCOUNT.value
            else ""
        )
        rows.append(
            GrantRow(
                id=int(g.id or 0),
                kind=GrantKind(g.kind).label,
                username=g.username,
                display_name=g.display_name,
                role=Role(g.role).label,
                scope=where(g),
                current=current,
                requested_by=who(g.requested_by),
                requested_at=g.requested_at,
                status=GrantStatus(g.status).label,
                decided_by=who(g.decided_by),
                decided_at=g.decided_at,
                note=g.note or "",
                approvers=approvers_label(Role(g.role)),
                own_account_of_requester=g.user_id is not None and g.user_id == g.requested_by,
            )
        )
    return rows


def _pending_grants(session: Session) -> list[RoleGrant]:
    query = select(RoleGrant).where(RoleGrant.status == GrantStatus.PENDING.value).order_by(RoleGrant.id)
    return list(session.scalars(query))


def decidable_by(session: Session, actor: Actor, grants: list[RoleGrant]) -> list[RoleGrant]:
    """The requests among these the actor may decide; asked once per role, scope, requester and account (a
    batch of thousands of requests has a few hundred of those)."""
    verdicts: dict[tuple, bool] = {}
    mine = []
    for grant in grants:
        key = (grant.role, scope_of(grant), grant.requested_by, grant.user_id)
        if key not in verdicts:
            verdicts[key] = _refusal(session, actor, grant) is None
        if verdicts[key]:
            mine.append(grant)
    return mine


def awaiting(session: Session, *, actor: Actor) -> list[GrantRow]:
    """The pending requests this actor may approve one by one (not those of a batch), oldest first."""
    require(session, actor, Action.GRANT_APPROVE)
    single = [g for g in _pending_grants(session) if g.batch is None]
    return _rows(session, decidable_by(session, actor, single))


def awaiting_count(session: Session, *, actor: Actor) -> int:
    """How many pending requests wait for this actor, batches' included (0 for a role that approves none)."""
    if not actor.can(Action.GRANT_APPROVE):
        return 0
    return len(decidable_by(session, actor, _pending_grants(session)))


def requests(session: Session, *, actor: Actor, decided: int = 50) -> tuple[list[GrantRow], list[GrantRow]]:
    """The administrator's view: every pending request, and the latest decided ones."""
    require(session, actor, Action.USER_MANAGE)
    recent = session.scalars(
        select(RoleGrant)
        .where(RoleGrant.status != GrantStatus.PENDING.value)
        .order_by(col(RoleGrant.decided_at).desc(), col(RoleGrant.id).desc())
        .limit(decided)
    )
    return _rows(session, _pending_grants(session)), _rows(session, list(recent))
