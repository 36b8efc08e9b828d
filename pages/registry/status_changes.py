"""学籍异动: registrars submit requests; the county (or, for a transfer in, the sending school) decides."""

from datetime import timedelta

import pandas as pd
import streamlit as st

from xueji.auth import Action
from xueji.clock import today
from xueji.db import session_scope
from xueji.rules.status_changes import ChangeKind, Document
from xueji.services import assignments, status_changes
from xueji.ui.errors import shown_as_error
from xueji.ui.session import require_actor
from xueji.ui.widgets import student_search

actor = require_actor(Action.STATUS_CHANGE_READ)
st.title("学籍异动")
st.caption("每份申请须在提交后 7 个工作日内审批(按国家法定节假日和调休安排计算)。")

if actor.can(Action.STATUS_CHANGE_SUBMIT):
    with st.expander("提交异动申请", expanded=False):
        found = student_search(actor, key="change_search", label="学生(姓名或身份证号后几位)")
        if found:
            with session_scope() as session:
                classes = assignments.classes_in_scope(session, actor=actor)
            with st.form("submit_change"):
                child = st.selectbox(
                    "学生", found, format_func=lambda r: f"{r.name} · {r.class_name} · {r.status}"
                )
                kind = st.selectbox(
                    "异动类型",
                    [k for k in ChangeKind if k is not ChangeKind.TRANSFER_IN],
                    format_func=lambda k: k.label,
                )
                effective = st.date_input("异动日期", value=today())
                reason = st.text_area("原因")
                documents = st.multiselect("已核验的材料", list(Document), format_func=lambda d: d.label)
                until = st.date_input("休学截止日期(休学时填写)", value=today() + timedelta(days=180))
                placement = st.selectbox(
                    "编入班级(复学、劝返复学时填写)",
                    [None, *classes],
                    format_func=lambda c: "—" if c is None else c[1],
                )
                destination = st.text_input("转往(转出时填写)")
                override = st.text_input("特殊情况说明(六年级、九年级转学时填写)")
                if st.form_submit_button("提交申请", type="primary"):
                    with shown_as_error(), session_scope() as session:
                        change = status_changes.submit_change(
                            session,
                            actor=actor,
                            request=status_changes.ChangeRequest(
                                student_id=child.id,
                                kind=kind,
                                effective_date=effective,
                                reason=reason,
                                documents=frozenset(documents),
                                to_class_id=placement[0] if placement else None,
                                destination=destination,
                                override_reason=override,
                                suspension_until=until if kind is ChangeKind.SUSPENSION else None,
                            ),
                        )
                        st.success(f"已提交,审批期限 {change.due_date:%Y-%m-%d}")

with session_scope() as session:
    rows = status_changes.list_changes(session, actor=actor)
if any(r.due_guessed for r in rows if r.days_left is not None):
    st.warning("部分申请的期限跨入尚未录入节假日安排的年份,暂按周一至周五计算;请系统管理员补录节假日表。")
open_rows = [r for r in rows if r.days_left is not None]
late = [r for r in open_rows if r.days_left < 0]
columns = st.columns(3)
columns[0].metric("待审批", len(open_rows))
columns[1].metric("已超期", len(late))
columns[2].metric("2 个工作日内到期", sum(0 <= r.days_left <= 2 for r in open_rows))

table = pd.DataFrame(
    [
        (r.id, r.student, r.school, r.kind, r.state, r.submitted_at, r.due_date, r.days_left, r.reason)
        for r in rows
    ],
    columns=["编号", "学生", "学校", "类型", "状态", "提交日期", "审批期限", "剩余工作日", "原因"],
)
st.dataframe(table, hide_index=True, width="stretch")

decidable = [r for r in rows if r.can_decide]
if decidable:
    st.subheader("待我审批")
    with st.form("decide_change"):
        chosen = st.selectbox(
            "申请", decidable, format_func=lambda r: f"#{r.id} {r.student} {r.kind}(期限 {r.due_date:%m-%d})"
        )
        note = st.text_input("审批意见(驳回时必填)")
        approve, reject = st.columns(2)
        approved = approve.form_submit_button("批准", type="primary")
        rejected = reject.form_submit_button("驳回")
        if approved or rejected:
            with shown_as_error(), session_scope() as session:
                status_changes.decide_change(
                    session, actor=actor, change_id=chosen.id, approve=approved, reason=note
                )
                st.success("已批准" if approved else "已驳回")
