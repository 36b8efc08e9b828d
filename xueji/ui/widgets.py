"""Shared widgets: the audited export button (and the choice of an unmasked export) and the pager."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import streamlit as st
from sqlmodel import Session

from xueji.auth import Action, Actor
from xueji.db import session_scope
from xueji.services.common.exports import REASON_MAX, may_export_unmasked
from xueji.services.registry import students
from xueji.services.registry.students import StudentRow
from xueji.ui.errors import shown_as_error
from xueji.ui.text import md

T = TypeVar("T")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def pager(total: int, *, key: str, page_size: int = 50) -> tuple[int, int]:
    """Draw a page selector; return (limit, offset)."""
    pages = max(1, -(-total // page_size))
    page = st.number_input(f"页码(共 {pages} 页)", min_value=1, max_value=pages, value=1, step=1, key=key)
    return page_size, (int(page) - 1) * page_size


def page_offset(key: str, *, page_size: int, reset_when: object) -> int:
    """The offset of the page chosen in the pager drawn later under this key; back to page 1 when the
    filter (reset_when) changes, so a page beyond the new total is never asked for."""
    marker = f"{key}_filter"
    if st.session_state.get(marker) != reset_when:
        st.session_state[marker] = reset_when
        st.session_state.pop(key, None)
    return (int(st.session_state.get(key, 1)) - 1) * page_size


def export_button(
    label: str, *, key: str, file_name: str, build: Callable[[Session], bytes], mime: str = XLSX
) -> None:
    """Build the file only when asked, in a session of its own (the service checks and audits the export),
    then offer it for download."""
    if st.button(label, key=f"{key}_build"):
        with shown_as_error(), session_scope() as session:
            st.session_state[key] = build(session)
    if key in st.session_state:
        st.download_button(
            f"下载 {md(file_name)}",
            data=st.session_state[key],
            file_name=file_name,
            mime=mime,
            key=f"{key}_download",
            type="primary",
        )


def unmasked_choice(actor: Actor, action: Action, *, key: str) -> tuple[bool, str]:
    """For the roles that may take this export unmasked (exports.UNMASKED_EXPORTS): a tick box and, when ticked,
    the reason the audit entry records. Returns (unmasked, reason); (False, "") for everyone else."""
    if not may_export_unmasked(actor, action):
        return False, ""
    unmasked = st.checkbox("导出完整身份证号和电话(默认脱敏)", key=f"{key}_unmasked")
    if not unmasked:
        return False, ""
    reason = st.text_input(
        "导出事由(必填,记入审计日志)",
        placeholder="例如:报送县资助中心核对名单",
        max_chars=REASON_MAX,
        key=f"{key}_reason",
    )
    return True, reason


def student_search(actor: Actor, *, key: str, label: str = "学生姓名或身份证号后几位") -> list[StudentRow]:
    """A search box over the students the actor may read; up to 20 matches, with a notice for none."""
    text = st.text_input(label, key=key)
    if not text.strip():
        return []
    with session_scope() as session:
        found = students.list_students(session, actor=actor, search=text, limit=20).rows
    if not found:
        st.info("本校没有找到该学生")
    return found


def picked(
    label: str,
    rows: Sequence[T],
    *,
    format_func: Callable[[T], str],
    button: str,
    key: str,
    pick_key: str | None = None,
) -> T | None:
    """A choice among rows with a button beside it: the row chosen when the button is pressed, else None."""
    pick, go = st.columns([3, 1], vertical_alignment="bottom")
    row = pick.selectbox(label, rows, format_func=format_func, key=pick_key, placeholder="请选择")
    return row if go.button(button, key=key) else None


def confirmed_submit(label: str, *, confirm: str, primary: bool = False, key: str | None = None) -> bool:
    """Inside a form: a confirmation tick box and the submit button of a destructive action. True only when
    the button was pressed with the box ticked; pressed without it, says so and returns False. A key naming
    what is confirmed (the child) gives each its own box, never one left ticked for the next."""
    ticked = st.checkbox(confirm, key=key)
    pressed = st.form_submit_button(label, type="primary" if primary else "secondary")
    if pressed and not ticked:
        st.error("请先勾选确认")
    return pressed and ticked


def class_picker(actor: Actor, *, key: str, label: str = "班级") -> int | None:
    """A choice among the current classes of the actor's school (a school-scoped account); None if none."""
    if actor.scope_id is None:
        return None
    with session_scope() as session:
        choices = students.class_choices(session, actor=actor, school_id=actor.scope_id)
    if not choices:
        st.info("本校还没有班级:请先导入学籍")
        return None
    names = dict(choices)
    return st.selectbox(label, list(names), format_func=names.__getitem__, key=key, placeholder="请选择")
