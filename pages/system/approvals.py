"""账号审批 (county officer; registrar for their school's teachers): approve or reject what the administrator
requested. Separation of duties: the administrator requests, a second person approves, and the one-time password
of a new account or a reset is shown here, to the approver, once."""

import pandas as pd
import streamlit as st

from xueji.auth import Action
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.services.system import role_grants
from xueji.ui import display
from xueji.ui.batch_approval import batch_section
from xueji.ui.errors import shown_as_error
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table
from xueji.ui.text import md

RESULT = "grant_result"


def _label(r: role_grants.GrantRow) -> str:
    own = " · ⚠ 管理员本人的账号" if r.own_account_of_requester else ""
    return f"{r.id} · {r.kind} · {r.username} {r.display_name} · {r.role} · {r.scope}{own}"


actor = require_actor(Action.GRANT_APPROVE)
hours = get_settings().one_time_password_hours
st.title("账号审批")
st.caption(
    "系统管理员只能提交新建账号、更改角色或管辖范围、重置密码的申请,经您批准后才生效(三员分立、双人控制)。"
    "请先与本人核实确有此事再批准。批准新账号或重置密码后,一次性密码只在本页向您显示一次,"
    f"请当面交给本人;本人首次登录须修改,{hours} 小时内有效。"
)

# What was just decided (with the one-time password): right above the choice and the buttons, where the
# approver's eyes are (on a phone the top of the page is scrolled away, and the end is below the screen); at the
# top when nothing is left to decide.
result = st.session_state.pop(RESULT, None)
batches = batch_section(actor)  # the batches of 账号导入, approved a batch at a time
with session_scope() as session:
    rows = role_grants.awaiting(session, actor=actor)
if not rows:
    if result:
        st.success(result)
    if not batches:
        st.info("目前没有待您审批的申请。")
    st.stop()

if batches:
    st.subheader("逐个提交的申请")
st.metric("待我审批", len(rows))
show_table(
    pd.DataFrame(
        [
            (
                r.id,
                r.kind,
                r.username,
                r.display_name,
                r.role,
                r.scope,
                r.current,
                r.requested_by,
                display.clock(r.requested_at),
                "是" if r.own_account_of_requester else "",
            )
            for r in rows
        ],
        columns=[
            "编号",
            "申请",
            "账号",
            "姓名",
            "申请的角色",
            "申请的管辖范围",
            "现在的角色和范围",
            "申请人",
            display.timed("申请时间"),
            "为申请人本人的账号",
        ],
    ),
    hide_index=True,
    width="stretch",
)

if result:
    st.success(result)
# The choice is outside the form, so that the warning below shows as soon as a request is chosen, before
# either button is pressed.
chosen = st.selectbox("申请", rows, format_func=_label, key="grant_pick", placeholder="请选择")
if chosen.own_account_of_requester:
    st.warning(
        f"申请 {chosen.id} 是管理员为自己的账号申请的角色:批准后管理员本人将能查看儿童信息,请特别慎重核实。"
    )
with st.form("decide_grant", clear_on_submit=True):
    reason = st.text_input("驳回原因(驳回时必填)", max_chars=200)
    approve_col, reject_col = st.columns(2)
    approved = approve_col.form_submit_button("批准", type="primary")
    rejected = reject_col.form_submit_button("驳回")
if approved or rejected:
    with shown_as_error(), session_scope() as session:
        if approved:
            done = role_grants.approve(session, actor=actor, grant_id=chosen.id)
            message = f"已批准:{md(done.username)}({md(done.display_name)})。"
            if done.password:
                message += f"一次性密码:`{done.password}`(只显示这一次,请当面交给本人,{hours} 小时内有效,首次登录须修改)"
        else:
            role_grants.reject(session, actor=actor, grant_id=chosen.id, reason=reason)
            message = f"已驳回申请 {chosen.id}。"
        st.session_state[RESULT] = message
        st.rerun()
