"""审计日志 (auditor): filter, page, export, and verify the hash chain."""

from datetime import timedelta

import streamlit as st

from xueji.auth import Action
from xueji.clock import today
from xueji.db import session_scope
from xueji.services.system import audit_log
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table
from xueji.ui.widgets import export_button, pager

actor = require_actor(Action.AUDIT_READ)
st.title("审计日志")
st.caption(
    "记录每一次登录、退出、锁定、增删改(含修改前后)、导入、导出、查看完整信息和越权尝试。日志只增不改,逐条哈希链接。"
)

c1, c2, c3, c4, c5 = st.columns(5)
start = c1.date_input("起始日期", value=today() - timedelta(days=30), key="audit_start")
end = c2.date_input("结束日期", value=today(), key="audit_end")
username = c3.text_input("账号", key="audit_user")
action = c4.selectbox(
    "操作",
    [
        "",
        "login",
        "logout",
        "lockout",
        "create",
        "update",
        "password_change",
        "password_reset",
        "reveal",
        "export",
        "import",
        "denied",
    ],
    key="audit_action",
)
outcome = c5.selectbox("结果", ["", "success", "failure", "denied", "locked"], key="audit_outcome")
flt = audit_log.AuditFilter(start=start, end=end, username=username, action=action, outcome=outcome)

with session_scope() as session:
    _, total = audit_log.list_entries(session, actor=actor, filter=flt, limit=0)
limit, offset = pager(total, key="audit_page", page_size=100)
with session_scope() as session:
    frame, total = audit_log.list_entries(session, actor=actor, filter=flt, limit=limit, offset=offset)
st.caption(f"共 {total} 条")
show_table(frame, hide_index=True, width="stretch")


left, right = st.columns(2)
with left:
    export_button(
        "导出 (xlsx)",
        key="export_audit",
        file_name=f"审计日志_{today():%Y%m%d}.xlsx",
        build=lambda session: audit_log.export_entries(session, actor=actor, filter=flt),
    )
with right:
    if st.button("校验哈希链", key="verify_chain"):
        with session_scope() as session:
            check = audit_log.check_chain(session, actor=actor)
        if check.ok:
            st.success(f"哈希链完整:已校验 {check.checked} 条记录")
        else:
            st.error(f"哈希链异常:第 {check.bad_id} 条记录 {check.reason}(此前 {check.checked} 条正常)")
