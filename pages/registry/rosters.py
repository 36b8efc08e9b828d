"""名册打印: 新生名册, 在校生名册, 毕业生名册 of a school, one sheet per class; masked per role on screen; the export
masked unless a role that may asks for full numbers with a reason; audited."""

import streamlit as st

from xueji.auth import Action
from xueji.clock import today
from xueji.db import session_scope
from xueji.services.common.access import sees_full_identifiers
from xueji.services.registry import rosters
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table
from xueji.ui.text import md
from xueji.ui.widgets import export_button, unmasked_choice

actor = require_actor(Action.STUDENT_EXPORT)
st.title("名册打印")

with session_scope() as session:
    schools = rosters.roster_schools(session, actor=actor)
if not schools:
    st.info("您的管辖范围内没有学校。")
    st.stop()
school = st.selectbox(
    "学校", schools, format_func=lambda s: f"{s[1]}({s[0]})", key="roster_school", placeholder="请选择"
)
kind = st.radio("名册", list(rosters.RosterKind), index=1, horizontal=True, key="roster_kind")
st.caption(kind.note)
with session_scope() as session:
    classes = rosters.roster_classes(session, actor=actor, school_code=school[0])
choice = st.selectbox(
    "班级",
    [None, *classes],
    format_func=lambda c: "全部班级(每班一个工作表)" if c is None else c[1],
    key="roster_class",
    placeholder="请选择",
)
class_code = choice[0] if choice else None

with session_scope() as session:
    sheets = rosters.roster_sheets(
        session, actor=actor, school_code=school[0], kind=kind, class_code=class_code
    )
total = sum(len(frame) for frame in sheets.values())
st.caption(
    f"共 {total} 人,{len(sheets)} 个班" + ("" if sees_full_identifiers(actor) else " · 身份证号和电话已脱敏")
)
for name, frame in list(sheets.items())[:3]:
    st.markdown(f"**{md(name)}**({len(frame)} 人)")
    show_table(frame, hide_index=True, width="stretch")
if len(sheets) > 3:
    st.caption(f"其余 {len(sheets) - 3} 个班见导出的文件。")


st.divider()
unmasked, reason = unmasked_choice(actor, Action.STUDENT_EXPORT, key="roster_export")
export_button(
    f"导出{kind.value} (xlsx{',含完整身份证号和电话' if unmasked else ',已脱敏'})",
    key=f"roster_{school[0]}_{kind.name}_{class_code}_{unmasked}",
    file_name=f"{school[1]}_{kind.value}_{today():%Y%m%d}.xlsx",
    build=lambda session: rosters.export_roster(
        session,
        actor=actor,
        school_code=school[0],
        kind=kind,
        class_code=class_code,
        unmasked=unmasked,
        reason=reason,
    ),
)
