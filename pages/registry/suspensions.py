"""休学与请假: suspensions ending or ended with their way out (复学, 续休, or listed as a problem), and leave long
enough to become a suspension; the registrar acts from the row, the county sees every school."""

import streamlit as st

from xueji.auth import Action
from xueji.clock import today
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.rules.status_changes import ChangeKind
from xueji.rules.suspensions import LeaveLevel, SuspensionState
from xueji.rules.vocab import ScopeKind
from xueji.services.registry import students, suspensions
from xueji.ui.change_form import ChangePreset, change_request_form
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table
from xueji.ui.widgets import export_button

actor = require_actor(Action.STATUS_CHANGE_READ)
st.title("休学与请假")
policy = get_settings().suspensions
st.caption(
    f"休学最长一年,期满前 {policy.notice_days} 天列出;仍不能复学的,在期满前 {policy.extension_days} 天内申请续休"
    f"(须医疗证明,由县教育局审批)。连续请假超过 {policy.leave_max_months} 个月,或一学期内请假超过"
    f" {policy.leave_max_term_weeks} 周,应办理休学。期中以后原则上不再办理休学。"
)

with session_scope() as session:
    ending = suspensions.expiring_suspensions(session, actor=actor)
    leave = suspensions.leaves(session, actor=actor)

one_school = actor.scope_kind is ScopeKind.SCHOOL
search = "" if one_school else st.text_input("查找(学生姓名或学校)", key="suspension_search")
ending = [r for r in ending if suspensions.matches(search, r.student, r.school)]
leave = [r for r in leave if suspensions.matches(search, r.student, r.school)]
long_leave = [r for r in leave if r.level is not None]
undated = [r for r in leave if r.start is None or r.until is None]

counts = st.columns(4)
counts[0].metric("休学即将期满", sum(r.state is not SuspensionState.EXPIRED for r in ending))
counts[1].metric("休学已期满未办理", sum(r.state is SuspensionState.EXPIRED for r in ending))
counts[2].metric("请假应转休学", sum(r.level is LeaveLevel.OVER for r in long_leave))
counts[3].metric("请假未填日期", len(undated))


def _table(frame):  # noqa: ANN001, ANN202 - a DataFrame in, shown without the school column for one school
    show_table(frame.drop(columns=["学校"]) if one_school else frame, hide_index=True, width="stretch")


st.subheader(f"休学期满({len(ending)} 人)")
if ending:
    _table(suspensions.suspension_frame(ending))
else:
    st.success(f"没有 {policy.notice_days} 天内期满或已期满未办理的休学")

st.subheader(f"请假({len(long_leave)} 人超过或将超过上限)")
if long_leave or undated:
    _table(suspensions.leave_frame(long_leave + [r for r in undated if r not in long_leave]))
    if undated:
        st.caption("“未填日期”的请假是日期登记前录入的:请在“开学报到与流生”中补填请假起止日期。")
else:
    st.success("没有超过或即将超过上限的请假")

if actor.can(Action.STATUS_CHANGE_SUBMIT):
    todo = suspensions.todos(ending, leave)
    st.subheader("办理")
    if not todo:
        st.info("目前没有需要办理的复学、续休或请假转休学")
    else:
        chosen = st.selectbox(
            "选择要办理的事项",
            todo,
            format_func=lambda t: t.label,
            key="suspension_todo",
            placeholder="请选择",
        )
        if chosen.kind is ChangeKind.SUSPENSION:
            st.caption("请假转休学须家长申请并附医疗单位证明:核验后在“已核验的材料”中勾选医疗证明。")
        with session_scope() as session:
            row = students.get_student(session, actor=actor, student_id=chosen.student_id)
        change_request_form(
            actor,
            [row],
            key=f"suspension_{chosen.kind.value}_{chosen.student_id}",
            preset=ChangePreset(chosen.kind, chosen.effective, chosen.until, chosen.reason),
        )

if actor.can(Action.STUDENT_EXPORT) and (ending or leave):
    export_button(
        "导出休学与请假 (xlsx)",
        key="export_suspensions",
        file_name=f"休学与请假_{today():%Y%m%d}.xlsx",
        build=lambda session: suspensions.export_suspensions(session, actor=actor, search=search),
    )
