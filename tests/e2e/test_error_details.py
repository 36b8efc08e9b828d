"""What a user sees when something unexpected breaks, in a real browser: a Chinese message with a reference number,
and no traceback, exception type or server path; the traceback is in the server's log under that number."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import select, update

from tests.e2e.servers import ARTIFACTS, chromium, demo_database, sign_in, streamlit_server
from tests.factories import DEMO_SCHOOL
from xueji.db import session_scope
from xueji.models import School, SchoolClass

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def broken_app(tmp_path_factory):
    """The demo county with a class whose code no rule can read: the student list cannot draw it."""
    url = f"sqlite:///{tmp_path_factory.mktemp('errors') / 'app.db'}"
    engine = demo_database(url)
    with session_scope(engine) as session:
        school = session.scalar(select(School.id).where(School.code == DEMO_SCHOOL))
        first = session.scalar(
            select(SchoolClass.id).where(SchoolClass.school_id == school).order_by(SchoolClass.id)
        )
        session.execute(update(SchoolClass).where(SchoolClass.id == first).values(code="XXXXXXX"))
        session.commit()
    with streamlit_server(url) as (app, proc):
        yield app, Path(os.readlink(f"/proc/{proc.pid}/fd/1"))  # the server's output file


def test_an_unexpected_error_shows_a_reference_number_and_the_log_has_the_traceback(broken_app):
    url, log = broken_app
    with chromium() as browser:
        page = sign_in(browser, url, "demo_registrar")
        page.get_by_role("link", name="学生名册").first.click()
        message = page.get_by_text("系统出错,本次操作没有完成")
        message.wait_for(timeout=30_000)
        shown = page.evaluate("document.body.innerText")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "unexpected_error.png"), full_page=True)
        page.close()
    reference = re.search(r"错误编号 ([0-9A-F]{8})", shown)
    assert reference is not None
    for leak in ("Traceback", "ClassCodeError", "XXXXXXX", 'File "', ".py", "/work", "site-packages"):
        assert leak not in shown
    text = log.read_text()
    at = text.index(f"错误编号 {reference[1]}")
    assert "Traceback" in text[at:] and "ClassCodeError: 班号应为7位数字,实际为“XXXXXXX”" in text[at:]
