"""The upload half of the simple-table imports (家访导入, 排查导入): read and check a file once (not on every
rerun), then show its problems with the error workbook to download."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st
from sqlmodel import Session

from xueji.db import session_scope
from xueji.ui.errors import shown_as_error
from xueji.ui.widgets import XLSX


def checked_upload(
    label: str, *, key: str, check: Callable[[Session, bytes], Any], context: object = ""
) -> tuple[Any, bytes, str] | None:
    """The uploaded file checked by `check` (again only when the file or the context changes): (the checked
    sheet, the bytes, the file name), or None before an upload or when the check was refused (shown)."""
    upload = st.file_uploader(label, type=["xlsx"], key=f"{key}_file")
    if upload is None:
        return None
    data = upload.getvalue()
    digest = f"{context}:{hashlib.sha256(data).hexdigest()}"
    if st.session_state.get(f"{key}_digest") != digest:
        st.session_state.pop(f"{key}_sheet", None)
        with shown_as_error(), session_scope() as session:
            st.session_state[f"{key}_sheet"] = check(session, data)
        st.session_state[f"{key}_digest"] = digest
    sheet = st.session_state.get(f"{key}_sheet")
    return None if sheet is None else (sheet, data, upload.name)


def forget_upload(key: str) -> None:
    """After a commit: the same file uploaded again is checked again (it would now be a repeat)."""
    st.session_state.pop(f"{key}_digest", None)


def problem_rows(problems: pd.DataFrame, workbook: bytes, *, file_name: str, key: str) -> None:
    """The rows with problems, and the error workbook: the original rows plus the reasons, to fix and upload."""
    st.subheader("有错误的行")
    st.dataframe(problems, hide_index=True, width="stretch")
    st.download_button(
        "下载错误报告(原始行 + 错误原因,改好后可直接重新导入)",
        workbook,
        file_name=file_name,
        mime=XLSX,
        key=f"{key}_errors",
    )
