"""送教档案 (一人一案): one child's standing this term, the visit log, the term's plan (made, edited or copied
from last term by the coordinator) and the assessments."""

import streamlit as st

from xueji.auth import Action
from xueji.clock import today
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.rules.home_teaching import (
    MAX_GOAL_TEXT,
    AssessmentFacts,
    Conclusion,
    Degree,
    GoalArea,
    PlanFacts,
    parse_planned_dates,
)
from xueji.rules.registry_record import DISABILITY_TYPES
from xueji.rules.text_limits import form_limit, max_length
from xueji.services.home_teaching import board, records
from xueji.ui.errors import shown_as_error
from xueji.ui.home_teaching import CHILD, policy_text, standing, term_picker
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table
from xueji.ui.text import md

actor = require_actor(Action.HOME_TEACHING_READ)
manages = actor.can(Action.HOME_TEACHING_MANAGE)
policy = get_settings().home_teaching
st.title("送教档案")
st.caption(policy_text())
term = term_picker(key="file_term")
if term is None:
    st.stop()
with session_scope() as session:
    candidates = records.candidates(session, actor=actor, term=term.id)
if not candidates:
    st.info("您的范围内没有残疾或送教上门个案的儿童。")
    st.stop()
by_id = {c.child_id: c for c in candidates}
wanted = st.session_state.get(CHILD)
child_id = st.selectbox(
    "儿童(残疾或送教上门个案)",
    list(by_id),
    index=list(by_id).index(wanted) if wanted in by_id else 0,
    format_func=lambda c: (
        f"{by_id[c].name} · {by_id[c].school}" + ("" if by_id[c].has_plan else "(本学期无方案)")
    ),
    placeholder="请选择",
)
st.session_state[CHILD] = child_id
child = by_id[child_id]

with session_scope() as session:
    plan = records.plan_for(session, actor=actor, child_id=child_id, term=term.id)
    previous = records.previous_plan(session, actor=actor, child_id=child_id, term=term.id)
    row = next(iter(board.board(session, actor=actor, term=term, child_id=child_id)), None)
    visits = records.plan_visits(session, actor=actor, plan_id=plan.plan.id) if plan else []
    assessments = records.assessments(session, actor=actor, child_id=child_id)
    teachers = records.teachers_for(session, actor=actor, child_id=child_id) if manages else []

if saved := st.session_state.pop("home_file_saved", None):
    st.success(saved)
st.subheader(f"{md(child.name)} · {md(term.name)}")
if row is not None:
    c = row.compliance
    st.markdown(f"当前状态 {standing(c)}")
    reasons = c.reasons[:-1] if c.hopeless else c.reasons  # the last says why it can no longer comply
    st.caption(";".join(md(text) for text in (c.owed.formula(policy), *reasons)))
    if c.hopeless:
        st.warning(md(c.reasons[-1]))
    if actor.can(Action.HOME_TEACHING_VISIT) and st.button("登记送教", type="primary"):
        st.switch_page("pages/home_teaching/visit.py")
elif actor.can(Action.HOME_TEACHING_VISIT):
    st.warning("本学期还没有送教方案:送教上门须一人一案,先制定方案再登记送教。")
else:
    st.warning("本学期还没有送教方案(送教上门须一人一案)。")

st.subheader("送教记录")
if visits:
    show_table(board.visit_log_frame(visits), hide_index=True, width="stretch")
else:
    st.caption("本学期还没有送教记录。")

st.subheader("送教方案(一人一案)")
if plan is not None:
    p = plan.plan
    st.markdown(
        f"开始送教:{p.started_on:%Y-%m-%d} · 送教教师:{md('、'.join(plan.teachers) or '—')}  \n"
        + "  \n".join(f"**{GoalArea(k).label}**:{md(v)}" for k, v in p.goals.items())
        + (f"  \n**方法**:{md(p.methods)}" if p.methods else "")
        + (f"  \n**计划送教日期**:{'、'.join(d[5:] for d in p.planned_dates)}" if p.planned_dates else "")
    )
