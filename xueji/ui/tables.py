"""Every table a page shows goes through here: at most MAX_ROWS rows and MAX_BYTES of data reach the browser;
beyond that the page shows the first rows and says how to see the rest (filter, page, or export)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

MAX_ROWS = 10_000
MAX_BYTES = 20_000_000


def bound(frame: pd.DataFrame, *, max_rows: int = MAX_ROWS, max_bytes: int = MAX_BYTES) -> pd.DataFrame:
    """The first rows of frame that fit both limits (the frame itself when it fits)."""
    rows = min(len(frame), max_rows)
    size = int(frame.head(rows).memory_usage(deep=True, index=False).sum())
    if size > max_bytes:
        rows = max(1, int(rows * max_bytes / size))
    return frame if rows == len(frame) else frame.head(rows)


def show_table(data: pd.DataFrame | Styler, **kwargs: Any) -> None:
    """st.dataframe within the bounds, with a note when rows were left out."""
    frame = data.data if isinstance(data, Styler) else data  # type: ignore[attr-defined]
    shown = bound(frame)
    if len(shown) < len(frame):
        st.warning(f"共 {len(frame):,} 行,此处只显示前 {len(shown):,} 行。请缩小筛选范围,或导出后查看全部。")
        data = shown  # a Styler's colours are dropped with the rows
    st.dataframe(data, **kwargs)
