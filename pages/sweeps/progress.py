"""排查进度 (township, county, schools, teams): every village of a sweep as a coverage chart and table, the late
villages, what each team member recorded, and the township's 排查汇总表."""

import streamlit as st

from xueji import charts
from xueji.auth import Action
from xueji.db import session_scope
from xueji.rules.sweeps import Finding, VillageStatus
from xueji.services.sweeps import progress
from xueji.ui.session import require_actor
from xueji.ui.sweeps import sweep_picker
from xueji.ui.tables import show_table
from xueji.ui.text import md
from xueji.ui.widgets import export_button

actor = require_actor(Action.SWEEP_READ)
st.title("排查进度")
st.caption(
    "开学后逐村逐户拉网式排查:每个村由排查组(教师)入户登记,村里的适龄儿童(6–15周岁)逐一登记在哪里;"
    "覆盖率 = 已走访户 ÷ 村户数。截止日期过后仍未提交的村标为“已逾期”。"
)
sweep = sweep_picker(actor, key="progress_sweep")
if sweep is None:
    st.stop()
with session_scope() as session:
    villages = progress.village_coverage(session, actor=actor, sweep_id=sweep.id)
    members = progress.member_coverage(session, actor=actor, sweep_id=sweep.id)
frame = progress.coverage_frame(progress.by_work_order(villages))  # the villages needing work first
st.caption(f"年龄按 {sweep.reference_date:%Y-%m-%d} 计算;各村须在 {sweep.due_date:%Y-%m-%d} 前提交。")

done = sum(v.status in (VillageStatus.SUBMITTED, VillageStatus.REVIEWED) for v in villages)
late = [v for v in villages if v.late]
cols = st.columns(5)
cols[0].metric("村/社区", len(villages))
cols[1].metric("已提交或已审核", done)
cols[2].metric("已逾期未提交", len(late))
cols[3].metric("已走访户", sum(v.visited for v in villages))
cols[4].metric("登记适龄儿童", sum(v.children for v in villages))
if late:
    st.markdown(":red[●] **已逾期的村:** " + md("、".join(f"{v.name}({v.status.label})" for v in late)))
found = {f: sum(v.by_finding.get(f, 0) for v in villages) for f in Finding}
st.markdown(" · ".join(f"{f.label} **{n}**" for f, n in found.items()))

if villages:
    st.plotly_chart(charts.sweep_coverage(progress.chart_frame(villages)), width="stretch")
    if not any(v.visited for v in villages):
        st.info("还没有任何村登记入户情况。")
st.subheader("各村排查情况")
show_table(frame, hide_index=True, width="stretch")
st.subheader("排查人员登记情况")
if members:
    show_table(progress.member_frame(members), hide_index=True, width="stretch")
else:
    st.caption("还没有人登记。")
export_button(
    "导出排查汇总表 (xlsx)",
    key="export_sweep_summary",
    file_name=f"排查汇总表_{sweep.township}_{sweep.term}.xlsx",
    build=lambda session: progress.export_summary(session, actor=actor, sweep_id=sweep.id),
)
