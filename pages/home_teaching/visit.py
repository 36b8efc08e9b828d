"""送教登记 (a teacher on a phone, or the coordinator): pick the child (those behind first), log the visit in
one short form; the child's standing is shown before and after."""

import streamlit as st

from xueji.auth import Action
from xueji.clock import today
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.rules.home_teaching import MAX_CLASS_HOURS, MAX_GOAL_TEXT, GoalArea, HomeVisitFacts
from xueji.rules.text_limits import form_limit, max_length
from xueji.services.home_teaching import board, records
from xueji.ui.errors import shown_as_error
from xueji.ui.home_teaching import CHILD, child_label, standing
from xueji.ui.session import require_actor
from xueji.ui.text import md

actor = require_actor(Action.HOME_TEACHING_VISIT)
policy = get_settings().home_teaching
st.title("送教登记")
FORM = "home_visit_form"  # bumped after each save: the next visit starts on an empty form

if saved := st.session_state.pop("home_visit_saved", None):
    st.success(saved)

term = None
with shown_as_error(), session_scope() as session:
    term = records.current_term(session)
if term is None:
    st.stop()
with session_scope() as session:
    rows = board.board(session, actor=actor, term=term)
if not rows:
    st.info(f"{term.name}您没有送教上门的孩子(由协调员在送教方案中安排送教教师)。")
    st.stop()
by_child = {r.child_id: r for r in rows}
wanted = st.session_state.get(CHILD)
child_id = st.selectbox(
    "孩子(未达标的在前)",
    list(by_child),
    index=list(by_child).index(wanted) if wanted in by_child else 0,
    format_func=lambda c: child_label(by_child[c]),
    key="hv_child",
)
row = by_child[child_id]
st.session_state[CHILD] = child_id
st.markdown(f"当前状态 {standing(row.compliance)}")
if row.compliance.reasons:
    st.caption(md(";".join(row.compliance.reasons)))

with session_scope() as session:
    plan = records.plan_for(session, actor=actor, child_id=child_id, term=term.id)
    minutes = records.class_hour_minutes(session, plan.plan) if plan else 40
assert plan is not None
goals = {GoalArea(k): v for k, v in plan.plan.goals.items()}

with st.form(f"home_visit_{child_id}_{st.session_state.get(FORM, 0)}", clear_on_submit=False):
    visit_date = st.date_input("送教日期", value=today(), min_value=term.dates.start, max_value=today())
    teachers = st.text_input(
        "送教教师(多人用顿号分隔)",
        value="、".join(plan.teachers),
        max_chars=form_limit("home_teaching_visit.teachers", "、".join(plan.teachers)),
    )
    class_hours = st.number_input(
        "课时",
        min_value=0.5,
        max_value=float(MAX_CLASS_HOURS),
        value=float(policy.min_class_hours),
        step=0.5,
        help=f"1 课时 = {minutes} 分钟;每次至少 {policy.min_class_hours:g} 课时才计入",
    )
    content = st.text_area("送教内容", height=80, max_chars=max_length("home_teaching_visit.content"))
    response = st.text_input("孩子反应", max_chars=max_length("home_teaching_visit.response"))
    progress = {
        area: st.text_input(
            f"目标进展·{area.label}",
            help=f"方案目标:{md(goal)}",
            key=f"hv_goal_{area.value}",
            max_chars=MAX_GOAL_TEXT,
        )
        for area, goal in goals.items()
    }
    signed = st.checkbox("监护人已签字确认", value=True)
    next_on = st.date_input("下次送教日期", value=None, min_value=today())
    submitted = st.form_submit_button("保存送教记录", type="primary", width="stretch")

if submitted:
    facts = HomeVisitFacts(
        visit_date=visit_date,
        teachers=teachers,
        class_hours=float(class_hours),
        content=content,
        response=response,
        progress=progress,
        guardian_signed=signed,
        next_visit_on=next_on,
    )
    with shown_as_error(), session_scope() as session:
        records.log_home_visit(session, actor=actor, plan_id=plan.plan.id, facts=facts)
        after = board.board(session, actor=actor, term=term, child_id=child_id)[0]
        st.session_state[FORM] = st.session_state.get(FORM, 0) + 1  # a fresh form for the next visit
        st.session_state["home_visit_saved"] = (
            f"已保存 {md(row.name)} {visit_date:%m月%d日} 的送教记录({class_hours:g} 课时)。"
            f"现在:{after.compliance.state.label}"
        )
        st.rerun()
st.page_link("pages/home_teaching/child.py", label="查看该孩子的送教档案", icon=":material/assignment_ind:")
