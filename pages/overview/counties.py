"""各县区对比: a city's or province's officer compares their counties (placeholder until issue 27 lands)."""

import streamlit as st

st.title("各县区对比")
st.info("建设中")
