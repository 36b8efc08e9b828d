"""区划与学校 (administrator): the county's townships, villages and schools with their state and counts, the
export, and the forms to add, rename, and close or merge them (a preview says what moves before it is done)."""

import streamlit as st

from xueji.auth import Action
from xueji.db import session_scope
from xueji.rules.text_limits import max_length
from xueji.rules.vocab import SchoolKind, ScopeKind
from xueji.services.setup import division_tables, divisions, school_merge
from xueji.ui.division_forms import change_section, rename_form, rerun_if_said, said, show_said
from xueji.ui.errors import shown_as_error
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table
from xueji.ui.text import md
from xueji.ui.widgets import export_button

actor = require_actor(Action.SETUP_MANAGE)
st.title("区划与学校")
st.caption(
    "行政区划代码用国家统计局的统计用区划代码(12位),学校用全国学籍系统的学校标识码(10位)。"
    "撤并时,学籍、班级、未结个案随之转到接收单位,每份学籍上留下转移记录;原单位保留为“已撤并”,"
    "其历史(异动、报到、核查、排查)不变。任何记录都不会被删除,每次操作都记入审计日志。"
)

search = st.text_input("查找(代码或名称)", key="divisions_search")
export_button(
    "导出三张表",
    key="divisions_export",
    file_name="区划与学校.xlsx",
    build=lambda session: division_tables.export_divisions(session, actor=actor),
)
with session_scope() as session:
    options = division_tables.choices(session, actor=actor)
    tables = {
        "townships": division_tables.township_table(session, actor=actor, search=search),
        "villages": division_tables.village_table(session, actor=actor, search=search),
        "schools": division_tables.school_table(session, actor=actor, search=search),
    }

townships_tab, villages_tab, schools_tab = st.tabs(["乡镇", "村社区", "学校"])

with townships_tab:
    show_table(tables["townships"], hide_index=True, width="stretch")
    with st.form("township_add"):
        st.subheader("新增乡镇")
        left, right = st.columns(2)
        code = left.text_input("乡镇行政区划代码(12位)", max_chars=12)
        name = right.text_input("乡镇名称", max_chars=max_length("township.name"))
        if st.form_submit_button("新增乡镇"):
            with shown_as_error(), session_scope() as session:
                added = divisions.add_township(session, actor=actor, code=code, name=name)
                said("township_add", f"已新增乡镇 {added.code} {md(added.name)}")
            rerun_if_said("township_add")
        show_said("township_add")
    rename_form(
        "乡镇",
        options["townships"],
        key="township",
        max_chars=max_length("township.name"),
        rename=lambda s, i, n: divisions.rename_township(s, actor=actor, township_id=i, name=n),
    )
    change_section(
        actor,
        "乡镇",
        options["townships"],
        key="township",
        scope_kind=ScopeKind.TOWNSHIP,
        preview=lambda s, i, into: divisions.preview_township_change(
            s, actor=actor, township_id=i, into_id=into
        ),
        change=lambda s, i, into, on, why: divisions.change_township(
            s, actor=actor, township_id=i, into_id=into, on=on, reason=why
        ),
    )

with villages_tab:
    show_table(tables["villages"], hide_index=True, width="stretch")
    with st.form("village_add"):
        st.subheader("新增村(社区)")
        st.caption("所属乡镇由代码确定:前9位加 000 即乡镇代码(该乡镇已撤并的,归入接收它的乡镇)。")
        left, right = st.columns(2)
        code = left.text_input("村(社区)行政区划代码(12位)", max_chars=12)
        name = right.text_input("村(社区)名称", max_chars=max_length("village.name"))
        if st.form_submit_button("新增村(社区)"):
            with shown_as_error(), session_scope() as session:
                added_village = divisions.add_village(session, actor=actor, code=code, name=name)
                said("village_add", f"已新增村(社区){added_village.code} {md(added_village.name)}")
            rerun_if_said("village_add")
        show_said("village_add")
    rename_form(
        "村(社区)",
        options["villages"],
        key="village",
        max_chars=max_length("village.name"),
        rename=lambda s, i, n: divisions.rename_village(s, actor=actor, village_id=i, name=n),
    )
    change_section(
        actor,
        "村(社区)",
        options["villages"],
        key="village",
        preview=lambda s, i, into: divisions.preview_village_change(
            s, actor=actor, village_id=i, into_id=into
        ),
        change=lambda s, i, into, on, why: divisions.change_village(
            s, actor=actor, village_id=i, into_id=into, on=on, reason=why
        ),
    )

with schools_tab:
    show_table(tables["schools"], hide_index=True, width="stretch")
    open_townships = [t for t in options["townships"] if t.in_use]
    kinds = list(SchoolKind)
    if open_townships:
        with st.form("school_add"):
            st.subheader("新增学校")
            left, middle, right = st.columns(3)
            code = left.text_input("学校标识码(10位)", max_chars=10)
            name = middle.text_input("学校名称", max_chars=max_length("school.name"))
            kind = right.selectbox("办学类型", kinds, format_func=lambda k: k.label, placeholder="请选择")
            township = st.selectbox(
                "所在乡镇", open_townships, format_func=lambda t: t.label, placeholder="请选择"
            )
            if st.form_submit_button("新增学校"):
                with shown_as_error(), session_scope() as session:
                    added_school = school_merge.add_school(
                        session, actor=actor, code=code, name=name, kind=kind, township_id=township.id
                    )
                    said("school_add", f"已新增学校 {added_school.code} {md(added_school.name)}")
                rerun_if_said("school_add")
            show_said("school_add")
    open_schools = [s for s in options["schools"] if s.in_use]
    if open_schools:
        with st.form("school_update"):
            st.subheader("学校改名或改办学类型")
            chosen = st.selectbox("学校", open_schools, format_func=lambda s: s.label, placeholder="请选择")
            left, right = st.columns(2)
            name = left.text_input("名称(不改请留空)", max_chars=max_length("school.name"))
            kind = right.selectbox(
                "办学类型(不改请保持原值)",
                [None, *kinds],
                format_func=lambda k: k.label if k else "不改",
                placeholder="请选择",
            )
            if st.form_submit_button("保存"):
                with shown_as_error(), session_scope() as session:
                    changed = school_merge.update_school(
                        session, actor=actor, school_id=chosen.id, name=name or chosen.name, kind=kind
                    )
                    said("school_update", f"已修改:{'、'.join(changed)}" if changed else "没有修改任何内容")
                rerun_if_said("school_update")
            show_said("school_update")
    change_section(
        actor,
        "学校",
        options["schools"],
        key="school",
        scope_kind=ScopeKind.SCHOOL,
        preview=lambda s, i, into: school_merge.preview_school_change(
            s, actor=actor, school_id=i, into_id=into
        ),
        change=lambda s, i, into, on, why: school_merge.change_school(
            s, actor=actor, school_id=i, into_id=into, on=on, reason=why
        ),
    )
