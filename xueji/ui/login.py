"""The sign-in page and the forced password change: function pages, not files in pages/."""

from __future__ import annotations

import streamlit as st

from xueji.config import get_settings
from xueji.db import session_scope
from xueji.demo.build import DEMO_ACCOUNTS, DEMO_PASSWORD
from xueji.services.system import accounts
from xueji.ui.demo_mark import is_demo
from xueji.ui.errors import shown_as_error
from xueji.ui.session import NOTICE, current_user, sign_in, sign_out


def login_page() -> None:
    settings = get_settings()
    st.title("学籍 · 控辍保学")
    st.caption("账号仅限本人使用,不得转借;系统记录每一次操作。")
    st.caption(
        f"连续输错密码 {settings.max_failed_logins} 次,账号锁定 {settings.lockout_minutes} 分钟。"
        f"一次性密码 {settings.one_time_password_hours} 小时内有效;忘记密码或一次性密码过期,请联系系统管理员。"
    )
    if notice := st.session_state.get(NOTICE):
        st.warning(notice)
    with st.form("login"):
        username = st.text_input("账号", key="login_username")
        password = st.text_input("密码", type="password", key="login_password")
        submitted = st.form_submit_button("登录", type="primary")
    if submitted:
        error = sign_in(username, password)
        if error:
            st.error(error)
        else:
            st.rerun()
    if is_demo():  # asked once per session (ui.demo_mark), as the banner is
        with st.expander("演示账号(仅演示数据库显示)", expanded=True):
            st.write(f"所有演示账号的密码:`{DEMO_PASSWORD}`")
            st.table(
                {
                    "账号": [a[0] for a in DEMO_ACCOUNTS],
                    "姓名": [a[1] for a in DEMO_ACCOUNTS],
                    "角色": [a[2].label for a in DEMO_ACCOUNTS],
                }
            )


def change_password_page() -> None:
    user = current_user()
    if user is None:
        st.stop()
    actor = user[0]
    st.title("修改密码")
    st.caption(
        "密码至少 8 位,包含小写字母、大写字母、数字、符号中的至少三类,不能是常见密码或演示密码。"
        "新账号首次登录须修改密码。原密码连续输错的次数与登录时合并计算,达到上限即锁定账号并退出。"
    )
    with st.form("change_password", clear_on_submit=True):
        old = st.text_input("原密码", type="password", key="pw_old")
        new = st.text_input("新密码", type="password", key="pw_new")
        again = st.text_input("再次输入新密码", type="password", key="pw_again")
        submitted = st.form_submit_button("保存", type="primary")
    if submitted:
        if new != again:
            st.error("两次输入的新密码不一致")
            return
        with shown_as_error():
            try:
                with session_scope() as session:
                    accounts.change_password(session, actor=actor, old_password=old, new_password=new)
            except accounts.AccountLocked as exc:  # too many wrong old passwords: this session ends too
                sign_out(str(exc))
                st.rerun()
            if user[1]:  # the forced first change is done: on to the user's own pages
                st.rerun()
            st.success("密码已修改")
