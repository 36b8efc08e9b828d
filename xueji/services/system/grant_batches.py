"""A batch of new-account requests (账号导入 in the app): the administrator files a checked workbook as one
request per account, sharing a batch id, with the classes each teacher will teach (GrantClass); a second person
approves the whole batch, or the part their role and scope may approve (auth.GRANT_APPROVERS: the county officer
all of it, a registrar their school's teachers), with one confirmation. The accounts are then created with
one-time passwords, the classes assigned, and the passwords come back to the approver as a workbook to download
once: they are never stored. Rejecting works the same way; every step is audited."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from xueji.audit import Entry, record, record_many
from xueji.auth import Action, Actor
from xueji.db import unit_of_work
from xueji.excel.account_template import PasswordLine, passwords_workbook
from xueji.models import AppUser, GrantClass, RoleGrant
from xueji.rules.vocab import Role
from xueji.services.common.access import deny, require
from xueji.services.setup.account_import import AccountSheet, recheck
from xueji.services.setup.teaching_classes import Assigned, Teaching, assign_teaching
from xueji.services.system import batch_passwords
from xueji.services.system.accounts import AccountError, scope_names
from xueji.services.system.role_grants import (
    GrantKind,
    GrantStatus,
    approvers_label,
    create_requested_account,
    decidable_by,
    decide,
    grant_view,
    scope_of,
)
from xueji.sql import chunked


def batch_label(batch: str) -> str:
    """How people name a batch: the first 8 characters of its id."""
    return f"批次 {batch[:8]}"


@dataclass(frozen=True)
class Filed:
    batch: str
    accounts: int
    teaching: int
    approvers: str  # who approves, in words


@unit_of_work
def request_batch(session: Session, *, actor: Actor, sheet: AccountSheet) -> Filed:
    """File the checked workbook's accounts as one batch of requests (checked again under the write lock)."""
    require(session, actor, Action.USER_MANAGE)
    checked = recheck(session, actor, sheet, what="提交")
    batch = uuid.uuid4().hex
    grants = [
        RoleGrant(
            kind=GrantKind.NEW_ACCOUNT.value,
            requested_by=actor.user_id,
            batch=batch,
            phone=a.phone,
            **a.values,
        )
        for a in checked.accounts
    ]
    session.add_all(grants)
    session.flush()
    ids = {g.username: int(g.id or 0) for g in grants}
    session.add_all(
        GrantClass(
            grant_id=ids[t.username],
            school_id=t.school_id,
            class_code=t.class_code,
            head_teacher=t.head_teacher,
        )
        for t in checked.teaching
    )
    where = f"账号导入 {sheet.file_name},{batch_label(batch)}"
    record_many(
        session,
        actor=actor,
        entries=[
            Entry(
                "grant_request",
                entity_type="role_grant",
                entity_id=g.id,
                after=grant_view(g),
                detail=f"申请新建{Role(g.role).label}账号({where}),待{approvers_label(Role(g.role))}批准",
            )
            for g in grants
        ],
    )
    roles = {Role(g.role) for g in grants}
    # 本县县教育局 for some roles, 本校学籍管理员或本县县教育局 for teachers: each approver named once
    approvers = "或".join(dict.fromkeys(a for r in sorted(roles) for a in approvers_label(r).split("或")))
    record(
        session,
        actor=actor,
        action="import",
        entity_type="grant_batch",
        entity_id=batch,
        after={"import": "账号导入", "file_name": sheet.file_name[:200], "sha256": sheet.digest},
        detail=f"{where}:申请新建账号 {len(grants)} 个、任教班级 {len(checked.teaching)} 条,待{approvers}批准"[
            :500
        ],
    )
    session.commit()
    return Filed(batch, len(grants), len(checked.teaching), approvers)


def _pending(session: Session, batch: str | None = None, *, lock: bool = False) -> list[RoleGrant]:
    query = select(RoleGrant).where(
        RoleGrant.status == GrantStatus.PENDING.value, col(RoleGrant.batch).is_not(None)
    )
    if batch is not None:
        query = query.where(RoleGrant.batch == batch)
    query = query.order_by(RoleGrant.id)
    return list(session.scalars(query.with_for_update() if lock else query))


