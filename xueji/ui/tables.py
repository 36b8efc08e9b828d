"""Every table a page shows goes through here: at most MAX_ROWS rows and MAX_BYTES of data reach the browser;
beyond that the page shows the first rows and says how to see the rest (filter, page, or export). Cells read as
ui.display writes them (labels, dates, the county's clock, — for empty), and a table with no rows is a sentence,
not an empty grid."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from xueji.ui import display

MAX_ROWS = 10_000
MAX_BYTES = 20_000_000


def bound(frame: pd.DataFrame, *, max_rows: int = MAX_ROWS, max_bytes: int = MAX_BYTES) -> pd.DataFrame:
    """The first rows of frame that fit both limits (the frame itself when it fits)."""
    rows = min(len(frame), max_rows)
    size = int(frame.head(rows).memory_usage(deep=True, index=False).sum())
    if size > max_bytes:
        rows = max(1, int(rows * max_bytes / size))
    return frame if rows == len(frame) else frame.head(rows)


def show_table(data: pd.DataFrame | Styler, *, empty: str = "暂无记录。", **kwargs: Any) -> Any:
    """st.dataframe within the bounds, with a note when rows were left out, its cells as ui.display writes them
    (a column the page configures as a date or number is left to that configuration) and — in empty cells;
    a table without rows says `empty` instead. Returns what st.dataframe returns (the selection, with
    on_select)."""
    frame = data.data if isinstance(data, Styler) else data  # type: ignore[attr-defined]
    if frame.empty:
        st.caption(empty)
        return None
    shown = bound(frame)  # first: only the rows shown are formatted
    if len(shown) < len(frame):
        st.warning(f"共 {len(frame):,} 行,此处只显示前 {len(shown):,} 行。请缩小筛选范围,或导出后查看全部。")
        data = shown  # a Styler's colours are dropped with the rows
    if not isinstance(data, Styler):
        configured = {
            name for name, config in (kwargs.get("column_config") or {}).items()
            if isinstance(config, dict) and config.get("type_config", {}).get("type") not in (None, "text")
        }  # fmt: skip
        data = display.frame(shown).assign(**{c: shown[c] for c in configured if c in shown.columns})
    kwargs.setdefault("placeholder", display.DASH)
    return st.dataframe(data, **kwargs)
