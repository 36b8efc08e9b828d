"""Every export goes through here: permission, audit entry, then the xlsx bytes."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from sqlmodel import Session

from xueji.audit import record
from xueji.auth import Action, Actor
from xueji.db import unit_of_work
from xueji.excel.tables import tables_to_xlsx
from xueji.services.common.access import require


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
