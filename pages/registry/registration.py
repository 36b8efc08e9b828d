"""新生注册进度: each school's grade-1 and grade-7 intake against its deadline, and the records still lacking."""

import streamlit as st

from xueji.auth import Action
from xueji.clock import today
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.rules.registration import RegistrationState
from xueji.services.registry import registration
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table
from xueji.ui.widgets import export_button

actor = require_actor(Action.OVERVIEW_READ)
deadlines = get_settings().registration_deadlines
st.title("新生注册进度")
st.caption(
    f"一年级新生的学籍须在 {deadlines.grade1[0]} 月 {deadlines.grade1[1]} 日前建齐,"
    f"七年级新生须在 {deadlines.grade7[0]} 月 {deadlines.grade7[1]} 日前建齐。"
    "“信息完整”指:有身份证号(不是临时学籍)、有家庭成员、标明了监护人、至少一位家庭成员有联系电话。"
)
with session_scope() as session:
    progress = registration.intake_progress(session, actor=actor)

late = [p for p in progress if p.state is RegistrationState.LATE]
left, middle, right = st.columns(3)
left.metric("新生人数", sum(p.students for p in progress))
middle.metric("信息待补全", sum(p.students - p.complete for p in progress))
right.metric("逾期未完成的学校", len({p.school for p in late}))

shown = late if st.checkbox("只看逾期未完成") else progress
show_table(registration.progress_frame(shown), hide_index=True, width="stretch")

st.subheader("待补全的新生学籍")
with session_scope() as session:
    incomplete = registration.incomplete_records(session, actor=actor)
if incomplete:
    st.caption("在“学生档案”中打开该生,点“更正学籍”补录身份证号、家庭成员、监护人或联系电话。")
    show_table(registration.incomplete_frame(incomplete), hide_index=True, width="stretch")
else:
    st.success("本学年新生的学籍信息都已完整")


if actor.can(Action.STUDENT_EXPORT):
    export_button(
        "导出注册进度和待补全名单 (xlsx)",
        key="export_registration",
        file_name=f"新生注册进度_{today():%Y%m%d}.xlsx",
        build=lambda session: registration.export_registration(session, actor=actor),
    )
