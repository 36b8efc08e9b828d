"""巩固率: retention by grade for the county, a township or a school and a school year, with the formula; the
townships compared; each entry cohort year by year and the nine-year rate."""

import streamlit as st

from xueji import charts
from xueji.auth import Action
from xueji.rules.retention import FORMULA, FORMULA_NOTE, IN_SCHOOL_NOTE, NINE_YEAR_FORMULA
from xueji.rules.terms import school_year_name
from xueji.services.dashboards import figures as dashboard
from xueji.services.dashboards import retention
from xueji.services.dashboards.retention import RetentionScope
from xueji.ui.dashboard import figure
from xueji.ui.session import reading, require_actor

actor = require_actor(Action.OVERVIEW_READ)
st.title("巩固率")
with reading() as session:
    years = dashboard.school_years(session)
    choices = retention.scope_choices(session, actor=actor)
if not years or not choices:
    st.info("还没有学年或学校数据:导入学籍后即可统计巩固率。")
    st.stop()

left, middle, right = st.columns(3)
year = left.selectbox("学年", years, format_func=school_year_name, placeholder="请选择")
townships = dict.fromkeys((tid, tname) for _, _, tid, tname in choices)
township = None
if len(townships) > 1:
    township = middle.selectbox(
        "乡镇",
        [None, *townships],
        format_func=lambda t: "全部乡镇" if t is None else t[1],
        placeholder="请选择",
    )
schools = [(sid, name) for sid, name, tid, _ in choices if township is None or tid == township[0]]
school = None  # one school in scope (a school's registrar): its figures are the scope's, no choice to make
if len(schools) > 1:
    school = right.selectbox(
        "学校",
        [None, *schools],
        format_func=lambda s: "全部学校" if s is None else s[1],
        placeholder="请选择",
    )
scope = RetentionScope(township_id=township[0] if township else None, school_id=school[0] if school else None)
place = (
    school[1]
    if school
    else township[1]
    if township
    else {"county": "全县", "township": "本乡镇", "school": "本校"}[actor.scope_kind.value]
)

with reading() as session, st.spinner("正在统计…"):
    figures = dashboard.retention_figures(session, actor=actor, school_year=year, scope=scope)

grades = retention.flows_frame(figures.grades)
figure(
    actor,
    grades,
    title=f"{place}{school_year_name(year)}各年级巩固率",
    chart=charts.retention_by_grade,
    empty="该范围该学年没有在籍学生。",
    key="retention_grades",
    caption=f"{FORMULA}。{FORMULA_NOTE}{IN_SCHOOL_NOTE}“计算”列是每个年级代入公式的算式,可手工核对。",
    column_help={"现在籍": IN_SCHOOL_NOTE},
)
if school is None and township is None and len(figures.townships) > 1:
    figure(
        actor,
        retention.townships_frame(figures.townships),
        title=f"各乡镇{school_year_name(year)}巩固率",
        chart=charts.retention_by_township,
        empty="",
        key="retention_townships",
        caption=f"乡镇之间转学:转出乡镇算转出、转入乡镇算转入,都不算流失。{IN_SCHOOL_NOTE}",
        column_help={"现在籍": IN_SCHOOL_NOTE},
    )
figure(
    actor,
    figures.cohorts,
    title=f"{place}各届学生逐年巩固率",
    chart=charts.cohort_curves,
    empty="还没有可统计的学年。",
    key="retention_cohorts",
    caption="按一年级入学年份分届;累计巩固率 = 各学年巩固率相乘(转学不算流失),从系统数据覆盖的第一个学年算起。",
)
figure(
    actor,
    figures.nine_year,
    title=f"{place}九年巩固率",
    chart=None,
    empty="还没有可统计的学年。",
    key="retention_nine",
    caption=f"{NINE_YEAR_FORMULA}(转出也算在分母中)。数据须覆盖该届从一年级到九年级毕业的九个学年。",
)
