"""The accounts of a school or township that was merged: a merge never moves them, since an account reaching
another school's children is a second person's decision (services.system.role_grants). Here the administrator
files, in one go, a request per account to move it to the school or township that took the closed one over;
each waits for its approver, and the account sees nothing of the moved records until then."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from xueji.auth import Action, Actor
from xueji.models import AppUser, School, Township
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.common.access import require
from xueji.services.setup.divisions import DivisionError, accounts_left
from xueji.services.system import role_grants
from xueji.services.system.accounts import AccountError


@dataclass(frozen=True)
class Rescoped:
    target: str  # the school or township the requests ask for
    filed: list[str] = field(default_factory=list)  # account names with a request now waiting
    skipped: list[str] = field(default_factory=list)  # "account: why" for those without one


def request_rescope(session: Session, *, actor: Actor, scope_kind: ScopeKind, scope_id: int) -> Rescoped:
    """For each active account scoped to this merged school or township, request the same role at the one it
    was merged into (each request its own unit of work, audited by role_grants). Returns what was filed."""
    require(session, actor, Action.USER_MANAGE)
    closed: School | Township | None
    target: School | Township
    if scope_kind is ScopeKind.SCHOOL:
        closed = session.get(School, scope_id)
        if closed is not None and closed.merged_into_id is not None:
            target = session.get_one(School, closed.merged_into_id)
    else:
        closed = session.get(Township, scope_id)
        if closed is not None and closed.merged_into_id is not None:
            target = session.get_one(Township, closed.merged_into_id)
    if closed is None or closed.merged_into_id is None:
        raise DivisionError("只有已撤并的学校或乡镇才能为其账号申请改到接收单位")
    result = Rescoped(target.name)
    for account in accounts_left(session, scope_kind, scope_id):
        user = session.get_one(AppUser, account.id)
        try:
            role_grants.request_role_change(
                session,
                actor=actor,
                user_id=account.id,
                role=Role(user.role),
                scope_kind=scope_kind,
                scope_code=target.code,
            )
        except AccountError as error:
            result.skipped.append(f"{account.username}:{error}")
        else:
            result.filed.append(account.username)
    return result
