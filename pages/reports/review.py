"""月报报送与季报 (placeholder: being built for issue 26)."""

import streamlit as st

st.title("月报报送与季报")
st.info("此页面正在建设中。")
