"""学校月报 (placeholder: being built for issue 26)."""

import streamlit as st

st.title("学校月报")
st.info("此页面正在建设中。")
