"""学生档案: one student's record, family, status history and changes; for the registrar, corrections
(checked by the import's rules), a status-change request, archiving and merging duplicates."""

import pandas as pd
import streamlit as st

from xueji.auth import Action
from xueji.db import session_scope
from xueji.rules.registry_record import COLUMNS, cell_max_chars
from xueji.rules.text_limits import max_length
from xueji.services.registry import student_record, suspensions
from xueji.ui.change_form import change_request_form
from xueji.ui.errors import shown_as_error
from xueji.ui.session import require_actor
from xueji.ui.style import required, required_note
from xueji.ui.tables import show_table
from xueji.ui.text import md
from xueji.ui.widgets import confirmed_submit, picked, student_search

actor = require_actor(Action.STUDENT_READ)
st.title("学生档案")

found = student_search(actor, key="detail_search", label="查找学生(姓名、拼音首字母或身份证号后几位)")
if found:
    chosen = picked(
        "找到的学生",
        found,
        format_func=lambda r: f"{r.label or r.name} · {r.school}",
        button="打开",
        key="detail_open",
    )
    if chosen is not None:
        st.session_state["student_detail_id"] = chosen.id
student_id = st.session_state.get("student_detail_id")
if student_id is None:
    st.info("请在上方查找学生,或在“学生名册”中选择学生后点“打开档案”。")
    st.stop()

detail = None
with shown_as_error(), session_scope() as session:
    detail = student_record.student_detail(session, actor=actor, student_id=student_id)
if detail is None:
    st.stop()
row = detail.row
st.subheader(md(f"{row.name}({row.sex})· {row.school} {row.grade} {row.class_name}"))
st.caption(md(f"学籍状态:{row.status}" + (f" · 重点关注:{row.flags}" if row.flags else "")))
with session_scope() as session:
    suspended_until = suspensions.suspension_end_of(session, actor=actor, student_id=student_id)
if suspended_until:
    st.caption(f"休学至 {suspended_until:%Y-%m-%d}(最近一次批准的休学或续休)")
if detail.lost:
    st.error("本学期开学一周后仍未报到,也没有请假、转学或休学手续:列为流生,按疑似辍学跟进。")
if detail.merged_into_id:
    st.warning(f"这是一条重复学籍,已合并到 #{detail.merged_into_id};请在保留的记录上操作。")
elif detail.archived_reason:
    st.info(f"已归档:{md(detail.archived_reason)}")
if detail.merged_from:
    st.caption(f"已并入的重复学籍:{md('、'.join(detail.merged_from))}(其异动记录一并显示)")

record_tab, family_tab, history_tab, edits_tab = st.tabs(["基本信息", "家庭成员", "异动记录", "修改记录"])
with record_tab:
    fields = [(c.header, detail.cells.get(c.key, "")) for c in COLUMNS if not c.key.startswith("m")]
    show_table(pd.DataFrame(fields, columns=["项目", "内容"]), hide_index=True, width="stretch")
with family_tab:
    if detail.family:
        show_table(pd.DataFrame(detail.family), hide_index=True, width="stretch")
    else:
        st.info("未登记家庭成员")
with history_tab:
    for move in detail.moves:  # 学校、村(社区)撤并: where the record was before
        st.info(md(f"{move.text}(依据:{move.reason})"))
    if detail.history:
        show_table(
            pd.DataFrame(
                detail.history,
            ).rename(
                columns={
                    "submitted": "提交日期",
                    "kind": "类型",
                    "state": "状态",
                    "effective": "异动日期",
                    "reason": "原因",
                    "decided": "审批日期",
                    "decision": "审批意见",
                }
            ),
            hide_index=True,
            width="stretch",
        )
    elif not detail.moves:
        st.info("没有学籍异动记录")
with edits_tab:
    show_table(
        pd.DataFrame(detail.edits, columns=["时间", "操作人", "操作", "说明"]),
        hide_index=True,
        width="stretch",
    )

if not actor.can(Action.STUDENT_EDIT) or detail.merged_into_id:
    st.stop()

with st.expander("提交学籍异动申请(转出、休学、复学、辍学、劝返复学、毕业、死亡)"):
    change_request_form(actor, [row], key="detail_change")

with st.expander("更正学籍信息(按学籍导入的同一规则校验,记入审计日志)"):
    with st.form("correct"):
        required_note()
        editable = [c for c in COLUMNS if c.key != "school_code"]
        columns = st.columns(3)
        changed = {}
        for i, column in enumerate(editable):
            current = detail.cells.get(column.key, "")
            limit = cell_max_chars(column.key)
            value = columns[i % 3].text_input(
                column.header,
                value=current,
                key=f"edit_{student_id}_{column.key}",
                max_chars=None if limit is None else max(limit, len(current)),
            )
            if value != detail.cells.get(column.key, ""):
                changed[column.key] = value
        reason = st.text_input(
            required("更正原因(如:依据户口簿更正出生日期)"), max_chars=student_record.REASON_CHARS
        )
        if st.form_submit_button("保存更正", type="primary"):
            with shown_as_error(), session_scope() as session:
                headers = student_record.correct_student(
                    session, actor=actor, student_id=student_id, changes=changed, reason=reason
                )
                st.success(f"已更正:{'、'.join(headers)}" if headers else "没有修改任何内容")

with st.expander("归档(已转出、毕业、辍学或死亡的学生)"):
    with st.form("archive"):
        required_note()
        reason = st.text_input(
            required("归档原因"),
            placeholder="如:已转入外省学校,学籍已转出",
            max_chars=max_length("student.archived_reason"),
        )
        if confirmed_submit(
            "归档", confirm="确认归档(归档后默认不在名册中显示,可在名册中勾选“包括已归档”查看)"
        ):
            with shown_as_error(), session_scope() as session:
                student_record.archive_student(session, actor=actor, student_id=student_id, reason=reason)
                st.success("已归档")

with st.expander("合并重复学籍"):
    st.caption("把一条重复的学籍(如无身份证号的临时学籍)并入本学籍;两条学籍都保留,异动记录合并显示。")
    duplicates = student_search(actor, key="merge_search", label="查找重复的学籍")
    duplicates = [d for d in duplicates if d.id != student_id]
    if duplicates:
        with st.form("merge"):
            required_note()
            duplicate = st.selectbox(
                "重复的学籍",
                duplicates,
                format_func=lambda r: f"#{r.id} {r.name} {r.birth_date} {r.class_name}",
                placeholder="请选择",
            )
            reason = st.text_input(required("合并原因"), max_chars=student_record.REASON_CHARS)
            if confirmed_submit("合并", confirm="确认合并(不可由本页撤销)"):
                with shown_as_error(), session_scope() as session:
                    student_record.merge_students(
                        session, actor=actor, keep_id=student_id, duplicate_id=duplicate.id, reason=reason
                    )
                    st.success("已合并")
