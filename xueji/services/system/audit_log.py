"""The auditor's view of the audit log: filter, page, export, verify."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pandas as pd
from sqlalchemy import Select, func, select
from sqlmodel import Session, col

from xueji.audit import ChainCheck, verify_chain
from xueji.auth import Action, Actor
from xueji.clock import CHINA_TZ
from xueji.models import AuditLog
from xueji.services.common.access import require
from xueji.services.common.exports import export_table

COLUMNS = [
    "时间(UTC+8)",
    "账号",
    "角色",
    "范围",
    "操作",
    "结果",
    "对象类型",
    "对象编号",
    "说明",
    "修改前",
    "修改后",
]


@dataclass(frozen=True)
class AuditFilter:
    start: date | None = None
    end: date | None = None
    username: str = ""
    action: str = ""
    outcome: str = ""


def _query(f: AuditFilter) -> Select:
    query = select(AuditLog)
    if f.start:
        query = query.where(
            AuditLog.at >= datetime.combine(f.start, datetime.min.time(), CHINA_TZ).astimezone(UTC)
        )
    if f.end:
        end = datetime.combine(f.end + timedelta(days=1), datetime.min.time(), CHINA_TZ).astimezone(UTC)
        query = query.where(AuditLog.at < end)
    if f.username.strip():
        query = query.where(AuditLog.username == f.username.strip())
    if f.action:
        query = query.where(AuditLog.action == f.action)
    if f.outcome:
        query = query.where(AuditLog.outcome == f.outcome)
    return query


def _local(at: datetime) -> str:
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    return aware.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")


def _frame(entries: list[AuditLog]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (
                _local(e.at),
                e.username,
                e.role,
                e.scope,
                e.action,
                e.outcome,
                e.entity_type,
                e.entity_id,
                e.detail,
                e.before,
                e.after,
            )
            for e in entries
        ],
        columns=COLUMNS,
    )


def list_entries(
    session: Session, *, actor: Actor, filter: AuditFilter, limit: int = 100, offset: int = 0
) -> tuple[pd.DataFrame, int]:
    """One page of entries, newest first, and the total that match."""
    require(session, actor, Action.AUDIT_READ)
    query = _query(filter)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    entries = list(session.scalars(query.order_by(col(AuditLog.id).desc()).limit(limit).offset(offset)))
    return _frame(entries), int(total)


def export_entries(session: Session, *, actor: Actor, filter: AuditFilter) -> bytes:
    """Every matching entry as xlsx; the export itself is audited."""
    require(session, actor, Action.AUDIT_EXPORT)
    entries = list(session.scalars(_query(filter).order_by(AuditLog.id)))
    return export_table(
        session,
        actor=actor,
        action=Action.AUDIT_EXPORT,
        frame=_frame(entries).astype(str),
        sheet="审计日志",
        entity_type="audit_log",
    )


def check_chain(session: Session, *, actor: Actor) -> ChainCheck:
    """Verify the hash chain of the whole log."""
    require(session, actor, Action.AUDIT_READ)
    return verify_chain(session)
