"""The confirmation of a save on a phone: a toast (always inside the viewport) and a green block drawn first on
the page that stays in view while the page scrolls (style.css: .st-key-saved_note is sticky below the header),
so that wherever the 保存 button left the screen, the confirmation is on it."""

from __future__ import annotations

import streamlit as st


def remember_saved(key: str, message: str, **facts: object) -> None:
    """Keep the confirmation for the next run (the save ends with st.rerun)."""
    st.session_state[key] = {"message": message, **facts}


def show_saved(key: str) -> dict | None:
    """Draw the confirmation kept under key, once; return what was kept with it (e.g. the child saved)."""
    saved = st.session_state.pop(key, None)
    if saved:
        st.toast(saved["message"], icon=":material/check_circle:")
        with st.container(key="saved_note"):
            st.success(saved["message"], icon=":material/check_circle:")
    return saved
