"""班额: classes over the limit (大班额) and the balance of classes per grade, with an export."""

import streamlit as st

from xueji.auth import Action
from xueji.clock import today
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.services.registry import class_sizes
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table
from xueji.ui.widgets import export_button

actor = require_actor(Action.OVERVIEW_READ)
settings = get_settings()
st.title("班额")
st.caption(
    f"每班在读人数不得超过 {settings.class_size_limit} 人(56 人及以上为大班额);"
    f"同一年级各班人数相差超过 {settings.class_size_spread} 人标为不均衡。转入、复学编班时超过上限的申请会被拒绝。"
)
with session_scope() as session:
    oversized = class_sizes.oversized_classes(session, actor=actor)
    balance = class_sizes.grade_balance(session, actor=actor)

left, right = st.columns(2)
left.metric("大班额班级", len(oversized))
right.metric("班额不均衡的年级", sum(not b.balanced for b in balance))
st.subheader("大班额班级")
if oversized:
    show_table(class_sizes.oversized_frame(oversized), hide_index=True, width="stretch")
else:
    st.success(f"没有超过 {settings.class_size_limit} 人的班级")
st.subheader("各年级班额")
if balance:
    show_table(class_sizes.balance_frame(balance), hide_index=True, width="stretch")
else:
    st.info("还没有班级:请先导入学籍")


if actor.can(Action.STUDENT_EXPORT):
    export_button(
        "导出班额统计 (xlsx)",
        key="export_sizes",
        file_name=f"班额_{today():%Y%m%d}.xlsx",
        build=lambda session: class_sizes.export_class_sizes(session, actor=actor),
    )
