"""学期设置 (placeholder while it is built)."""

import streamlit as st

from xueji.auth import Action
from xueji.ui.session import require_actor

actor = require_actor(Action.SETUP_MANAGE)
st.title("学期设置")
st.info("此页面正在建设中。")
