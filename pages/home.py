"""县域概况: the county at a glance."""

import streamlit as st

from xueji import charts
from xueji.clock import today
from xueji.config import get_settings
from xueji.excel.tables import table_to_xlsx
from xueji.ui.overview import county_overview

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

data = county_overview(get_settings().database_url, today().isoformat())
t = data.totals

st.title("县域概况")
st.caption(f"{data.school_year} · 统计日期 {today():%Y年%m月%d日} · 仅统计学籍状态为“在读”的学生")

cols = st.columns(4)
cols[0].metric("乡镇", t.townships, help=f"下辖村/社区 {t.villages} 个")
cols[1].metric("学校", t.schools, help=f"班级 {t.classes} 个")
cols[2].metric("在读学生", f"{t.enrolled:,}")
cols[3].metric("临时学籍(无身份证号)", t.temporary, help="尚未录入身份证号的学生,录入后自动转为正式学籍")
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

st.subheader("各学校")
st.dataframe(data.schools, hide_index=True, width="stretch")
st.download_button(
    "导出各学校统计 (xlsx)",
    data=table_to_xlsx(data.schools, sheet="各学校统计"),
    file_name=f"各学校统计_{today():%Y%m%d}.xlsx",
    mime=XLSX,
)
