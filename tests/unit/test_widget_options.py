"""Streamlit's own English is replaced by its options where it has them (issue 24): every selectbox and multiselect
on the pages names its placeholder (else "Choose an option" / "No options to select"), every date input its format
(else YYYY/MM/DD); and the style sheet's pieces hold."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from xueji.ui.style import REQUIRED_NOTE, required, stylesheet, upload_hint

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = {"selectbox": "placeholder", "multiselect": "placeholder", "date_input": "format"}
SOURCES = sorted([*ROOT.glob("pages/**/*.py"), *ROOT.glob("xueji/ui/*.py"), ROOT / "streamlit_app.py"])


def missing_options(source: str) -> list[str]:
    """The widget calls in source that leave Streamlit's English default in place: "line: widget"."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in OPTIONS:
            names = {k.arg for k in node.keywords}
            if OPTIONS[node.func.attr] not in names and None not in names:  # **kwargs: passed on by a wrapper
                found.append(f"{node.lineno}: {node.func.attr}")
    return found


def test_the_check_finds_a_widget_left_in_english():
    source = (
        'st.selectbox("学期", terms)\nst.date_input("日期", format="YYYY-MM-DD")\nst.multiselect("组", t)\n'
    )
    assert missing_options(source) == ["1: selectbox", "3: multiselect"]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_choice_and_date_on_the_pages_names_its_chinese_option(path):
    assert missing_options(path.read_text(encoding="utf-8")) == []


def test_a_required_label_is_marked_once():
    assert required("家访对象") == "家访对象 *"
    assert required(required("家访对象")) == "家访对象 *"
    assert "*" in REQUIRED_NOTE


def test_the_style_sheet_says_the_deployments_upload_limit_in_chinese():
    css = stylesheet(12)
    assert css.startswith("<style>") and css.endswith("</style>")
    assert f'--xueji-upload-hint: "{upload_hint(12)}"' in css
    assert "不超过 12 MB" in upload_hint(12)
    assert "@media (max-width: 640px)" in css and "min-height: 44px" in css
