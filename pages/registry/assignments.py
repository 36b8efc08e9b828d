"""教师包保 (registrar): make a teacher responsible for a class or for one student."""

import streamlit as st

from xueji.auth import Action
from xueji.db import session_scope
from xueji.services.registry import assignments
from xueji.ui.errors import shown_as_error
from xueji.ui.session import require_actor
from xueji.ui.text import md
from xueji.ui.widgets import student_search

actor = require_actor(Action.ASSIGNMENT_MANAGE)
st.title("教师包保")
st.caption(
    "教师包学生:班主任自动负责本班;也可把整班或个别学生分配给科任教师。教师只能看到自己负责的学生。"
    "新学年或换班主任时,在“设为班主任”中指定;上线清单统计没有班主任账号的班级。"
)

with session_scope() as session:
    teachers = assignments.teachers_in_scope(session, actor=actor)
    classes = assignments.classes_in_scope(session, actor=actor)

if not teachers:
    st.info("本校还没有教师账号,请联系系统管理员创建。")
    st.stop()

with st.form("head_teacher"):
    st.markdown("**设为班主任**")
    head = st.selectbox(
        "教师",
        teachers,
        format_func=lambda t: f"{t[1]}({t[2]})",
        key="head_teacher_pick",
        placeholder="请选择",
    )
    head_class = st.selectbox(
        "班级", classes, format_func=lambda c: c[1], key="head_class_pick", placeholder="请选择"
    )
    if st.form_submit_button("设为班主任", type="primary"):
        with shown_as_error(), session_scope() as session:
            replaced = assignments.set_head_teacher(
                session, actor=actor, teacher_id=head[0], class_id=head_class[0]
            )
            was = f"(原班主任 {md(replaced)})" if replaced else ""
            st.success(f"已将 {md(head[1])} 设为 {md(head_class[1])} 的班主任{was}")

with st.form("assign_class"):
    st.markdown("**分配整班**")
    teacher = st.selectbox("教师", teachers, format_func=lambda t: f"{t[1]}({t[2]})", placeholder="请选择")
    cls = st.selectbox("班级", classes, format_func=lambda c: c[1], placeholder="请选择")
    if st.form_submit_button("分配整班", type="primary"):
        with shown_as_error(), session_scope() as session:
            assignments.assign_class(session, actor=actor, teacher_id=teacher[0], class_id=cls[0])
            st.success(f"已将 {md(cls[1])} 分配给 {md(teacher[1])}")

st.subheader("分配个别学生")
found = student_search(actor, key="assign_search")
if found:
    with st.form("assign_student"):
        teacher_one = st.selectbox(
            "教师", teachers, format_func=lambda t: f"{t[1]}({t[2]})", key="t_one", placeholder="请选择"
        )
        student = st.selectbox(
            "学生",
            found,
            format_func=lambda r: r.label or r.name,
            placeholder="请选择",
        )
        if st.form_submit_button("分配该学生"):
            with shown_as_error(), session_scope() as session:
                assignments.assign_student(
                    session, actor=actor, teacher_id=teacher_one[0], student_id=student.id
                )
                st.success(f"已将 {md(student.name)} 分配给 {md(teacher_one[1])}")
