"""The signed-out page (the sign-in page itself is xueji.web's) and the forced password change: function pages,
not files in pages/."""

from __future__ import annotations

from html import escape
from urllib.parse import urlsplit

import streamlit as st

from xueji.db import session_scope
from xueji.services.system import accounts, web_sessions
from xueji.ui.errors import shown_as_error
from xueji.ui.session import NOTICE, TOKEN, current_user, sign_out
from xueji.ui.text import md
from xueji.web.signin import signin_url

SIGNED_OUT_NOTICE = "已退出登录(这个浏览器的所有标签页一起退出)。"
_BUTTON = (
    "display:inline-block;min-height:44px;line-height:44px;padding:0 1.5rem;border-radius:0.5rem;"
    "background:#ff4b4b;color:#fff;font-weight:600;text-decoration:none"
)


def signed_out_page() -> None:
    """What a tab shows once its session has ended (signed out here or in another tab, timed out): why, and the
    way back to the sign-in page, which brings the user back to this page afterwards."""
    st.title("学籍 · 控辍保学")
    reason = st.session_state.get(NOTICE)
    st.warning(md(SIGNED_OUT_NOTICE if reason == web_sessions.SIGNED_OUT else reason or "请先登录"))
    path = urlsplit(str(st.context.url or "")).path or "/"
    target = escape(signin_url(path), quote=True)
    # A plain link in the same tab (Streamlit's own links open a new one): static text, the path escaped.
    st.html(f'<a href="{target}" target="_self" style="{_BUTTON}">重新登录</a>')


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
                    others = accounts.change_password(
                        session,
                        actor=actor,
                        old_password=old,
                        new_password=new,
                        token=st.session_state.get(TOKEN),
                    )
            except accounts.AccountLocked as exc:  # too many wrong old passwords: this session ends too
                sign_out(str(exc))
                st.rerun()
            if user[1]:  # the forced first change is done: on to the user's own pages
                st.rerun()
            st.success("密码已修改" + (f",已退出该账号在其他 {others} 处的登录" if others else ""))
