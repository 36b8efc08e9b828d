"""One dashboard figure as users get it: the chart, its table beneath (the same frame), and the table's xlsx
export (audited); a plain sentence when there is nothing to draw yet."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.services.common.exports import export_table
from xueji.ui.tables import show_table
from xueji.ui.widgets import export_button


def figure(
    actor: Actor,
    frame: pd.DataFrame,
    *,
    title: str,
    chart: Callable[[pd.DataFrame], go.Figure] | None,
    empty: str,
    key: str,
    action: Action = Action.OVERVIEW_READ,
    caption: str = "",
    column_help: Mapping[str, str] | None = None,
) -> None:
    """Draw the frame as a chart with the table under it and an export of that table; column_help is the
    tooltip of a column's header (what a figure counts)."""
    st.subheader(title)
    if caption:
        st.caption(caption)
    if frame.empty:
        st.info(empty)
        return
    if chart is not None:
        st.plotly_chart(chart(frame), width="stretch", key=f"{key}_chart")
    show_table(
        _dashes(frame),
        hide_index=True,
        width="stretch",
        key=f"{key}_table",
        column_config={
            name: st.column_config.Column(help=text) for name, text in (column_help or {}).items()
        },
    )
    export_button(
        f"导出“{title}”表 (xlsx)",
        key=f"export_{key}",
        file_name=f"{title}_{today():%Y%m%d}.xlsx",
        build=lambda session: export_table(session, actor=actor, action=action, frame=frame, sheet=title),
    )


def _dashes(frame: pd.DataFrame) -> pd.DataFrame:
    """A figure not defined yet (a rate with nobody to count, a cohort not through nine years) shown as "—":
    st.dataframe writes None in an empty cell. Only the columns with such a cell become text; the export keeps
    the frame's numbers."""
    blank = [c for c in frame.columns if frame[c].isna().any()]
    if not blank:
        return frame
    shown = frame.copy()
    for column in blank:
        shown[column] = [
            "—" if pd.isna(v) else f"{v:g}" if isinstance(v, float) else str(v) for v in frame[column]
        ]
    return shown
