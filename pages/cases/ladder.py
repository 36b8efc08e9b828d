"""劝返复学 (placeholder: being built for issue 26)."""

import streamlit as st

st.title("劝返复学")
st.info("此页面正在建设中。")
