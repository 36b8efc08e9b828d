"""送教登记 (a teacher on a phone, or the coordinator): the confirmation of the last save first; pick the child
(those behind first), log the visit in one short form; the child's standing is shown before and after. The form
is drawn outside st.form so each change reaches the server and is kept as a draft."""

from datetime import date

import streamlit as st

from xueji.auth import Action
from xueji.clock import today
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.rules.home_teaching import MAX_CLASS_HOURS, MAX_GOAL_TEXT, GoalArea, HomeVisitFacts
from xueji.rules.text_limits import form_limit, max_length
from xueji.services.home_teaching import board, records
from xueji.ui import drafts
from xueji.ui.confirm import remember_saved, show_saved
from xueji.ui.display import day, number
from xueji.ui.errors import shown_as_error
from xueji.ui.home_teaching import CHILD, child_label, standing
from xueji.ui.session import require_actor
from xueji.ui.text import md

actor = require_actor(Action.HOME_TEACHING_VISIT)
policy = get_settings().home_teaching
DRAFT = "home_visit"
SAVED = "home_visit_saved"
FORM_FOR = "hv_form_for"  # the child the form's fields were last filled for
SAVES = (
    "hv_saves"  # counts saves: the save button's key changes, so a double tap's second click finds no button
)
FIELDS = ("hv_date", "hv_teachers", "hv_hours", "hv_content", "hv_response", "hv_signed", "hv_next")

st.title("送教登记")
show_saved(SAVED)  # first on the page: where a phone's screen is after the save's rerun

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
restored = drafts.take_draft(actor, DRAFT) if drafts.first_run(DRAFT) else None
if restored and restored.get("child_id") in by_child:
    st.session_state["hv_child"] = restored["child_id"]
else:
    restored = None
wanted = st.session_state.get(CHILD)
if "hv_child" not in st.session_state or st.session_state["hv_child"] not in by_child:
    st.session_state["hv_child"] = wanted if wanted in by_child else next(iter(by_child))
child_id = st.selectbox(
    "孩子(未达标的在前)",
    list(by_child),
    format_func=lambda c: child_label(by_child[c]),
    key="hv_child",
    placeholder="请选择",
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
goal_keys = [f"hv_goal_{area.value}" for area in goals]
fields = [*FIELDS, *goal_keys]

if st.session_state.get(FORM_FOR) != child_id or not all(k in st.session_state for k in fields):
    st.session_state[FORM_FOR] = child_id
    if restored is None:  # back on the page, or another child: the kept draft, if it is this child's
        restored = drafts.take_draft(actor, DRAFT)
    if restored and restored.get("child_id") == child_id:
        st.session_state.update({k: v for k, v in restored.items() if k in fields})
    else:
        drafts.forget_restored(DRAFT)
        values = {
            "hv_date": today(),
            "hv_teachers": "、".join(plan.teachers),
            "hv_hours": float(policy.min_class_hours),
            "hv_content": "",
            "hv_response": "",
            "hv_signed": True,
            "hv_next": None,
            **dict.fromkeys(goal_keys, ""),
        }
        st.session_state.update(values)
        drafts.start_clean(DRAFT, {"child_id": child_id, **values})

drafts.restored_notice(actor, DRAFT, clear=[FORM_FOR, *fields])
st.date_input(
    "送教日期 *", min_value=date(2000, 1, 1), key="hv_date", help="本学期内,不晚于今天", format="YYYY-MM-DD"
)
st.text_input(
    "送教教师(多人用顿号分隔) *",
    key="hv_teachers",
    max_chars=form_limit("home_teaching_visit.teachers", "、".join(plan.teachers)),
)
st.number_input(
    "课时 *",
    min_value=0.5,
    max_value=float(MAX_CLASS_HOURS),
    step=0.5,
    key="hv_hours",
    help=f"1 课时 = {minutes} 分钟;每次至少 {number(policy.min_class_hours)} 课时才计入",
)
st.text_area("送教内容 *", height=80, key="hv_content", max_chars=max_length("home_teaching_visit.content"))
st.text_input("孩子反应", key="hv_response", max_chars=max_length("home_teaching_visit.response"))
for area, goal in goals.items():
    st.text_input(
        f"目标进展·{area.label}",
        help=f"方案目标:{md(goal)}",
        key=f"hv_goal_{area.value}",
        max_chars=MAX_GOAL_TEXT,
    )
st.checkbox("监护人已签字确认", key="hv_signed")
st.date_input("下次送教日期", min_value=date(2000, 1, 1), key="hv_next", format="YYYY-MM-DD")
s = st.session_state
drafts.keep(actor, DRAFT, {"child_id": child_id, **{k: s[k] for k in fields}})
submitted = st.button("保存送教记录", type="primary", width="stretch", key=f"hv_save_{s.get(SAVES, 0)}")
st.caption("带 * 的为必填项。填写内容随时自动保存为草稿,刷新页面或切换应用后回来仍在。")

if submitted and s["hv_date"] is None:
    st.error("送教日期:请选择送教日期")
elif submitted:
    facts = HomeVisitFacts(
        visit_date=s["hv_date"],
        teachers=s["hv_teachers"],
        class_hours=float(s["hv_hours"]),
        content=s["hv_content"],
        response=s["hv_response"],
        progress={area: s[f"hv_goal_{area.value}"] for area in goals},
        guardian_signed=s["hv_signed"],
        next_visit_on=s["hv_next"],
    )
    with shown_as_error(), session_scope() as session:
        records.log_home_visit(session, actor=actor, plan_id=plan.plan.id, facts=facts)
        after = board.board(session, actor=actor, term=term, child_id=child_id)[0]
        s[SAVES] = s.get(SAVES, 0) + 1
        drafts.drop(actor, DRAFT)
        for key in (FORM_FOR, *fields):  # a fresh form for the next visit
            s.pop(key, None)
        remember_saved(
            SAVED,
            f"已保存 {md(row.label or row.name)} {day(facts.visit_date)} 的送教记录({number(facts.class_hours)} 课时)。"
            f"现在:{after.compliance.state.label}",
        )
        st.rerun()
st.page_link("pages/home_teaching/child.py", label="查看该孩子的送教档案", icon=":material/assignment_ind:")
