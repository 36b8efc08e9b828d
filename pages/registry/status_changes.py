"""学籍异动: registrars submit requests; the county (or, for a transfer in, the sending school) decides."""

import streamlit as st

from xueji.auth import Action
from xueji.clock import today
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.rules.suspensions import SuspensionState
from xueji.rules.text_limits import max_length
from xueji.services.registry import change_export, status_changes, suspensions
from xueji.services.system import holidays
from xueji.ui.change_form import change_request_form, transfer_in_form
from xueji.ui.display import day
from xueji.ui.errors import shown_as_error
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table
from xueji.ui.text import md
from xueji.ui.widgets import export_button, student_search

actor = require_actor(Action.STATUS_CHANGE_READ)
st.title("学籍异动")
st.caption("每份申请须在提交后 7 个工作日内审批(按国家法定节假日和调休安排计算)。")

if actor.can(Action.STATUS_CHANGE_SUBMIT):
    with st.expander("提交异动申请", expanded=False):
        found = student_search(actor, key="change_search", label="学生(姓名或身份证号后几位)")
        if found:
            change_request_form(actor, found, key="submit_change")
    with st.expander("转入申请(本县其他学校的学生转入本校)", expanded=False):
        st.caption(
            "由接收学校提交,转出学校审批(已过开学转学窗口的由县教育局审批);批准后学籍随人转入本校(籍随人走)。"
            f"须核验{'、'.join(sorted(d.label for d in get_settings().transfer_proofs))};"
            "查询按完整身份证号,记入审计日志。"
        )
        transfer_in_form(actor)

with session_scope() as session:
    rows = status_changes.list_changes(session, actor=actor)
    missing = holidays.warning_years(session, today())  # this year (next near its end), open deadlines' years
if missing:
    years = "、".join(f"{y}年" for y in missing)
    st.warning(
        f"{years}的节假日安排尚不完整,审批期限暂按周一至周五计算;"
        "请系统管理员在“节假日安排”中录入全年安排并确认完整。"
    )
open_rows = [r for r in rows if r.days_left is not None]
late = [r for r in open_rows if r.days_left < 0]
columns = st.columns(3)
columns[0].metric("待审批", len(open_rows))
columns[1].metric("已超期", len(late))
columns[2].metric("2 个工作日内到期", sum(0 <= r.days_left <= 2 for r in open_rows))

table = change_export.changes_frame(rows)
show_table(table, hide_index=True, width="stretch")
export_button(
    "导出异动申请列表 (xlsx)",
    key="export_status_changes",
    file_name=f"学籍异动_{today():%Y%m%d}.xlsx",
    build=lambda session: change_export.export_changes(session, actor=actor),
)
if any(r.outside_window for r in rows):
    st.caption(
        "窗口期外:开学转学窗口已过后提交的转学,须说明原因,由县教育局审批(转入申请不再由转出学校审批)。"
    )

decidable = [r for r in rows if r.can_decide]
if decidable:
    st.subheader("待我审批")
    chosen = st.selectbox(
        "申请",
        decidable,
        format_func=lambda r: (
            f"#{r.id} {r.student} {r.kind}{'(窗口期外)' if r.outside_window else ''} · 期限 {day(r.due_date)}"
        ),
        placeholder="请选择",
    )
    if chosen.note:  # what the approver must weigh: a repeat, a proof to come, why past the window
        st.warning(md(f"说明:{chosen.note}"))
    with st.form("decide_change"):
        note = st.text_input("审批意见(驳回时必填)", max_chars=max_length("status_change.decision_reason"))
        approve, reject = st.columns(2)
        approved = approve.form_submit_button("批准", type="primary")
        rejected = reject.form_submit_button("驳回")
        if approved or rejected:
            with shown_as_error(), session_scope() as session:
                status_changes.decide_change(
                    session, actor=actor, change_id=chosen.id, approve=approved, reason=note
                )
                st.success("已批准" if approved else "已驳回")

with session_scope() as session:
    ending = suspensions.expiring_suspensions(session, actor=actor)
if ending:
    expired = sum(s.state is SuspensionState.EXPIRED for s in ending)
    st.info(
        f"{len(ending)} 名学生的休学即将期满或已期满(其中 {expired} 名已期满未办理复学或续休),"
        "请在“休学与请假”中办理。"
    )
    st.page_link("pages/registry/suspensions.py", label="打开 休学与请假", icon=":material/event_busy:")
