"""The upload half of the imports (学籍导入, 家访导入, 送教导入, 排查导入): read and check a file once (not on every
rerun), keep a refusal on screen across reruns, then show the rows' problems with the error workbook."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st
from sqlmodel import Session

from xueji.db import session_scope
from xueji.ui.errors import SHOWN, shown_as_error
from xueji.ui.tables import show_table
from xueji.ui.widgets import XLSX


def checked_upload(
    label: str, *, key: str, check: Callable[[Session, bytes, str], Any], context: object = ""
) -> tuple[Any, bytes, str] | None:
    """The uploaded file checked by `check(session, bytes, file name)` (again only when the file or the
    context changes): (the checked sheet, the bytes, the file name), or None before an upload or when the
    check was refused (shown; the service has audited it)."""
    upload = st.file_uploader(label, type=["xlsx"], key=f"{key}_file")
    if upload is None:
        return None
    data = upload.getvalue()
    digest = f"{context}:{hashlib.sha256(data).hexdigest()}"
    sheet = checked_once(key, digest, lambda session: check(session, data, upload.name))
    return None if sheet is None else (sheet, data, upload.name)


def checked_once(
    key: str, digest: str, check: Callable[[Session], Any], spinner: str = "正在检查文件…"
) -> Any:
    """Run `check` once per file (digest): its result, or None when it refused the file. The refusal stays
    on screen on later reruns without running (and auditing) the check again."""
    if st.session_state.get(f"{key}_digest") != digest:
        st.session_state.pop(f"{key}_sheet", None)
        st.session_state.pop(f"{key}_refused", None)
        with shown_as_error():
            try:
                with session_scope() as session, st.spinner(spinner):
                    st.session_state[f"{key}_sheet"] = check(session)
            except SHOWN as error:  # kept without its traceback, which would hold the file and the frames
                st.session_state[f"{key}_refused"] = (type(error), error.args)
        st.session_state[f"{key}_digest"] = digest
    if (refused := st.session_state.get(f"{key}_refused")) is not None:
        kind, args = refused
        with shown_as_error():
            raise kind(*args)
    return st.session_state.get(f"{key}_sheet")


def forget_upload(key: str) -> None:
    """After a commit: the same file uploaded again is checked again (it would now be a repeat)."""
    st.session_state.pop(f"{key}_digest", None)


def problem_rows(problems: pd.DataFrame, workbook: bytes, *, file_name: str, key: str) -> None:
    """The rows with problems, and the error workbook: the original rows plus the reasons, to fix and upload."""
    st.subheader("有错误的行")
    show_table(problems, hide_index=True, width="stretch")
    st.download_button(
        "下载错误报告(原始行 + 错误原因,改好后可直接重新导入)",
        workbook,
        file_name=file_name,
        mime=XLSX,
        key=f"{key}_errors",
    )


def table_import_page(
    *,
    key: str,
    what: str,
    upload_label: str,
    check: Callable[[Session, bytes, str], Any],
    commit: Callable[[Session, bytes, str], int],
    problems: Callable[[Any], pd.DataFrame],
    error_workbook: Callable[[Any], bytes],
    preview: Callable[[Any], pd.DataFrame],
) -> None:
    """The body of a simple-table import page (家访导入, 送教导入): upload, counts, the rows with problems and
    their error workbook, a preview, and the all-or-nothing commit (the sheet has .good and .bad_rows)."""
    checked = checked_upload(upload_label, key=key, check=check)
    if checked is None:
        return
    sheet, data, file_name = checked
    left, right = st.columns(2)
    left.metric("可导入", len(sheet.good))
    right.metric("有错误的行", len(sheet.bad_rows))
    if sheet.bad_rows:
        problem_rows(problems(sheet), error_workbook(sheet), file_name=f"{what}导入错误_{file_name}", key=key)
    if sheet.good:
        with st.expander(f"预览可导入的 {len(sheet.good)} 条记录"):
            show_table(preview(sheet), hide_index=True, width="stretch")
    if st.button(
        f"确认导入 {len(sheet.good)} 条{what}记录",
        type="primary",
        disabled=bool(sheet.bad_rows) or not sheet.good,
        key=f"{key}_commit",
    ):
        with shown_as_error(), session_scope() as session, st.spinner("正在写入…"):
            count = commit(session, data, file_name)
            forget_upload(key)
            st.success(f"已导入 {count} 条{what}记录,已记入审计日志。")
    elif sheet.bad_rows:
        st.warning("有错误的行时不导入任何记录:请改好后重新上传。")
