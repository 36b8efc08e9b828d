"""Every export goes through here: permission, audit entry, then the xlsx bytes. A file that carries children's
full ID and phone numbers in bulk (an unmasked export) is allowed only to the roles in UNMASKED_EXPORTS and only
with a written reason, which its audit entry records; a refusal is audited too."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from sqlmodel import Session

from xueji.audit import record
from xueji.auth import Action, Actor
from xueji.db import unit_of_work
from xueji.excel.tables import tables_to_xlsx
from xueji.rules.vocab import Role
from xueji.services.common.access import deny, require

# Who may take full ID and phone numbers away in a file, per kind of export; always with a written reason.
# Rosters (学生名册, 名册打印): the registrar for their own school and the teacher for their own students, the
# two roles that already see these numbers on screen for the children in their care, and the server's operator
# (the command line). The county, the townships and the coordinators see masked numbers and reveal one child at
# a time (查看完整信息, with a reason); a whole county or township unmasked in one file is not theirs to take.
# The sweep sheet (排查登记表): the village's sweep team (teachers, the township official) who check identity
# at the door; the service checks that the village is theirs.
UNMASKED_EXPORTS: dict[Action, frozenset[Role]] = {
    Action.STUDENT_EXPORT: frozenset({Role.REGISTRAR, Role.TEACHER, Role.SYSTEM}),
    Action.SWEEP_RECORD: frozenset({Role.TOWNSHIP_OFFICIAL, Role.TEACHER, Role.SYSTEM}),
}
REASON_MAX = 200


def may_export_unmasked(actor: Actor, action: Action) -> bool:
    """Tell whether the actor's role may take this export with full ID and phone numbers (given a reason)."""
    return actor.can(action) and actor.role in UNMASKED_EXPORTS.get(action, frozenset())


def unmasked_reason(session: Session, *, actor: Actor, action: Action, reason: str, title: str) -> str:
    """Check an unmasked export before any row is read: the role may take it and a reason is written. Returns
    the words for the audit entry; a refusal is audited and raises PermissionDenied."""
    require(session, actor, action)
    if not may_export_unmasked(actor, action):
        deny(
            session,
            actor,
            action.value,
            f"您的角色({actor.role.label})不能导出含完整身份证号和电话的{title};"
            "请导出脱敏的文件,或在学生名册中逐人查看完整信息(需填写事由)",
        )
    reason = " ".join(reason.split())
    if not reason:
        deny(session, actor, action.value, f"导出含完整身份证号和电话的{title}须填写事由")
    if len(reason) > REASON_MAX:
        deny(session, actor, action.value, f"事由不能超过 {REASON_MAX} 字")
    return f"未脱敏;事由:{reason}"


def export_tables(
    session: Session,
    *,
    actor: Actor,
    action: Action,
    sheets: Mapping[str, pd.DataFrame],
    title: str,
    detail: str = "",
    entity_type: str | None = None,
) -> bytes:
    """Check the right to export, record the export (what and how many rows), and return xlsx bytes."""
    rows = sum(len(frame) for frame in sheets.values())
    record_export(
        session, actor=actor, action=action, title=title, rows=rows, detail=detail, entity_type=entity_type
    )
    return tables_to_xlsx(sheets)


@unit_of_work
def record_export(
    session: Session,
    *,
    actor: Actor,
    action: Action,
    title: str,
    rows: int,
    detail: str = "",
    entity_type: str | None = None,
) -> None:
    """Check the right to export and record the export (what and how many rows), committed: for a file built
    in its own format (a pre-filled sheet with drop-downs)."""
    require(session, actor, action)
    record(
        session,
        actor=actor,
        action="export",
        entity_type=entity_type,
        detail=f"{title} {rows} 行" + (f";{detail}" if detail else ""),
    )
    session.commit()


def export_table(
    session: Session,
    *,
    actor: Actor,
    action: Action,
    frame: pd.DataFrame,
    sheet: str,
    detail: str = "",
    entity_type: str | None = None,
) -> bytes:
    """One table, one sheet: see export_tables."""
    return export_tables(
        session,
        actor=actor,
        action=action,
        sheets={sheet: frame},
        title=sheet,
        detail=detail,
        entity_type=entity_type,
    )