def _classes_of(session: Session, grant_ids: list[int]) -> list[GrantClass]:
    found: list[GrantClass] = []
    for part in chunked(grant_ids):
        found += session.scalars(select(GrantClass).where(col(GrantClass.grant_id).in_(part)))
    return found


def _people(session: Session, ids: set[int]) -> dict[int, str]:
    rows = session.execute(
        select(AppUser.id, AppUser.display_name, AppUser.username).where(col(AppUser.id).in_(ids))
    )
    return {i: f"{name}({username})" for i, name, username in rows}


@dataclass(frozen=True)
class BatchView:
    """A batch as its approver sees it: their part of it, counted per role and scope."""

    batch: str
    requested_by: str
    requested_at: datetime
    pending: int  # requests of the batch still pending, the approver's and others'
    mine: int  # those this approver may decide
    per_role_scope: list[tuple[str, str, int]] = field(default_factory=list)  # (role, scope, accounts)
    head_teachers: int = 0
    assignments: int = 0

    @property
    def label(self) -> str:
        return f"{batch_label(self.batch)} · {self.requested_by} · 您可批准 {self.mine} 个账号"


def batches_awaiting(session: Session, *, actor: Actor) -> list[BatchView]:
    """The batches with requests this actor may approve, oldest first."""
    require(session, actor, Action.GRANT_APPROVE)
    pending = _pending(session)
    mine = decidable_by(session, actor, pending)
    if not mine:
        return []
    names = scope_names(session)
    people = _people(session, {g.requested_by for g in mine})
    teaching = Counter(
        (c.grant_id, c.head_teacher) for c in _classes_of(session, [int(g.id or 0) for g in mine])
    )
    by_batch: dict[str, list[RoleGrant]] = defaultdict(list)
    for g in mine:
        by_batch[str(g.batch)].append(g)
    totals = Counter(str(g.batch) for g in pending)
    views = []
    for batch, grants in by_batch.items():
        counts = Counter(
            (Role(g.role).label, names.get((scope_of(g)[0].value, scope_of(g)[1]), "")) for g in grants
        )
        ids = {g.id for g in grants}
        views.append(
            BatchView(
                batch=batch,
                requested_by=people.get(grants[0].requested_by, ""),
                requested_at=grants[0].requested_at,
                pending=totals[batch],
                mine=len(grants),
                per_role_scope=[(role, scope, n) for (role, scope), n in sorted(counts.items())],
                head_teachers=sum(n for (g, head), n in teaching.items() if head and g in ids),
                assignments=sum(n for (g, head), n in teaching.items() if not head and g in ids),
            )
        )
    return views


def _mine(session: Session, actor: Actor, batch: str, action: str) -> tuple[list[RoleGrant], int]:
    """The batch's pending requests this actor may decide (locked), and how many the batch has pending."""
    require(session, actor, Action.GRANT_APPROVE)
    grants = _pending(session, batch, lock=True)
    if not grants:
        raise AccountError(f"{batch_label(batch)}已没有待批准的申请(可能已被他人处理)")
    mine = decidable_by(session, actor, grants)
    if not mine:
        deny(
            session, actor, action, "本批次中没有您可以批准的申请", entity_type="grant_batch", entity_id=batch
        )
    return mine, len(grants)


@dataclass(frozen=True)
class BatchApproved:
    """What the approver is given: counts, and the passwords workbook to download once (never stored)."""

    batch: str
    accounts: int
    left: int  # requests of the batch still pending, for another approver
    assigned: Assigned
    passwords: bytes = field(repr=False)


