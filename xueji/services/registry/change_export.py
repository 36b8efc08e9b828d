"""学籍异动's list as a table and as a file: the page shows changes_frame and 导出 gives the same rows in xlsx
(no ID or phone numbers in it to mask: a request is named by the student's name and school), audited."""

from __future__ import annotations

import pandas as pd
from sqlmodel import Session

from xueji.auth import Action, Actor
from xueji.services.common.exports import export_table
from xueji.services.registry.status_changes import ChangeRow, list_changes

COLUMNS = [
    "编号",
    "学生",
    "学校",
    "类型",
    "状态",
    "审批方",
    "审批期限",
    "剩余工作日",
    "说明",
    "原因",
    "提交日期",
]


def changes_frame(rows: list[ChangeRow]) -> pd.DataFrame:
    """The requests as 学籍异动 lists them, newest first: working days left on open ones only (a dash once
    decided), a transfer after the window marked."""
    return pd.DataFrame(
        [
            (
                r.id,
                r.student,
                r.school,
                r.kind + ("(窗口期外)" if r.outside_window else ""),
                r.state,
                r.decider,
                r.due_date,
                "—" if r.days_left is None else str(r.days_left),
                r.note or "—",
                r.reason,
                r.submitted_at,
            )
            for r in rows
        ],
        columns=COLUMNS,
    )


def export_changes(session: Session, *, actor: Actor) -> bytes:
    """The list the actor sees (list_changes: the requests they submit or decide) as xlsx; audited."""
    rows = list_changes(session, actor=actor)
    return export_table(
        session,
        actor=actor,
        action=Action.STATUS_CHANGE_READ,
        frame=changes_frame(rows),
        sheet="学籍异动",
        entity_type="status_change",
    )
