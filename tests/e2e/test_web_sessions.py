"""Sessions that survive: in Chromium against the real server (xueji_server.py), a sign-in lives in the database
behind an HttpOnly cookie. A reload, a new tab or any address of the app keeps the user signed in on the page they
asked for; signing out in one tab ends every tab; the sign-in page refuses what it should, in Chinese."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request

import pytest
from sqlalchemy import select

from tests.e2e.servers import ARTIFACTS, chromium, demo_database, streamlit_server
from xueji.db import session_scope
from xueji.demo.build import DEMO_PASSWORD
from xueji.models import WebSession

pytestmark = pytest.mark.e2e
WAIT = 30_000
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('sessions') / 'app.db'}"
    engine = demo_database(url)
    with streamlit_server(url) as (base, _):
        yield base, engine


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        return None


def _post(
    base: str, fields: dict[str, str], origin: str | None, fetch_site: str | None = None
) -> tuple[int, dict[str, str], str]:
    """POST the sign-in form as a browser would (or as another site would: origin), no redirect followed."""
    data = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(f"{base}/signin", data=data, method="POST")  # noqa: S310 (http://127.0.0.1)
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    if origin is not None:
        request.add_header("Origin", origin)
    if fetch_site is not None:
        request.add_header("Sec-Fetch-Site", fetch_site)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def test_the_sign_in_page_refuses_in_chinese_and_sets_a_guarded_cookie_only_on_success(server):
    base, engine = server
    account = {"username": "demo_county", "password": "wrong-password", "next": "/students"}
    status, headers, body = _post(base, account, origin=base)
    assert status == 200 and "账号或密码错误" in body and "Set-Cookie" not in headers
    assert "demo_teacher" in body  # the demo accounts, on a demo database only
    status, _, body = _post(base, {**account, "password": DEMO_PASSWORD}, origin="https://evil.example")
    assert status == 403 and "已拒绝" in body  # posted from another site
    status, _, _ = _post(base, {**account, "password": DEMO_PASSWORD}, base, fetch_site="cross-site")
    assert status == 403  # a browser's own word that the form was on another site
    status, headers, _ = _post(base, {**account, "password": DEMO_PASSWORD, "next": "//evil.example/"}, base)
    assert status == 303 and headers["location"] == "/"  # never on to another site
    cookie = headers["set-cookie"]
    assert cookie.startswith("xueji_session=")
    assert {"HttpOnly", "Secure", "SameSite=lax"} <= {part.strip() for part in cookie.split(";")}
    status, headers, _ = _post(base, {**account, "password": DEMO_PASSWORD}, base)
    assert headers["location"] == "/students"
    asked = urllib.request.Request(f"{base}/student_detail?child=5", headers={"Accept": "text/html"})  # noqa: S310
    try:
        urllib.request.build_opener(_NoRedirect).open(asked, timeout=30)
    except urllib.error.HTTPError as error:  # not signed in: on to sign in, and back to that child afterwards
        assert error.code == 303 and error.headers["location"] == "/signin?next=/student_detail%3Fchild%3D5"
    else:
        pytest.fail("a page load without a session was not sent to sign in")
    token = headers["set-cookie"].split(";")[0].split("=", 1)[1]
    with session_scope(engine) as session:
        stored = session.scalars(select(WebSession.token_hash)).all()
    assert token not in stored and len(stored) == 2  # only the token's hash is kept


def test_a_reload_a_new_tab_and_any_address_keep_the_user_signed_in_on_their_page(server):
    base, _ = server
    with chromium() as browser:
        context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
        page = context.new_page()
        page.goto(f"{base}/students")  # a page's address, not signed in: the sign-in page, then that page
        page.wait_for_url(re.compile(r"/signin\?next=/students$"), timeout=WAIT)
        page.get_by_label("账号").fill("demo_registrar")
        page.get_by_label("密码").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(f"{base}/students", timeout=WAIT)
        page.get_by_role("heading", name="学生名册").wait_for(timeout=WAIT)
        page.wait_for_timeout(1000)
        assert page.get_by_text("Page not found").count() == 0  # the server's first visitor: no stale notice
        cookie = next(c for c in context.cookies() if c["name"] == "xueji_session")
        assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax"
        assert page.evaluate("document.cookie").find("xueji_session") == -1  # no script can read it
        page.reload()
        page.get_by_role("heading", name="学生名册").wait_for(timeout=WAIT)
        assert page.url == f"{base}/students"
        other = context.new_page()
        other.goto(f"{base}/term_reports")
        other.get_by_role("heading", name="开学报到与流生").wait_for(timeout=WAIT)
        assert "signin" not in other.url and cookie["value"] not in other.url
        context.close()


def test_signing_out_in_one_tab_ends_every_tab_of_the_browser(server):
    base, _ = server
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        first = context.new_page()
        first.goto(base)
        first.get_by_label("账号").fill("demo_teacher")
        first.get_by_label("密码").fill(DEMO_PASSWORD)
        first.get_by_role("button", name="登录").click()
        first.get_by_role("button", name="退出登录").wait_for(timeout=WAIT)
        second = context.new_page()
        second.goto(f"{base}/visits")  # the teacher's landing page, at its own address like every other page
        second.get_by_role("heading", name="家访", exact=True).wait_for(timeout=WAIT)
        second.wait_for_timeout(1000)
        assert second.url == f"{base}/visits" and second.get_by_text("Page not found").count() == 0
        second.get_by_role("button", name="退出登录").click()
        second.get_by_text("已退出登录").wait_for(timeout=WAIT)
        # the first tab, untouched, clears itself at its next check of the session (every 30 s at most)
        first.get_by_role("link", name="重新登录").wait_for(timeout=60_000)
        assert first.get_by_role("button", name="退出登录").count() == 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        first.screenshot(path=str(ARTIFACTS / "signed_out_elsewhere.png"))
        first.get_by_role("link", name="重新登录").click()
        first.wait_for_url(re.compile(r"/signin\?next=/"), timeout=WAIT)
        first.goto(base)  # the cookie's session has ended: the app is not open to it
        first.wait_for_url(re.compile(r"/signin"), timeout=WAIT)
        context.close()