@unit_of_work
def approve_batch(session: Session, *, actor: Actor, batch: str) -> BatchApproved:
    """Approve every request of the batch this actor may approve: create the accounts with one-time passwords,
    assign their classes, all or nothing; return the passwords as a workbook for the approver only."""
    mine, pending = _mine(session, actor, batch, "grant.approve_batch")
    issued = batch_passwords.one_time_passwords(len(mine))
    until = batch_passwords.valid_until()
    names = scope_names(session)
    lines, entries = [], []
    for grant, given in zip(mine, issued, strict=True):
        user, password = create_requested_account(
            session, actor, grant, (given.password, given.password_hash)
        )
        decide(session, actor, grant, GrantStatus.APPROVED)
        kind, scope_id = scope_of(grant)
        lines.append(
            PasswordLine(
                user.username, user.display_name, Role(user.role).label, names.get((kind.value, scope_id), ""),
                password, until,
            )
        )  # fmt: skip
        entries.append(
            Entry(
                "grant_approve",
                entity_type="role_grant",
                entity_id=grant.id,
                after=grant_view(grant),
                detail=f"批准:{GrantKind.NEW_ACCOUNT.label} {grant.username}({batch_label(batch)})",
            )
        )
    users = {int(g.id or 0): int(g.user_id or 0) for g in mine}
    assigned = assign_teaching(
        session,
        actor,
        [
            Teaching(users[c.grant_id], c.school_id, c.class_code, c.head_teacher)
            for c in _classes_of(session, list(users))
        ],
        detail=f"批准{batch_label(batch)}",
    )
    record_many(session, actor=actor, entries=entries)
    record(
        session,
        actor=actor,
        action="grant_approve",
        entity_type="grant_batch",
        entity_id=batch,
        detail=f"批准{batch_label(batch)}:新建账号 {len(mine)} 个,新建班级 {assigned.classes_created} 个,"
        f"班主任 {assigned.head_teachers} 人次,任教 {assigned.assignments} 条;一次性密码已发放 {len(mine)} 个,"
        "由批准人下载(系统不保存)",
    )
    session.commit()
    return BatchApproved(batch, len(mine), pending - len(mine), assigned, passwords_workbook(lines))


@unit_of_work
def reject_batch(session: Session, *, actor: Actor, batch: str, reason: str) -> int:
    """Reject every request of the batch this actor may decide, with the reason the administrator will read."""
    if not reason.strip():
        raise AccountError("请填写驳回原因")
    mine, _ = _mine(session, actor, batch, "grant.reject_batch")
    note = reason.strip()[:200]
    for grant in mine:
        grant.note = note
    return _close_all(session, actor, mine, GrantStatus.REJECTED, f"驳回({batch_label(batch)}):{note}")


@unit_of_work
def cancel_batch(session: Session, *, actor: Actor, batch: str) -> int:
    """Withdraw every pending request of a batch (the administrator's)."""
    require(session, actor, Action.USER_MANAGE)
    grants = _pending(session, batch, lock=True)
    if not grants:
        raise AccountError(f"{batch_label(batch)}已没有待批准的申请")
    return _close_all(session, actor, grants, GrantStatus.CANCELLED, f"撤回申请({batch_label(batch)})")


def _close_all(
    session: Session, actor: Actor, grants: list[RoleGrant], status: GrantStatus, detail: str
) -> int:
    """Reject or withdraw these requests, one audit entry each, committed; return how many."""
    action = {GrantStatus.REJECTED: "grant_reject", GrantStatus.CANCELLED: "grant_cancel"}[status]
    for grant in grants:
        decide(session, actor, grant, status)
    record_many(
        session,
        actor=actor,
        entries=[
            Entry(action, entity_type="role_grant", entity_id=g.id, after=grant_view(g), detail=detail)
            for g in grants
        ],
    )
    session.commit()
    return len(grants)


@dataclass(frozen=True)
class BatchSummary:
    """A batch as the administrator follows it: how many of its requests stand where."""

    batch: str
    requested_by: str
    requested_at: datetime
    counts: dict[str, int]  # status label → requests

    @property
    def pending(self) -> int:
        return self.counts.get(GrantStatus.PENDING.label, 0)


def batch_summaries(session: Session, *, actor: Actor, limit: int = 20) -> list[BatchSummary]:
    """The latest batches, newest first, with their requests counted by status."""
    require(session, actor, Action.USER_MANAGE)
    rows = session.execute(
        select(
            RoleGrant.batch,
            RoleGrant.status,
            RoleGrant.requested_by,
            func.min(RoleGrant.requested_at),
            func.count(),
        )
        .where(col(RoleGrant.batch).is_not(None))
        .group_by(RoleGrant.batch, RoleGrant.status, RoleGrant.requested_by)
    ).all()
    people = _people(session, {r[2] for r in rows})
    found: dict[str, BatchSummary] = {}
    for batch, status, by, at, n in rows:
        summary = found.setdefault(str(batch), BatchSummary(str(batch), people.get(by, ""), at, {}))
        summary.counts[GrantStatus(status).label] = n
    return sorted(found.values(), key=lambda s: s.requested_at, reverse=True)[:limit]
