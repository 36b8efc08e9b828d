"""上线清单 (placeholder while it is built)."""

import streamlit as st

from xueji.auth import Action
from xueji.ui.session import require_actor

actor = require_actor(Action.SETUP_READ)
st.title("上线清单")
st.info("此页面正在建设中。")
