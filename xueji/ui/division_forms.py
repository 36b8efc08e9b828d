"""The forms of 区划与学校 that every tab shares: rename one in use, and close or merge one with a preview that
states exactly what will move before the administrator confirms."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pandas as pd
import streamlit as st
from sqlmodel import Session

from xueji.auth import Actor
from xueji.clock import today
from xueji.db import session_scope
from xueji.rules.vocab import ScopeKind
from xueji.services.setup import rescope
from xueji.services.setup.division_tables import Choice
from xueji.services.setup.divisions import REASON_CHARS, Plan
from xueji.ui.errors import shown_as_error
from xueji.ui.tables import show_table
from xueji.ui.text import md
from xueji.ui.widgets import confirmed_submit

Preview = Callable[[Session, int, int | None], Plan]
Change = Callable[[Session, int, int | None, date, str], Plan]


def rename_form(
    what: str, choices: list[Choice], *, key: str, rename: Callable[[Session, int, str], bool], max_chars: int
) -> None:
    """Rename one in use (its code stays)."""
    in_use = [c for c in choices if c.in_use]
    if not in_use:
        return
    with st.form(f"{key}_rename"):
        st.subheader(f"{what}改名")
        chosen = st.selectbox(what, in_use, format_func=lambda c: c.label, placeholder="请选择")
        name = st.text_input("新名称", max_chars=max_chars)
        if st.form_submit_button("改名"):
            with shown_as_error(), session_scope() as session:
                changed = rename(session, chosen.id, name)
                said(
                    f"{key}_rename", f"已改名为“{md(' '.join(name.split()))}”" if changed else "名称没有变化"
                )
            rerun_if_said(f"{key}_rename")
        show_said(f"{key}_rename")


def said(key: str, message: str) -> None:
    """A change done: its message, kept for the rerun that redraws the tables and the choices with the change."""
    st.session_state[f"{key}_said"] = message


def rerun_if_said(key: str) -> None:
    """Redraw the page when the change was done (not when it was refused: its message stays where it is)."""
    if f"{key}_said" in st.session_state:
        st.rerun()


def show_said(key: str) -> None:
    """The message of the change just done, where the button that did it is (on a phone, where the eyes are)."""
    if message := st.session_state.pop(f"{key}_said", None):
        st.success(message)


def _show_plan(plan: Plan) -> None:
    (st.error if plan.blockers else st.warning)(md(plan.summary))
    for note in plan.notes:
        st.caption(md(note))
    for blocker in plan.blockers:
        st.error(md(blocker))
    if plan.accounts:
        show_table(
            pd.DataFrame(
                [(a.username, a.display_name, a.role) for a in plan.accounts],
                columns=["账号", "姓名", "角色"],
            ),
            hide_index=True,
            width="stretch",
        )


def change_section(
    actor: Actor,
    what: str,
    choices: list[Choice],
    *,
    key: str,
    preview: Preview,
    change: Change,
    scope_kind: ScopeKind | None = None,
) -> None:
    """Pick one in use and, for a merge, the one that takes it over (or none: close it); the preview says what
    moves; a form with the day, the reason and a confirmation does it; the result stays until the next change."""
    st.subheader(f"撤并或关闭{what}")
    in_use = [c for c in choices if c.in_use]
    if not in_use:
        st.info(f"没有在用的{what}")
        return
    if st.session_state.pop(f"{key}_reset", False):
        # after a change: nothing chosen, so that no preview of another change stands beside the result (set before
        # the widget is drawn, so that the browser shows it too; the choice of the target and the reason, not drawn
        # in that run, are forgotten with it)
        st.session_state[f"{key}_subject"] = None
    subject = st.selectbox(
        f"要撤并或关闭的{what}",
        in_use,
        index=None,  # nothing is previewed, nor offered to close, before one is chosen
        placeholder=f"请选择{what}",
        format_func=lambda c: c.label,
        key=f"{key}_subject",
    )
    if subject is None:
        _result(actor, key, scope_kind)
        return
    targets: list[Choice | None] = [None, *(c for c in in_use if c.id != subject.id)]
    target = st.selectbox(
        f"接收的{what}",
        targets,
        format_func=lambda c: "不撤并,直接关闭(只适用于没有任何记录的)" if c is None else c.label,
        key=f"{key}_target",
        placeholder="请选择",
    )
    into_id = None if target is None else target.id
    with session_scope() as session:
        plan = preview(session, subject.id, into_id)
    _show_plan(plan)
    if not plan.blockers:
        with st.form(f"{key}_change"):
            on = st.date_input("撤并/关闭日期", value=today(), max_value=today(), format="YYYY-MM-DD")
            reason = st.text_input("原因或依据(必填,如批复文号)", max_chars=REASON_CHARS, key=f"{key}_reason")
            verb = "撤并" if target is not None else "关闭"
            if confirmed_submit(verb, confirm=f"确认:{plan.summary}", primary=True):
                with shown_as_error(), session_scope() as session:
                    done = change(session, subject.id, into_id, on, reason)
                    st.session_state[f"{key}_done"] = (
                        done.summary,
                        subject.id,
                        bool(done.accounts and target),
                    )
                if st.session_state.get(f"{key}_done", (None, None))[1] == subject.id:
                    st.session_state[f"{key}_reset"] = True
                    st.rerun()  # done (one closed is never offered again): the tables and the choices redrawn
    _result(actor, key, scope_kind)


def _result(actor: Actor, key: str, scope_kind: ScopeKind | None) -> None:
    done = st.session_state.get(f"{key}_done")
    if done is None:
        return
    summary, subject_id, has_accounts = done
    st.success("已完成:" + md(summary.removeprefix("将")))
    if not (has_accounts and scope_kind):
        return
    st.info(
        "原单位的账号没有自动改范围。可为它们申请改到接收单位(经审批后生效;审批前这些账号看不到移走的学籍)。"
    )
    if st.button("为这些账号申请改到接收单位", key=f"{key}_rescope"):
        with shown_as_error(), session_scope() as session:
            filed = rescope.request_rescope(session, actor=actor, scope_kind=scope_kind, scope_id=subject_id)
            if filed.filed:
                st.success(f"已提交 {len(filed.filed)} 条改到“{md(filed.target)}”的申请,待审批")
            for line in filed.skipped:
                st.warning(md(line))
            st.session_state.pop(f"{key}_done", None)
