"""Chinese in place of Streamlit's own English, phone-sized tap targets, and the mark of a required field.

Streamlit's options come first and are given at each widget: selectbox placeholder="请选择", multiselect
placeholder="请选择(可多选)", date_input format="YYYY-MM-DD" (tests/unit/test_widget_options.py holds every page to
it). What has no option (the uploader's texts, the form hints, empty dates' yyyy/mm/dd, an empty table's "empty",
"No results") is replaced by style.css, injected on every run by apply_style: a style-only st.html goes to the
page's event container and takes no room; inline styles are allowed by the CSP, scripts are not needed."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import streamlit as st

from xueji.config import get_settings

CSS = Path(__file__).with_name("style.css")
REQUIRED_MARK = " *"
REQUIRED_NOTE = "带 * 为必填"


def required(label: str) -> str:
    """The label of a field the form cannot be saved without: the label and " *" (explained by required_note)."""
    return label if label.endswith(REQUIRED_MARK) else f"{label}{REQUIRED_MARK}"


def required_note() -> None:
    """The caption under a form's title saying what the * means."""
    st.caption(REQUIRED_NOTE)


def upload_hint(max_file_mb: int) -> str:
    """What the upload box says under its button, in place of "25MB per file • XLSX"."""
    return f"仅限 xlsx 文件,不超过 {max_file_mb} MB"


@cache
def stylesheet(max_file_mb: int) -> str:
    """The <style> element: style.css and the upload limit of this deployment."""
    hint = json.dumps(upload_hint(max_file_mb), ensure_ascii=False)  # a CSS string: "…"
    return f"<style>:root {{ --xueji-upload-hint: {hint}; }}\n{CSS.read_text(encoding='utf-8')}</style>"


def apply_style() -> None:
    """Inject the stylesheet into this run's page (call once per run, after st.set_page_config)."""
    st.html(stylesheet(get_settings().uploads.max_file_mb))
