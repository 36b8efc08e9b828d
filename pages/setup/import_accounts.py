"""账号导入 (placeholder while it is built)."""

import streamlit as st

from xueji.auth import Action
from xueji.ui.session import require_actor

actor = require_actor(Action.USER_MANAGE)
st.title("账号导入")
st.info("此页面正在建设中。")
