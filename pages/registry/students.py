"""学生名册 / 我的学生: search, page, reveal (audited), export (masked by default, audited)."""

import streamlit as st

from xueji.auth import Action
from xueji.clock import today
from xueji.db import session_scope
from xueji.rules.vocab import Role
from xueji.services import students
from xueji.services.access import sees_full_identifiers
from xueji.ui.errors import shown_as_error
from xueji.ui.session import require_actor
from xueji.ui.widgets import export_button, pager

actor = require_actor(Action.STUDENT_READ)
st.title("我的学生" if actor.role is Role.TEACHER else "学生名册")

search = st.text_input("搜索", placeholder="姓名、身份证号后几位或7位班号", key="student_search")
with session_scope() as session:
    total = students.list_students(session, actor=actor, search=search, limit=0).total
limit, offset = pager(total, key="student_page")
with session_scope() as session:
    page = students.list_students(session, actor=actor, search=search, limit=limit, offset=offset)

full = sees_full_identifiers(actor)
st.caption(f"共 {page.total} 名学生" + ("" if full else " · 身份证号和电话已脱敏"))
table = students.roster_frame(page.rows)
st.dataframe(table, hide_index=True, width="stretch")

if actor.can(Action.STUDENT_REVEAL) and page.rows:
    with st.expander("查看完整身份证号和电话(需填写事由,将记入审计日志)"):
        with st.form("reveal"):
            choice = st.selectbox(
                "学生", page.rows, format_func=lambda r: f"{r.name} · {r.school} {r.class_name}"
            )
            reason = st.text_input("事由", placeholder="例如:核实辍学儿童身份")
            if st.form_submit_button("查看"):
                with shown_as_error(), session_scope() as session:
                    shown = students.reveal_identifiers(
                        session, actor=actor, student_id=choice.id, reason=reason
                    )
                    st.write(f"身份证号:{shown.id_number or '(无)'}")
                    for name, relation, phone in shown.phones:
                        st.write(f"{relation} {name}:{phone or '(无)'}")

st.divider()
unmasked = False
if full or actor.can(Action.STUDENT_REVEAL):
    unmasked = st.checkbox("导出完整身份证号和电话(默认脱敏)", key="export_unmasked")


def _export() -> bytes:
    with session_scope() as session:
        return students.export_roster(session, actor=actor, search=search, unmasked=unmasked)


export_button(
    "导出名册 (xlsx)", key="export_roster", file_name=f"学生名册_{today():%Y%m%d}.xlsx", build=_export
)
