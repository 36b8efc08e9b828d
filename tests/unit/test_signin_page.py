"""The sign-in page: where it sends the browser afterwards, and that nothing typed or asked for becomes markup."""

import pytest

from xueji.web.signin import safe_next
from xueji.web.signin_page import render


@pytest.mark.parametrize(
    ("asked", "kept"),
    [
        ("/students", "/students"),
        ("/students?x=1", "/students?x=1"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/signin?next=/x", "/"),
        ("/a\nb", "/"),
        (None, "/"),
    ],
)
def test_after_signing_in_the_browser_goes_only_to_a_page_of_this_app(asked, kept):
    assert safe_next(asked) == kept


def test_what_the_page_echoes_is_escaped():
    page = render(next_path='/x"><script>', rules=["<b>规则</b>"], error="<img src=x>", username='a"b')
    assert "<script>" not in page and "<img" not in page and "<b>" not in page
    assert 'value="a&quot;b"' in page and "&lt;img src=x&gt;" in page


def test_demo_accounts_show_only_when_asked_for():
    assert "演示账号" not in render(next_path="/", rules=[])
    shown = render(next_path="/", rules=[], demo=("Xueji#2026", [("demo_teacher", "李老师", "教师")]))
    assert "演示账号" in shown and "demo_teacher" in shown and "演示数据" in shown
