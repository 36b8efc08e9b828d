"""开学报到与流生: the registrar marks, class by class, who has reported for the term; everyone sees the
reports per school and the lost students, one week after term start."""

from datetime import date, datetime

import pandas as pd
import streamlit as st

from xueji.auth import Action
from xueji.clock import today
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.services.registry import term_reports
from xueji.ui.errors import shown_as_error
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table
from xueji.ui.text import md
from xueji.ui.widgets import class_picker, export_button

actor = require_actor(Action.OVERVIEW_READ)
st.title("开学报到与流生")
try:
    with session_scope() as session:
        lost = term_reports.lost_students(session, actor=actor)
        progress = term_reports.report_progress(session, actor=actor)
except term_reports.TermReportError as error:
    st.error(str(error))
    st.stop()
st.caption(
    f"{lost.term.name}于 {lost.term.start:%Y-%m-%d} 开学。自 {lost.since:%Y-%m-%d} 起,"
    "仍未报到、未请假、也没有在办的转学或休学手续的在读学生列为流生,按疑似辍学跟进(劝返、家访)。"
)


def _save(class_id: int, reported: list[int], leave: dict[int, term_reports.Leave]) -> None:
    """Save the class's reports; on success, show the counts after the page reloads with them."""
    with shown_as_error(), session_scope() as session:
        saved = term_reports.record_reports(
            session, actor=actor, class_id=class_id, reported=reported, leave=leave
        )
        st.session_state["reports_saved"] = (
            f"已保存:报到 {saved.reported} 人,请假 {saved.on_leave} 人,未报到 {saved.not_reported} 人"
        )
        st.rerun()


def _edit_class(class_id: int) -> None:
    if message := st.session_state.pop("reports_saved", None):
        st.success(message)
    with session_scope() as session:
        rows = term_reports.class_reports(session, actor=actor, class_id=class_id)
    if not rows:
        st.info("本班没有在读学生")
        return
    on_leave = {
        r.student_id: term_reports.Leave(r.leave_reason, r.leave_from, r.leave_until)
        for r in rows
        if r.leave_reason
    }
    left, middle, right = st.columns(3)
    left.metric("已报到", sum(r.reported for r in rows))
    middle.metric("请假", len(on_leave))
    right.metric("未报到", sum(not r.reported and not r.leave_reason for r in rows))
    undated = [r.name for r in rows if r.leave_reason and (r.leave_from is None or r.leave_until is None)]
    if undated:
        st.warning(md(f"以下请假未填日期,请补填开始和截止日期:{'、'.join(undated)}"))
    if st.button("本班其余学生全部标为已报到", key="report_all"):
        _save(class_id, [r.student_id for r in rows if r.student_id not in on_leave], on_leave)
    frame = pd.DataFrame(
        {
            "姓名": [r.name for r in rows],
            "身份证号": [r.id_number or "(临时学籍)" for r in rows],
            "已报到": [r.reported for r in rows],
            "请假事由": [r.leave_reason or "" for r in rows],
            "请假开始": [r.leave_from for r in rows],
            "请假截止": [r.leave_until for r in rows],
        },
        index=[r.student_id for r in rows],
    )
    with st.form(f"reports_{class_id}"):
        edited = st.data_editor(
            frame,
            hide_index=True,
            disabled=["姓名", "身份证号"],
            width="stretch",
            key=f"report_editor_{class_id}",
            placeholder="—",
            column_config={
                "请假开始": st.column_config.DateColumn(format="YYYY-MM-DD"),
                "请假截止": st.column_config.DateColumn(format="YYYY-MM-DD"),
            },
        )
        policy = get_settings().suspensions
        st.caption(
            "请假的学生不勾“已报到”,写明请假事由和起止日期。连续请假超过"
            f"{policy.leave_max_months}个月或一学期内超过{policy.leave_max_term_weeks}周的,"
            "应办理休学(见“休学与请假”)。"
        )
        if st.form_submit_button("保存报到情况", type="primary"):
            leave = {
                int(i): term_reports.Leave(r["请假事由"].strip(), _day(r["请假开始"]), _day(r["请假截止"]))
                for i, r in edited.iterrows()
                if isinstance(r["请假事由"], str) and r["请假事由"].strip()
            }
            _save(class_id, [int(i) for i, done in edited["已报到"].items() if done], leave)


def _day(value: object) -> date | None:
    """A date from the editor's cell (a date, a timestamp, or empty)."""
    if value is None or pd.isna(value):
        return None
    return value.date() if isinstance(value, datetime) else value


if actor.can(Action.ATTENDANCE_RECORD):
    st.subheader("登记报到")
    class_id = class_picker(actor, key="report_class")
    if class_id is not None:
        _edit_class(class_id)

st.subheader("各校报到情况")
show_table(term_reports.progress_frame(progress), hide_index=True, width="stretch")

st.subheader(f"流生名单({len(lost.rows)} 人)")
if not lost.in_force:
    st.info(f"开学未满一周:{lost.since:%Y-%m-%d} 起列出流生")
elif lost.rows:
    show_table(term_reports.lost_frame(lost.rows), hide_index=True, width="stretch")
else:
    st.success("没有流生:在读学生都已报到、请假或在办转学/休学手续")


if actor.can(Action.STUDENT_EXPORT) and lost.rows:
    export_button(
        "导出流生名单 (xlsx)",
        key="export_lost",
        file_name=f"流生名单_{today():%Y%m%d}.xlsx",
        build=lambda session: term_reports.export_lost(session, actor=actor),
    )
