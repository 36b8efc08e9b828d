"""Every export goes through here: permission, audit entry, then the xlsx bytes."""

from __future__ import annotations

import pandas as pd
from sqlmodel import Session

from xueji.audit import record
from xueji.auth import Action, Actor
from xueji.excel.tables import table_to_xlsx
from xueji.services.access import require


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
    """Check the right to export, record the export (what and how many rows), and return xlsx bytes."""
    require(session, actor, action)
    record(
        session,
        actor=actor,
        action="export",
        entity_type=entity_type,
        detail=f"{sheet} {len(frame)} 行" + (f";{detail}" if detail else ""),
    )
    session.commit()
    return table_to_xlsx(frame, sheet=sheet)
