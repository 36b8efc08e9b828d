"""账号管理 (administrator): create accounts, reset passwords, disable; every change audited."""

import pandas as pd
import streamlit as st

from xueji.auth import Action
from xueji.db import session_scope
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.system import accounts
from xueji.ui.errors import shown_as_error
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table

actor = require_actor(Action.USER_MANAGE)
st.title("账号管理")
st.caption("账号仅限本人使用。新账号和重置后的账号使用一次性密码,首次登录须修改。账号不删除,只停用。")

with session_scope() as session:
    users = accounts.list_users(session, actor=actor)
search = st.text_input("搜索账号或姓名", key="user_search")
shown = [u for u in users if search.strip() in u.username or search.strip() in u.display_name]
show_table(
    pd.DataFrame(
        [
            (
                u.username,
                u.display_name,
                u.role,
                u.scope,
                "是" if u.is_active else "否",
                "是" if u.locked else "",
                "是" if u.must_change_password else "",
                u.last_login_at,
            )
            for u in shown
        ],
        columns=["账号", "姓名", "角色", "范围", "启用", "锁定中", "须改密码", "最近登录"],
    ),
    hide_index=True,
    width="stretch",
)

ROLES = [r for r in Role if r is not Role.SYSTEM]
SCOPE_NAMES = {ScopeKind.COUNTY: "县区", ScopeKind.TOWNSHIP: "乡镇", ScopeKind.SCHOOL: "学校"}
with st.expander("新建账号"):
    with st.form("new_user", clear_on_submit=True):
        username = st.text_input("账号(英文字母、数字、下划线)")
        display_name = st.text_input("姓名")
        role = st.selectbox("角色", ROLES, format_func=lambda r: r.label)
        scope_kind = st.selectbox(
            "管辖范围",
            list(ScopeKind),
            format_func=lambda k: SCOPE_NAMES[k],
        )
        scope_code = st.text_input("范围代码(县区/乡镇12位行政区划代码,学校10位标识码)")
        if st.form_submit_button("创建", type="primary"):
            with shown_as_error(), session_scope() as session:
                user, password = accounts.create_user(
                    session,
                    actor=actor,
                    username=username,
                    display_name=display_name,
                    role=role,
                    scope_kind=scope_kind,
                    scope_code=scope_code,
                )
                st.success(
                    f"已创建账号 {user.username}。一次性密码:`{password}`(只显示这一次,请当面交给本人)"
                )

active = [u for u in users if u.is_active]
if active:
    with st.expander("重置密码 / 停用 / 启用"):
        chosen = st.selectbox(
            "账号",
            users,
            format_func=lambda u: f"{u.username} · {u.display_name} · {u.role}",
            key="user_pick",
        )
        c1, c2 = st.columns(2)
        if c1.button("重置密码", key="reset_pw"):
            with shown_as_error(), session_scope() as session:
                password = accounts.reset_password(session, actor=actor, user_id=chosen.id)
                st.success(f"{chosen.username} 的一次性密码:`{password}`(只显示这一次)")
        confirm = c2.checkbox("确认更改启用状态", key="confirm_active")
        if c2.button("停用" if chosen.is_active else "启用", key="toggle_active", disabled=not confirm):
            with shown_as_error(), session_scope() as session:
                accounts.set_active(session, actor=actor, user_id=chosen.id, active=not chosen.is_active)
                st.rerun()
        with st.form("role_scope"):
            st.write(f"更改 {chosen.username} 的角色和管辖范围")
            new_role = st.selectbox("新角色", ROLES, format_func=lambda r: r.label, key="new_role")
            new_kind = st.selectbox(
                "新管辖范围", list(ScopeKind), format_func=lambda k: SCOPE_NAMES[k], key="new_kind"
            )
            new_code = st.text_input("范围代码", key="new_code")
            if st.form_submit_button("保存角色和范围"):
                with shown_as_error(), session_scope() as session:
                    accounts.set_role_and_scope(
                        session,
                        actor=actor,
                        user_id=chosen.id,
                        role=new_role,
                        scope_kind=new_kind,
                        scope_code=new_code,
                    )
                    st.success("已更改,下次操作时生效")
