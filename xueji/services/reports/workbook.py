"""The monthly report as tables and as an xlsx (audited): the figures grouped with their Chinese labels, the
submitted copy beside today's count with each changed figure marked, and the versions with who, when and why."""

from __future__ import annotations

import pandas as pd
from sqlmodel import Session

from xueji.auth import Action, Actor
from xueji.clock import china_time
from xueji.rules.accountability import LedgerMonth
from xueji.rules.monthly_report import FIGURES
from xueji.services.common.exports import export_tables
from xueji.services.reports.submission import MonthView, Version, month_view


def figures_frame(view: MonthView) -> pd.DataFrame:
    """One row per figure: its group and label, today's count, and (once submitted) the latest version's with
    the figures changed since marked."""
    latest = view.latest
    rows = []
    for f in FIGURES:
        row = {"类别": f.group, "项目": f.label, "今日计算": view.fresh[f.key]}
        if latest is not None:
            row[f"已报送(第 {latest.version} 版)"] = latest.figures.get(f.key, 0)
            row["变化"] = "已变化" if f.key in view.changed else ""
        rows.append(row)
    return pd.DataFrame(rows)


def versions_frame(versions: list[Version]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "版本": f"第 {v.version} 版",
                "报送人": v.submitted_by or "—",
                "报送时间": china_time(v.submitted_at),
                "更正原因": v.reason or "",
                "备注": v.note,
            }
            for v in versions
        ],
        columns=["版本", "报送人", "报送时间", "更正原因", "备注"],
    )


def monthly_xlsx(session: Session, *, actor: Actor, school_id: int, month: LedgerMonth) -> bytes:
    """The school's month as an xlsx: the figures, and the versions submitted; the export is audited."""
    view = month_view(session, actor=actor, school_id=school_id, month=month)
    state = f"已报送第 {view.latest.version} 版" if view.latest else "未报送(今日计算)"
    info = pd.DataFrame(
        [("学校", view.school), ("月份", month.label), ("状态", state)], columns=["项目", "内容"]
    )
    return export_tables(
        session,
        actor=actor,
        action=Action.REPORT_READ,
        sheets={"月报": figures_frame(view), "说明": info, "版本记录": versions_frame(view.versions)},
        title=f"{view.school}{month.label}月报",
        entity_type="monthly_report",
    )
