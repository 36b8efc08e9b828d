"""Streamlit helpers: the only place with st.cache_*, shared widgets and session-state keys."""
