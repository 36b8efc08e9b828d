"""审计日志 (auditor): filter, page, export, and verify the hash chain."""

from datetime import timedelta

import streamlit as st

from xueji.auth import Action
from xueji.clock import today
from xueji.db import session_scope
from xueji.services.system import audit_log
from xueji.ui.my_work import show_my_work
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table
from xueji.ui.widgets import export_button, pager

actor = require_actor(Action.AUDIT_READ)
st.title("审计日志")
st.caption(
    "记录每一次登录、退出、锁定、增删改(含修改前后)、导入、导出、查看完整信息和越权尝试,以及操作来自浏览器还是"
    "服务器命令行、客户端地址。日志只增不改(数据库拒绝修改和删除),逐条以服务器上单独保存的密钥签名,"
    "随后封存进所在县区的哈希链(每个县区一条,可单独校验);"
    "校验时还核对保存在数据库以外的锚点,末尾被截断或整个日志被清空也能发现。"
)
show_my_work(actor)  # the log's health first: stale anchors, refused operations of the week

with session_scope() as session:
    queue = audit_log.seal_queue(session, actor=actor)
if queue.pending and (queue.oldest_seconds or 0) > queue.max_age:
    st.warning(
        f"有 {queue.pending} 条记录待封存,最早的已等待 {queue.oldest_seconds or 0:.0f} 秒(上限 {queue.max_age} 秒):"
        "封存器可能没有运行,请运维检查服务器进程或运行 xueji audit seal。"
    )
elif queue.pending:
    st.caption(f"待封存 {queue.pending} 条(已签名,数秒内封存进哈希链)。")
else:
    st.caption("全部记录均已封存进哈希链。")

c1, c2, c3, c4, c5 = st.columns(5)
start = c1.date_input("起始日期", value=today() - timedelta(days=30), key="audit_start", format="YYYY-MM-DD")
end = c2.date_input("结束日期", value=today(), key="audit_end", format="YYYY-MM-DD")
username = c3.text_input("账号", key="audit_user")
action = c4.selectbox(
    "操作",
    list(audit_log.ACTIONS),
    format_func=audit_log.ACTIONS.__getitem__,
    key="audit_action",
    placeholder="请选择",
)
outcome = c5.selectbox(
    "结果",
    list(audit_log.OUTCOMES),
    format_func=audit_log.OUTCOMES.__getitem__,
    key="audit_outcome",
    placeholder="请选择",
)
c6, c7, _ = st.columns([1, 1, 3])
channel = c6.selectbox(
    "渠道",
    list(audit_log.CHANNELS),
    format_func=audit_log.CHANNELS.__getitem__,
    key="audit_channel",
    placeholder="请选择",
)
address = c7.text_input("客户端地址", key="audit_address", placeholder="如 10.1.2.3")
flt = audit_log.AuditFilter(
    start=start, end=end, username=username, action=action, outcome=outcome, channel=channel, address=address
)

with session_scope() as session:
    _, total = audit_log.list_entries(session, actor=actor, filter=flt, limit=0)
limit, offset = pager(total, key="audit_page", page_size=100)
with session_scope() as session:
    frame, total = audit_log.list_entries(session, actor=actor, filter=flt, limit=limit, offset=offset)
st.caption(f"共 {total} 条")
show_table(
    frame,
    hide_index=True,
    width="stretch",
    column_config={audit_log.time_column(): st.column_config.TextColumn(width=150)},
)


left, right = st.columns(2)
with left:
    export_button(
        "导出 (xlsx)",
        key="export_audit",
        file_name=f"审计日志_{today():%Y%m%d}.xlsx",
        build=lambda session: audit_log.export_entries(session, actor=actor, filter=flt),
    )
with right:
    if st.button("校验哈希链和锚点", key="verify_chain"):
        with session_scope() as session:
            check = audit_log.check_chain(session, actor=actor)
        verdict, *notes = audit_log.report(check)
        (st.success if check.ok else st.error)(verdict)
        for note in notes:
            (st.warning if note.startswith("注意") else st.caption)(note)
