"""账号审批's batches (账号导入): the approver's part of each batch, approved or rejected with one confirmation.
The one-time passwords of the accounts created come back as a workbook the approver downloads once: it is kept
in this session only until the download, and never stored."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from xueji.auth import Actor
from xueji.clock import china_time
from xueji.db import session_scope
from xueji.services.system import grant_batches
from xueji.services.system.accounts import AccountError
from xueji.ui.errors import shown_as_error
from xueji.ui.tables import show_table
from xueji.ui.text import md
from xueji.ui.widgets import XLSX

PASSWORDS = "batch_passwords"  # (file name, workbook) until downloaded
DONE = "batch_result"


def _forget_passwords() -> None:
    """Once downloaded: the file is gone from the session, and the page says where it went (the rerun of the click
    would otherwise leave the approver with an empty page and no word that the passwords are in the file)."""
    kept = st.session_state.pop(PASSWORDS, None)
    if kept is not None:
        st.session_state[DONE] = (
            f"已下载一次性密码文件“{md(kept[0])}”(在浏览器的下载文件夹中)。请把密码逐一当面交给本人"
            "(首次登录须修改),交完后删除该文件。"
        )


def _passwords_download() -> bool:
    kept = st.session_state.get(PASSWORDS)
    if kept is None:
        return False
    name, data = kept
    st.warning(
        "一次性密码文件只能下载一次:下载后本页不再保留,系统中也不保存。请把密码逐一当面交给本人"
        "(首次登录须修改),交完后删除该文件。"
    )
    st.download_button(
        "下载一次性密码(xlsx)",
        data,
        file_name=name,
        mime=XLSX,
        type="primary",
        on_click=_forget_passwords,
        key="batch_passwords_download",
    )
    return True


def batch_section(actor: Actor) -> bool:
    """Draw the batches waiting for this approver, and a passwords file not downloaded yet; tell whether
    anything was drawn."""
    shown = False
    if result := st.session_state.pop(DONE, None):
        st.success(result)
        shown = True
    shown = _passwords_download() or shown
    with session_scope() as session:
        views = grant_batches.batches_awaiting(session, actor=actor)
    if not views:
        return shown
    st.subheader("批量申请(账号导入)")
    chosen = st.selectbox(
        "批次", views, format_func=lambda v: v.label, key="batch_pick", placeholder="请选择"
    )
    others = chosen.pending - chosen.mine
    st.caption(
        f"{chosen.requested_by} 提交于 {china_time(chosen.requested_at)};本批次待批准 {chosen.pending} 个账号,"
        f"您可以批准其中 {chosen.mine} 个" + (f"(其余 {others} 个由其他批准人处理)" if others else "") + "。"
    )
    show_table(pd.DataFrame(chosen.per_role_scope, columns=["角色", "管辖范围", "账号数"]), hide_index=True)
    if chosen.head_teachers or chosen.assignments:
        st.caption(
            f"任教班级:班主任 {chosen.head_teachers} 人次、任教 {chosen.assignments} 条;系统中还没有的班级在批准时新建。"
        )
    with st.form("decide_batch", clear_on_submit=True):
        sure = st.checkbox(
            f"我已与学校或本人核实这 {chosen.mine} 个账号确有其人、角色和范围无误", key="batch_sure"
        )
        reason = st.text_input("驳回原因(驳回时必填)", max_chars=200, key="batch_reason")
        approve_col, reject_col = st.columns(2)
        approved = approve_col.form_submit_button(
            f"批准这 {chosen.mine} 个账号", type="primary", key="batch_approve"
        )
        rejected = reject_col.form_submit_button("驳回", key="batch_reject")
    if approved or rejected:
        with shown_as_error(), session_scope() as session:
            label = grant_batches.batch_label(chosen.batch)
            if approved:
                if not sure:
                    raise AccountError("请先勾选“我已核实”,再批准")
                with st.spinner("正在建立账号、生成一次性密码…"):
                    done = grant_batches.approve_batch(session, actor=actor, batch=chosen.batch)
                st.session_state[PASSWORDS] = (f"一次性密码_{label.replace(' ', '')}.xlsx", done.passwords)
                message = (
                    f"已批准{label}中的 {done.accounts} 个账号(新建班级 {done.assigned.classes_created} 个)。"
                    "请下载一次性密码文件。"
                    + (f"本批次还有 {done.left} 个账号待其他批准人处理。" if done.left else "")
                )
            else:
                count = grant_batches.reject_batch(session, actor=actor, batch=chosen.batch, reason=reason)
                message = f"已驳回{label}中的 {count} 个申请。"
            st.session_state[DONE] = message
            st.rerun()
    return True
