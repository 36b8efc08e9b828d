"""xueji router: page config, the pages this user's role may see, the shared sidebar."""

import streamlit as st

from xueji.config import get_settings
from xueji.ui.audit_health import audit_problem
from xueji.ui.demo_mark import show_demo_mark
from xueji.ui.errors import unexpected_errors
from xueji.ui.health import database_problem
from xueji.ui.landing import landing_page
from xueji.ui.login import change_password_page, signed_out_page
from xueji.ui.navigation import elsewhere, pages_for, title_for
from xueji.ui.origin import bind as bind_origin
from xueji.ui.session import approvals_waiting, current_user, sign_out, watch_deadlines
from xueji.ui.style import apply_style
from xueji.ui.supervision import looking_at, sidebar_picker
from xueji.ui.text import md

st.set_page_config(page_title="学籍 · 控辍保学", page_icon="🏫", layout="wide")
apply_style()  # Chinese for Streamlit's own English, 44 px tap targets on a phone (ui/style.css)

bind_origin()  # audit entries of this run record the browser channel and the client's address

problem = database_problem(get_settings().database_url) or audit_problem(get_settings().database_url)
if problem:
    st.error(problem)
    st.stop()
show_demo_mark()  # on a demo database only: a banner on every page and in the sidebar

user = current_user()
if user is None:
    nav = st.navigation(
        [st.Page(signed_out_page, title="登录", icon=":material/login:", url_path="signed-out")]
    )
elif user[1]:
    nav = st.navigation(
        [st.Page(change_password_page, title="修改密码", icon=":material/lock:", url_path="first-password")]
    )
else:
    actor = user[0]
    specs = pages_for(actor)
    sections: dict[str, list] = {}
    for spec in specs:
        sections.setdefault(spec.section, []).append(
            st.Page(spec.path, title=title_for(spec, actor), icon=spec.icon, url_path=spec.url_path)
        )
    password = st.Page(change_password_page, title="修改密码", icon=":material/lock:", url_path="password")
    # the set-up checklist while the county is not ready, else the menu's first
    landing = landing_page(actor) or next((spec.path for spec in specs), None) or password

    def start() -> None:
        """The app's address (/) opens the user's first page at that page's own address, so that every page,
        the landing one too, keeps one address that reloads and bookmarks (a default page has only /)."""
        st.switch_page(landing)

    sections.setdefault("账号", []).extend(
        [password, st.Page(start, title="首页", default=True, visibility="hidden"), *elsewhere(specs)]
    )
    nav = st.navigation(sections, expanded=True)  # every page the role may open, none behind "View more"
    with st.sidebar:
        st.caption(f"当前用户:{md(actor.username)}({actor.role.label})")
        sidebar_picker(actor)  # a city's or province's officer: which county they are looking at
        if waiting := approvals_waiting(actor):
            st.warning(f"有 {waiting} 条账号申请待您审批(系统 › 账号审批)")
        if st.button("退出登录", key="logout"):
            sign_out()
            st.rerun()
    if county := looking_at(actor):  # on a phone the sidebar is folded away: say it above every page too
        st.caption(f"正在查看:{md(county)}(只读,在侧边栏“查看县区”中更换)")
if user is not None:
    with st.sidebar:
        watch_deadlines()  # an unattended screen clears itself when the session ends
with unexpected_errors():
    nav.run()
