"""Shared widgets: the audited export button and the pager."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from xueji.ui.errors import shown_as_error

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def pager(total: int, *, key: str, page_size: int = 50) -> tuple[int, int]:
    """Draw a page selector; return (limit, offset)."""
    pages = max(1, -(-total // page_size))
    page = st.number_input(f"页码(共 {pages} 页)", min_value=1, max_value=pages, value=1, step=1, key=key)
    return page_size, (int(page) - 1) * page_size


def export_button(label: str, *, key: str, file_name: str, build: Callable[[], bytes]) -> None:
    """Build the file only when asked (the service audits the export), then offer it for download."""
    if st.button(label, key=f"{key}_build"):
        with shown_as_error():
            st.session_state[key] = build()
    if key in st.session_state:
        st.download_button(
            f"下载 {file_name}",
            data=st.session_state[key],
            file_name=file_name,
            mime=XLSX,
            key=f"{key}_download",
            type="primary",
        )
