"""The 演示数据 mark: on a demo database, a coloured banner at the top of every page and of the sidebar, so that
nobody takes the demo county for a real one or types a real child into it. Whether the database holds the demo is
read once per browser session (and again after signing out, which clears the session)."""

from __future__ import annotations

import streamlit as st

from xueji.config import get_settings
from xueji.db import session_scope
from xueji.services.system import deployment

DEMO_STATE = "demo_database"  # session state: (database URL, holds the demo)
MARK = "演示数据 · 虚构的县区和学生,不要录入真实信息"
# Static text in st.html (never user data): an element the pages do not use, so each page's own first
# markdown, caption or warning stays its own.
_STYLE = (
    "background:#fff1c2;color:#7a4100;border:1px solid #e8a317;border-radius:0.5rem;"
    "padding:0.35rem 0.75rem;font-weight:600;line-height:1.4"
)


def is_demo() -> bool:
    """Whether the app's database holds the demo, asked once per session."""
    url = get_settings().database_url
    known = st.session_state.get(DEMO_STATE)
    if known is None or known[0] != url:
        with session_scope() as session:
            known = (url, deployment.holds_demo(session))
        st.session_state[DEMO_STATE] = known
    return bool(known[1])


def show_demo_mark() -> None:
    """The banner in the main area and in the sidebar, on a demo database only."""
    if not is_demo():
        return
    banner = f'<div class="xueji-demo-mark" role="note" style="{_STYLE}">{MARK}</div>'
    st.html(banner)
    st.sidebar.html(banner)
