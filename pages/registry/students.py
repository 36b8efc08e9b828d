"""学生名册 / 我的学生: search and filter, page through, open a record, reveal (audited), export the filtered
list (masked by default, audited)."""

import streamlit as st

from xueji.auth import Action
from xueji.clock import today
from xueji.db import session_scope
from xueji.rules.vocab import GRADE_LABELS, Role, StudentStatus
from xueji.services.common.access import sees_full_identifiers
from xueji.services.registry import students
from xueji.services.registry.students import FLAG_LABELS, StudentFilter
from xueji.ui.errors import shown_as_error
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table
from xueji.ui.text import md
from xueji.ui.widgets import export_button, page_offset, pager, unmasked_choice

PAGE_SIZE = 50
actor = require_actor(Action.STUDENT_READ)
st.title("我的学生" if actor.role is Role.TEACHER else "学生名册")

search = st.text_input(
    "搜索", placeholder="姓名、拼音首字母(如 zxm)、身份证号后几位或7位班号", key="student_search"
)
with session_scope() as session:
    schools = students.school_choices(session, actor=actor)
left, middle, right = st.columns(3)
school = (
    schools[0]
    if len(schools) == 1
    else left.selectbox(
        "学校",
        [None, *schools],
        format_func=lambda s: "全部学校" if s is None else s[1],
        placeholder="请选择",
    )
)
grade = middle.selectbox(
    "年级",
    [None, *range(1, 10)],
    format_func=lambda g: "全部年级" if g is None else GRADE_LABELS[g],
    placeholder="请选择",
)
klass = None
if school is not None:
    with session_scope() as session:
        classes = students.class_choices(session, actor=actor, school_id=school[0], grade=grade)
    klass = right.selectbox(
        "班级",
        [None, *classes],
        format_func=lambda c: "全部班级" if c is None else c[1],
        placeholder="请选择",
    )
left, middle, right = st.columns([1, 2, 1])
status = left.selectbox(
    "学籍状态",
    [StudentStatus.ENROLLED, None, *list(StudentStatus)[1:]],
    format_func=lambda s: s.label if s else "全部",
    placeholder="请选择",
)
flags = middle.multiselect(
    "重点关注(任一)", list(FLAG_LABELS), format_func=FLAG_LABELS.__getitem__, placeholder="不限"
)
archived = right.checkbox("包括已归档", help="已离校并归档的学籍默认不显示")
filters = StudentFilter(
    search=search,
    school_id=school[0] if school else None,
    grade=grade,
    class_id=klass[0] if klass else None,
    status=status,
    flags=tuple(flags),
    archived=archived,
)

offset = page_offset("student_page", page_size=PAGE_SIZE, reset_when=filters)
with session_scope() as session:
    page = students.list_students(session, actor=actor, filters=filters, limit=PAGE_SIZE, offset=offset)
full = sees_full_identifiers(actor)
st.caption(f"共 {page.total} 名学生" + ("" if full else " · 身份证号和电话已脱敏"))
show_table(students.roster_frame(page.rows).fillna(""), hide_index=True, width="stretch")
pager(page.total, key="student_page", page_size=PAGE_SIZE)

if page.rows:
    pick, go, visit = st.columns([3, 1, 1], vertical_alignment="bottom")
    chosen = pick.selectbox(
        "选择学生",
        page.rows,
        format_func=lambda r: f"{r.label or r.name} · {r.school}",
        key="open_pick",
        placeholder="请选择",
    )
    if go.button("打开档案", key="open_record"):
        st.session_state["student_detail_id"] = chosen.id
        st.switch_page("pages/registry/student_detail.py")
    if actor.can(Action.VISIT_LOG) and visit.button("登记家访", key="open_visit"):
        st.session_state["visit_target"] = {"child_id": None, "student_id": chosen.id}
        st.switch_page("pages/cases/visits.py")

if actor.can(Action.STUDENT_REVEAL) and page.rows:
    with st.expander("查看完整身份证号和电话(需填写事由,将记入审计日志)"):
        with st.form("reveal"):
            choice = st.selectbox(
                "学生",
                page.rows,
                format_func=lambda r: f"{r.label or r.name} · {r.school}",
                placeholder="请选择",
            )
            reason = st.text_input("事由", placeholder="例如:核实辍学儿童身份")
            if st.form_submit_button("查看"):
                with shown_as_error(), session_scope() as session:
                    shown = students.reveal_identifiers(
                        session, actor=actor, student_id=choice.id, reason=reason
                    )
                    st.write(f"身份证号:{md(shown.id_number) or '(无)'}")
                    for name, relation, phone in shown.phones:
                        st.write(f"{md(relation)} {md(name)}:{md(phone) or '(无)'}")

st.divider()
# A file built for other filters is not offered any more: its download button would hand over another list.
if st.session_state.get("export_roster_filters") != filters:
    for stale in ("export_roster_True", "export_roster_False"):
        st.session_state.pop(stale, None)
    st.session_state["export_roster_filters"] = filters
unmasked, reason = unmasked_choice(actor, Action.STUDENT_EXPORT, key="export_roster")
export_button(
    f"导出筛选结果({page.total} 人,xlsx{',含完整身份证号和电话' if unmasked else ',已脱敏'})",
    key=f"export_roster_{unmasked}",
    file_name=f"学生名册_{today():%Y%m%d}.xlsx",
    build=lambda session: students.export_roster(
        session, actor=actor, filters=filters, unmasked=unmasked, reason=reason
    ),
)
