"""家访 (a teacher's home page): the visits due and overdue at the top, one tap to a prefilled form, any of
my students found by search; a return attempt (劝返) is the same form with its outcome."""

from datetime import date

import streamlit as st

from xueji.auth import Action
from xueji.clock import today
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.rules.cases import RiskLevel
from xueji.rules.text_limits import max_length
from xueji.rules.visits import ReturnOutcome, VisitFacts, VisitKind, VisitMethod, VisitState
from xueji.services.cases import visits
from xueji.ui.errors import shown_as_error
from xueji.ui.home_teaching import CHILD, dot, home_teaching_due
from xueji.ui.session import require_actor
from xueji.ui.text import md
from xueji.ui.widgets import picked, student_search

actor = require_actor(Action.VISIT_LOG)
policy = get_settings().visit_policy
TARGET = "visit_target"  # {"child_id": ..., "student_id": ...} of the child the form is for

st.title("家访")


def choose(child_id: int | None = None, student_id: int | None = None) -> None:
    st.session_state[TARGET] = {"child_id": child_id, "student_id": student_id}


def visit_form(target: visits.VisitTarget) -> None:
    st.subheader(f"登记家访:{md(target.name)}")
    if target.categories:
        st.caption("关注类别:" + md("、".join(dict.fromkeys(target.categories))))
    with st.form("visit_form", clear_on_submit=False):
        kind = st.radio("类型", list(VisitKind), format_func=lambda k: k.label, horizontal=True, key="v_kind")
        visit_date = st.date_input("家访日期", value=today(), max_value=today(), key="v_date")
        method = st.radio(
            "方式", list(VisitMethod), format_func=lambda m: m.label, horizontal=True, key="v_method"
        )
        visitors = st.text_input(
            "家访人(多人用顿号分隔)",
            value=target.visitor,
            key="v_visitors",
            max_chars=max_length("home_visit.visitors"),
        )
        met_with = st.text_input(
            "见到/联系上的人",
            placeholder="如:母亲、祖父",
            key="v_met",
            max_chars=max_length("home_visit.met_with"),
        )
        child_situation = st.text_area(
            "孩子情况", height=80, key="v_child", max_chars=max_length("home_visit.child_situation")
        )
        family_situation = st.text_area(
            "家庭情况", height=80, key="v_family", max_chars=max_length("home_visit.family_situation")
        )
        risk = st.radio(
            "家访后风险",
            list(RiskLevel),
            index=list(RiskLevel).index(target.risk),
            format_func=lambda r: r.label,
            horizontal=True,
            key="v_risk",
        )
        outcome = st.selectbox(
            "劝返结果(仅劝返填写)",
            [None, *ReturnOutcome],
            format_func=lambda o: "—" if o is None else o.label,
            key="v_outcome",
        )
        next_step = st.text_input("下一步", key="v_next_step", max_chars=max_length("home_visit.next_step"))
        next_on = st.date_input(
            "下次家访日期", value=target.next_visit_on, min_value=date(2000, 1, 1), key="v_next"
        )
        saved = st.form_submit_button("保存家访记录", type="primary", width="stretch")
    if not saved:
        return
    facts = VisitFacts(
        visit_date=visit_date,
        kind=kind,
        method=method,
        visitors=visitors,
        met_with=met_with,
        child_situation=child_situation,
        family_situation=family_situation,
        risk_after=risk,
        next_step=next_step,
        next_visit_on=next_on,
        outcome=outcome,
    )
    with shown_as_error(), session_scope() as session:
        visit = visits.log_visit(
            session, actor=actor, facts=facts, child_id=target.child_id, student_id=target.student_id
        )
        st.session_state.pop(TARGET, None)
        st.session_state["case_child_id"] = visit.child_id
        st.session_state["visit_saved"] = (
            f"已保存 {md(target.name)} 的{kind.label}记录({visit_date:%m月%d日})"
        )
        st.rerun()


due_home = home_teaching_due(actor)
if due_home:
    st.subheader("本月应送教上门")
    for row in due_home:
        line, button = st.columns([4, 1], vertical_alignment="center")
        line.markdown(
            f"{dot(row.compliance.state)} **{md(row.name)}** {md(row.school)} · 本月尚未送教 · "
            + md(";".join(row.compliance.reasons[:1]))
        )
        if button.button("送教", key=f"home_{row.child_id}"):
            st.session_state[CHILD] = row.child_id
            st.switch_page("pages/home_teaching/visit.py")
    st.divider()

if saved := st.session_state.pop("visit_saved", None):
    st.success(saved)
    st.page_link("pages/cases/case_detail.py", label="查看该儿童的个案与时间线", icon=":material/timeline:")

chosen = st.session_state.get(TARGET)
if chosen:
    target = None
    with shown_as_error(), session_scope() as session:
        target = visits.visit_target(session, actor=actor, **chosen)
    if target is not None:
        visit_form(target)
        if st.button("换一个孩子", key="v_cancel"):
            st.session_state.pop(TARGET, None)
            st.rerun()
    st.divider()

with session_scope() as session:
    due = visits.due_visits(session, actor=actor)
day = today()
states = [r.state(day, policy.warn_days) for r in due]
overdue, soon = states.count(VisitState.OVERDUE), states.count(VisitState.DUE)
left, right = st.columns(2)
left.metric("家访已逾期", overdue, help="按家访频次要求(如疑似辍学每14天、留守儿童每30天)已过应访日期")
right.metric(f"{policy.warn_days}天内到期", soon)

st.subheader("我包保的孩子")
if not due:
    st.info("您目前没有作为教育线包保人的在办个案。可在下方查找您的学生登记家访。")
for row, state in zip(due, states, strict=True):
    mark = {VisitState.OVERDUE: ":red[●]", VisitState.DUE: ":orange[●]", VisitState.OK: ":green[●]"}[state]
    line, button = st.columns([4, 1], vertical_alignment="center")
    last = f"上次 {row.last_visit:%m-%d}" if row.last_visit else "尚未家访"
    line.markdown(
        f"{mark} **{md(row.name)}** {md(row.class_name)} · {md('、'.join(dict.fromkeys(row.categories)))}  \n"
        f"{state.label} · 应访 {row.due:%m-%d} · {last}"
    )
    if button.button("家访", key=f"visit_{row.child_id}"):
        choose(child_id=row.child_id)
        st.rerun()

st.subheader("查找学生登记家访")
found = student_search(actor, key="visit_search", label="学生姓名、拼音首字母或身份证号后几位")
if found:
    student = picked(
        "找到的学生",
        found,
        format_func=lambda r: f"{r.name} · {r.class_name}",
        button="登记家访",
        key="visit_pick",
    )
    if student is not None:
        choose(student_id=student.id)
        st.rerun()
