"""概况: the county, township or school at a glance, within the signed-in user's scope."""

import streamlit as st

from xueji import charts
from xueji.auth import Action
from xueji.clock import today
from xueji.db import session_scope
from xueji.rules.cases import CaseCategory
from xueji.rules.vocab import ScopeKind
from xueji.services import ledgers
from xueji.services.exports import export_table
from xueji.ui.overview import scoped_overview
from xueji.ui.session import require_actor
from xueji.ui.widgets import export_button

actor = require_actor(Action.OVERVIEW_READ)
data = scoped_overview(actor)
t = data.totals

st.title(
    {ScopeKind.COUNTY: "县域概况", ScopeKind.TOWNSHIP: "乡镇概况", ScopeKind.SCHOOL: "学校概况"}[
        actor.scope_kind
    ]
)
st.caption(f"{data.school_year} · 统计日期 {today():%Y年%m月%d日} · 仅统计学籍状态为“在读”的学生")

cols = st.columns(4)
cols[0].metric("乡镇", t.townships, help=f"下辖村/社区 {t.villages} 个")
cols[1].metric("学校", t.schools)
cols[2].metric("在读学生", f"{t.enrolled:,}")
cols[3].metric("临时学籍(无身份证号)", t.temporary, help="尚未录入身份证号的学生,录入后转为正式学籍")
cols = st.columns(4)
cols[0].metric("留守儿童", f"{t.left_behind:,}")
cols[1].metric("随迁子女", f"{t.migrant:,}")
cols[2].metric("残疾学生", f"{t.disabled:,}")
cols[3].metric("班级", t.classes)

left, right = st.columns(2)
with left:
    st.plotly_chart(charts.students_by_township(data.townships), width="stretch")
    st.dataframe(data.townships, hide_index=True, width="stretch")
with right:
    st.plotly_chart(charts.students_by_grade(data.grades), width="stretch")
    st.dataframe(data.grades, hide_index=True, width="stretch")

st.subheader("控辍保学")
with session_scope() as session:
    open_cases = ledgers.open_counts(session, actor=actor)
    gaps = ledgers.gaps_frame(ledgers.responsibility_gaps(session, actor=actor))
cols = st.columns(4)
cols[0].metric("在办个案", f"{sum(open_cases.values()):,}")
cols[1].metric("疑似辍学", open_cases.get(CaseCategory.SUSPECTED_DROPOUT, 0))
cols[2].metric("辍学", open_cases.get(CaseCategory.DROPOUT, 0))
cols[3].metric("缺包保人的个案", int(gaps["缺任一线"].sum()) if len(gaps) else 0)
if len(gaps):
    st.caption("双线包保未落实的学校(每个在办个案须有教育线和政府线包保人,详见“包保督办”):")
    st.dataframe(gaps, hide_index=True, width="stretch")

st.subheader("各学校")
st.dataframe(data.schools, hide_index=True, width="stretch")


export_button(
    "导出各学校统计 (xlsx)",
    key="export_schools",
    file_name=f"各学校统计_{today():%Y%m%d}.xlsx",
    build=lambda session: export_table(
        session, actor=actor, action=Action.OVERVIEW_READ, frame=data.schools, sheet="各学校统计"
    ),
)
