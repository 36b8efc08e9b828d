"""The confirmation of a save on a phone: a toast (always inside the viewport) and a green block drawn first on
the page that stays in view while the page scrolls (style.css: .st-key-saved_note is sticky below the header),
so that wherever the 保存 button left the screen, the confirmation is on it."""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st


def remember_saved(key: str, message: str, *, clear: Iterable[str] = (), **facts: object) -> None:
    """Keep the confirmation for the next run (the save ends with st.rerun); clear names the text fields and
    tick boxes of the form just saved, emptied when the confirmation is drawn (before the form is drawn again),
    so that the same words are not saved twice by a second tap."""
    st.session_state[key] = {"message": message, "clear": tuple(clear), **facts}


def empty_fields(keys: Iterable[str]) -> None:
    """Empty these text fields and untick these boxes; call it before they are drawn in this run (or from a
    widget's on_change). Dates and choices keep their value."""
    for name in keys:
        value = st.session_state.get(name)
        if isinstance(value, bool):
            st.session_state[name] = False
        elif isinstance(value, str):
            st.session_state[name] = ""


def show_saved(key: str) -> dict | None:
    """Draw the confirmation kept under key, once, emptying the saved form's fields (remember_saved's clear);
    return what was kept with it (e.g. the child saved)."""
    saved = st.session_state.pop(key, None)
    if saved:
        empty_fields(saved.get("clear", ()))
        st.toast(saved["message"], icon=":material/check_circle:")
        with st.container(key="saved_note"):
            st.success(saved["message"], icon=":material/check_circle:")
    return saved
