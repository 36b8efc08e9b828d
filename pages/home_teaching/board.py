"""送教看板 (coordinator, schools, townships, county): every home-teaching child of the term as a traffic light,
worst first, per township and school; the schools compared; the term report."""

import streamlit as st

from xueji import charts
from xueji.auth import Action
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.services.home_teaching import board
from xueji.ui.home_teaching import CHILD, child_label, dot, light_label, policy_text, styled, term_picker
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table
from xueji.ui.text import md
from xueji.ui.verification import assessment_section
from xueji.ui.widgets import export_button

actor = require_actor(Action.HOME_TEACHING_READ)
st.title("送教看板")
st.caption(policy_text())
assessment_section(actor)  # the coordinator's 送教上门 assessments asked for by the 残联 list
term = term_picker(key="board_term")
if term is None:
    st.stop()
with session_scope() as session:
    rows = board.board(session, actor=actor, term=term)
if not rows:
    st.info(
        f"{term.name}还没有您可查看的送教上门儿童:由协调员在“送教档案”中为评估结论为送教上门的儿童制定送教方案。"
    )
    st.stop()

left, right = st.columns(2)
townships = dict(sorted({(r.township, r.township_id) for r in rows}))
township = (
    left.selectbox("乡镇", ["全部", *townships], key="board_township", placeholder="请选择")
    if len(townships) > 1
    else "全部"
)
in_township = [r for r in rows if township in ("全部", r.township)]
schools = sorted({(r.school, r.school_id) for r in in_township})
school = (
    (right if len(townships) > 1 else left).selectbox(
        "学校", ["全部", *(s for s, _ in schools)], key="board_school", placeholder="请选择"
    )
    if len(schools) > 1
    else "全部"
)
shown = [r for r in in_township if school in ("全部", r.school)]

cols = st.columns(len(board.SEVERITY) + 1)
cols[0].metric("送教上门儿童", len(shown))
for col, state in zip(cols[1:], board.SEVERITY, strict=True):
    col.metric(light_label(state), sum(r.compliance.state is state for r in shown))

summary = board.school_summary(shown)
if len(summary) > 1:
    st.plotly_chart(charts.home_teaching_by_school(summary), width="stretch")
st.subheader("送教上门儿童(点击表头可排序)")
show_table(styled(board.board_frame(shown)), hide_index=True, width="stretch")

late = [r for r in shown if not r.compliance.owed.whole_term]
if late:
    policy = get_settings().home_teaching
    st.markdown(
        "**学期中途开始送教(按送教天数占学期天数的比例计算):**  \n"
        + "  \n".join(f"{md(r.name)}({md(r.school)}):{r.compliance.owed.formula(policy)}" for r in late)
    )
hopeless = [r for r in shown if r.compliance.hopeless]
if hopeless:
    st.warning(
        f"**本学期已无法达标({len(hopeless)} 人):**  \n"
        + "  \n".join(
            f"{dot(r.compliance.state)} {md(r.label or r.name)} · {md(r.school)}:"
            + md(r.compliance.out_of_reach.removeprefix("本学期已无法达标:"))
            for r in hopeless[:20]
        )
        + (f"  \n…… 另有 {len(hopeless) - 20} 人,见下表“能否达标”列。" if len(hopeless) > 20 else "")
    )
red = [r for r in shown if r.compliance.state.needs_follow_up and not r.compliance.hopeless]
if red:
    st.markdown(
        "**需要跟进:** "
        + "、".join(
            f"{dot(r.compliance.state)} {md(r.name)}({md(r.school)},{md(r.compliance.reasons[0])})"
            for r in red[:20]
        )
    )
by_child = {r.child_id: r for r in shown}
pick, go = st.columns([3, 1], vertical_alignment="bottom")
chosen = pick.selectbox(
    "查看送教档案",
    list(by_child),
    format_func=lambda c: child_label(by_child[c]),
    placeholder="请选择",
)
if go.button("打开档案", key="board_open"):
    st.session_state[CHILD] = chosen
    st.switch_page("pages/home_teaching/child.py")

st.subheader("各校情况")
show_table(summary, hide_index=True, width="stretch")

school_id = dict(schools).get(school)
township_id = townships.get(township)
scope_name = school if school_id else township if township_id else "全部"
export_button(
    f"导出{md(scope_name)}送教报表 (xlsx,每生一页送教记录)",
    key=f"export_home_report_{school_id}_{township_id}",
    file_name=f"送教上门报表_{scope_name}_{term.name}.xlsx",
    build=lambda session: board.term_report(
        session, actor=actor, term=term, school_id=school_id, township_id=township_id, title=scope_name
    ),
)
