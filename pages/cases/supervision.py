"""包保督办 (school, township, county): open cases missing a responsible person on either line, per school and
township; the visits overdue per education-line teacher under the visit policy."""

import streamlit as st

from xueji.auth import Action
from xueji.clock import today
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.services.cases import ledgers, visits
from xueji.services.common.exports import export_table
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table
from xueji.ui.widgets import export_button

actor = require_actor(Action.OVERVIEW_READ)
policy = get_settings().visit_policy
st.title("包保督办")

with session_scope() as session:
    gaps = ledgers.gaps_frame(ledgers.responsibility_gaps(session, actor=actor))
    load = visits.teacher_frame(visits.overdue_by_teacher(session, actor=actor))

st.subheader("双线包保缺失")
st.caption("每个在办个案都须有教育线包保教师和政府线包保干部(乡镇干部账号或村、社区干部姓名和电话)。")
if gaps.empty:
    st.success("所有在办个案的双线包保人都已落实。")
else:
    left, right = st.columns(2)
    left.metric("缺教育线包保人", int(gaps["缺教育线包保人"].sum()))
    right.metric("缺政府线包保人", int(gaps["缺政府线包保人"].sum()))
    show_table(gaps, hide_index=True, width="stretch")
    st.caption("具体名单:在“控辍保学台账”中勾选“只看缺少包保人的在办个案”。")
    export_button(
        "导出双线包保缺失统计 (xlsx)",
        key="export_gaps",
        file_name=f"双线包保缺失_{today():%Y%m%d}.xlsx",
        build=lambda session: export_table(
            session,
            actor=actor,
            action=Action.CASE_READ,
            frame=gaps,
            sheet="双线包保缺失",
            entity_type="case",
        ),
    )

st.subheader("家访逾期(按包保教师)")
days = "、".join(f"{c.label}{n}天" for c, n in policy.days.items())
st.caption(f"家访频次要求:{days}。自上次家访(或建档)起超过间隔即为逾期;{policy.warn_days}天内到期的另列。")
if load.empty:
    st.info("没有在办个案")
else:
    left, right = st.columns(2)
    left.metric("家访逾期的儿童", int(load["家访逾期"].sum()))
    right.metric(f"{policy.warn_days}天内到期", int(load["即将到期"].sum()))
    show_table(load, hide_index=True, width="stretch")
    export_button(
        "导出家访逾期统计 (xlsx)",
        key="export_load",
        file_name=f"家访逾期统计_{today():%Y%m%d}.xlsx",
        build=lambda session: export_table(
            session,
            actor=actor,
            action=Action.CASE_READ,
            frame=load,
            sheet="家访逾期统计",
            entity_type="case",
        ),
    )
