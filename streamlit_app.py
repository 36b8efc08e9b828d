"""xueji router: page config, the pages this user may see, the shared sidebar."""

import streamlit as st

from xueji.config import get_settings
from xueji.ui.health import database_problem

st.set_page_config(page_title="学籍 · 控辍保学", page_icon="🏫", layout="wide")

problem = database_problem(get_settings().database_url)
if problem:
    st.error(problem)
    st.stop()

pages = {
    "概况": [st.Page("pages/home.py", title="县域概况", icon="🏠", default=True)],
}
nav = st.navigation(pages)
with st.sidebar:
    st.caption("学籍 · 控辍保学个案管理")
nav.run()
