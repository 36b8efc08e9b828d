"""账号导入 (administrator): a county's accounts and their teachers' classes from one workbook, checked row by row,
previewed, then filed as ONE batch of requests that a second person approves (separation of duties)."""

import pandas as pd
import streamlit as st

from xueji.auth import Action
from xueji.clock import china_time
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.excel.account_template import blank_template
from xueji.services.setup import account_import
from xueji.services.system import grant_batches
from xueji.ui.errors import shown_as_error
from xueji.ui.imports import checked_upload, forget_upload, problem_rows
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table
from xueji.ui.text import md
from xueji.ui.widgets import XLSX

# what was just done, shown where its button was (on a phone the top of the page is scrolled away)
FILED = "accounts_import_filed"  # a batch filed: where the preview and its button were
CANCELLED = "accounts_import_cancelled"  # a batch withdrawn: under that form
ROUND = "accounts_import_round"  # a new uploader after each batch filed: the file is done with

actor = require_actor(Action.USER_MANAGE)
KEY = f"accounts_import_{st.session_state.setdefault(ROUND, 0)}"
st.title("账号导入")
st.caption(
    "一次导入全县的账号:工作表“账号”(账号、姓名、角色、管辖范围代码、手机号)和“任教班级”(账号、学校标识码、班号、"
    "是否班主任)。逐行检查,全部无误才能提交;提交后是**一批申请**,由第二人批准后账号才建立(三员分立):"
    "县教育局可批准全部,学籍管理员可批准本校的教师账号。一次性密码由批准人下载,当面交给本人,"
    f"首次登录须修改,{get_settings().one_time_password_hours} 小时内有效;您看不到这些密码。"
    "系统管理员、审计员账号不能导入,只能由运维在服务器命令行上创建。"
)
st.download_button(
    "下载空白账号导入模板", blank_template(), file_name="账号导入模板.xlsx", mime=XLSX, key="template"
)

checked = checked_upload(
    "选择填好的账号导入模板",
    key=KEY,
    check=lambda session, data, name: account_import.check_accounts(
        session, actor=actor, data=data, file_name=name
    ),
)
if checked is not None:
    sheet, _, file_name = checked
    for column, (label, value) in zip(st.columns(4), account_import.counts_of(sheet).items(), strict=True):
        column.metric(label, value)
    if sheet.problems:
        problem_rows(
            account_import.problems_frame(sheet),
            account_import.error_workbook(sheet),
            file_name=f"账号导入错误_{file_name}",
            key=KEY,
        )
        st.warning("有错误的行时不提交任何账号(全部或全不):请改好后重新上传。")
    if sheet.accounts:
        st.subheader("将申请新建的账号")
        show_table(account_import.plan_frame(sheet), hide_index=True)
        with st.expander(f"逐个查看 {len(sheet.accounts)} 个账号(手机号已脱敏)"):
            show_table(account_import.preview_frame(sheet), hide_index=True, width="stretch")
    if sheet.teaching:
        with st.expander(f"任教班级 {len(sheet.teaching)} 条(其中新建班级 {len(sheet.new_classes)} 个)"):
            show_table(account_import.teaching_frame(sheet), hide_index=True, width="stretch")
    ready = not sheet.problems and bool(sheet.accounts)
    sure = st.checkbox(
        "我已核对名单:每个账号都是本人使用,角色和管辖范围无误", key=f"{KEY}_sure", disabled=not ready
    )
    if st.button(
        f"提交批量申请({len(sheet.accounts)} 个账号)",
        type="primary",
        disabled=not (ready and sure),
        key=f"{KEY}_submit",
    ):
        with shown_as_error(), session_scope() as session, st.spinner("正在提交…"):
            done = grant_batches.request_batch(session, actor=actor, sheet=sheet)
            forget_upload(KEY)
            st.session_state[ROUND] += 1
            st.session_state[FILED] = (
                f"已提交{grant_batches.batch_label(done.batch)}:申请新建账号 {done.accounts} 个、任教班级 "
                f"{done.teaching} 条,待{md(done.approvers)}批准。批准前账号不存在,批准后一次性密码交给批准人。"
            )
            st.rerun()
if message := st.session_state.pop(FILED, None):
    st.success(message)

st.divider()
st.subheader("已提交的批次")
with session_scope() as session:
    batches = grant_batches.batch_summaries(session, actor=actor)
if not batches:
    st.caption("还没有提交过批量申请。")
else:
    statuses = ["待批准", "已批准", "已驳回", "已撤回"]
    show_table(
        pd.DataFrame(
            [
                (grant_batches.batch_label(b.batch), b.requested_by, china_time(b.requested_at))
                + tuple(b.counts.get(s, 0) for s in statuses)
                for b in batches
            ],
            columns=["批次", "申请人", "提交时间", *statuses],
        ),
        hide_index=True,
        width="stretch",
    )
    open_batches = [b for b in batches if b.pending]
    if open_batches:
        with st.form("cancel_batch"):
            chosen = st.selectbox(
                "撤回一个批次中尚未批准的申请",
                open_batches,
                format_func=lambda b: f"{grant_batches.batch_label(b.batch)} · 待批准 {b.pending} 个",
                placeholder="请选择",
            )
            confirm = st.checkbox("确认撤回")
            if st.form_submit_button("撤回") and chosen is not None:
                if not confirm:
                    st.error("请先勾选“确认撤回”")
                else:
                    with shown_as_error(), session_scope() as session:
                        n = grant_batches.cancel_batch(session, actor=actor, batch=chosen.batch)
                        st.session_state[CANCELLED] = (
                            f"已撤回{grant_batches.batch_label(chosen.batch)}中 {n} 个待批准的申请。"
                        )
                        st.rerun()
if message := st.session_state.pop(CANCELLED, None):
    st.success(message)