elif previous is not None and manages:
    st.caption("上学期已有方案:可复制到本学期后再修改(目标、方法、仍在本校的送教教师)。")
    if st.button("复制上学期方案"):
        with shown_as_error(), session_scope() as session:
            records.copy_forward(session, actor=actor, child_id=child_id, term=term.id)
            st.session_state["home_file_saved"] = "已复制上学期方案,请核对修改"
            st.rerun()
elif not manages:
    st.caption("本学期还没有送教方案。")

if manages:
    facts = plan.facts if plan else None
    with st.expander("修改送教方案" if plan else "制定本学期送教方案", expanded=plan is None):
        with st.form(f"plan_{child_id}_{term.id}"):
            started = st.date_input(
                "开始送教日期",
                value=facts.started_on if facts else max(term.dates.start, min(today(), term.dates.end)),
                min_value=term.dates.start,
                max_value=term.dates.end,
                format="YYYY-MM-DD",
            )
            goals = {
                area: st.text_area(
                    f"目标·{area.label}",
                    value=(facts.goals.get(area, "") if facts else ""),
                    height=68,
                    max_chars=max(MAX_GOAL_TEXT, len(facts.goals.get(area, "") if facts else "")),
                )
                for area in GoalArea
            }
            methods = st.text_area(
                "教学方法与措施",
                value=facts.methods if facts else "",
                height=68,
                max_chars=form_limit("home_plan.methods", facts.methods if facts else ""),
            )
            names = dict(teachers)
            chosen = st.multiselect(
                "送教教师(本校教师账号,至少一名)",
                list(names),
                default=[t for t in (facts.teacher_ids if facts else ()) if t in names],
                format_func=lambda t: names[t],
                placeholder="请选择(可多选)",
            )
            planned = st.text_input(
                "计划送教日期(用逗号分隔,如 2026-09-15, 2026-10-13)",
                value=", ".join(d.isoformat() for d in facts.planned_dates) if facts else "",
            )
            if st.form_submit_button("保存送教方案", type="primary"):
                try:
                    dates = parse_planned_dates(planned)
                except ValueError as error:
                    st.error(f"计划送教日期:{md(error)}")
                else:
                    with shown_as_error(), session_scope() as session:
                        records.save_plan(
                            session,
                            actor=actor,
                            child_id=child_id,
                            term=term.id,
                            facts=PlanFacts(started, goals, methods, tuple(chosen), dates),
                        )
                        st.session_state["home_file_saved"] = "送教方案已保存"
                        st.rerun()

st.subheader("评估")
if assessments:
    show_table(records.assessments_frame(assessments), hide_index=True, width="stretch")
else:
    st.caption("还没有评估记录。")
if manages:
    with st.expander("新增评估"), st.form(f"assessment_{child_id}", clear_on_submit=True):
        assessed_on = st.date_input("评估日期", value=today(), max_value=today(), format="YYYY-MM-DD")
        members = st.text_input(
            "评估人员(专家委员会成员,用顿号分隔)", max_chars=max_length("home_assessment.members")
        )
        disability = st.selectbox(
            "残疾类型",
            DISABILITY_TYPES,
            index=DISABILITY_TYPES.index(child.disability_type)
            if child.disability_type in DISABILITY_TYPES
            else 0,
            placeholder="请选择",
        )
        degree = st.radio("残疾程度", list(Degree), format_func=lambda d: d.label, horizontal=True, index=2)
        ability = st.text_area("接受教育能力", height=68, max_chars=max_length("home_assessment.ability"))
        conclusion = st.radio(
            "评估结论", list(Conclusion), format_func=lambda c: c.label, horizontal=True, index=2
        )
        review = st.date_input("下次复评日期", value=None, format="YYYY-MM-DD")
        if st.form_submit_button("保存评估", type="primary"):
            with shown_as_error(), session_scope() as session:
                records.record_assessment(
                    session,
                    actor=actor,
                    child_id=child_id,
                    facts=AssessmentFacts(
                        assessed_on, members, disability, degree, ability, conclusion, review
                    ),
                )
                st.session_state["home_file_saved"] = "评估已保存" + (
                    ",已建立送教上门个案(如已有则沿用)" if conclusion is Conclusion.HOME_TEACHING else ""
                )
                st.rerun()
