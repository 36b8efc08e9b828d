"""群机器人提醒 (placeholder: being built for issue 26)."""

import streamlit as st

st.title("群机器人提醒")
st.info("此页面正在建设中。")
