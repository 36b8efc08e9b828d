"""In a real browser over a real connection: each sign-in's audit entry records the browser channel and the
client's address, which behind a trusted proxy is the one the proxy forwarded, and never a header sent by a
peer that is not a trusted proxy (the browser adds the X-Forwarded-For that nginx would)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.e2e.servers import chromium, demo_database, sign_in_page, streamlit_server

pytestmark = pytest.mark.e2e
FORWARDED = "6.6.6.6, 203.0.113.5"  # what the client claimed, then what the proxy appended


def _sign_in(browser, url: str, username: str, headers: dict[str, str]) -> None:
    context = browser.new_context(extra_http_headers=headers, locale="zh-CN")
    page = context.new_page()
    sign_in_page(page, url, username)
    page.get_by_role("button", name="退出登录").wait_for(timeout=30_000)
    context.close()


def _logins(engine) -> dict[str, tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT username, channel, client_addr FROM audit_log WHERE action = 'login' ORDER BY id")
        ).all()
    return {username: (channel, address) for username, channel, address in rows}


def test_sign_ins_record_the_browser_and_the_address_a_trusted_proxy_forwarded(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = demo_database(url)
    with chromium() as browser:
        # 127.0.0.1 is a trusted proxy by default: nginx on the same machine
        with streamlit_server(url) as (base, _):
            _sign_in(browser, base, "demo_teacher", {"X-Forwarded-For": FORWARDED})
            _sign_in(browser, base, "demo_registrar", {})
        # Loopback not trusted: neither by xueji nor by the server's own proxy-header handling (uvicorn believes
        # X-Forwarded-For from FORWARDED_ALLOW_IPS, 127.0.0.1 and ::1 unless told otherwise).
        untrusted = {"XUEJI_TRUSTED_PROXIES": "10.9.9.9", "FORWARDED_ALLOW_IPS": "10.9.9.9"}
        with streamlit_server(url, **untrusted) as (base, _):
            _sign_in(browser, base, "demo_county", {"X-Forwarded-For": FORWARDED})
    logins = _logins(engine)
    assert logins["demo_teacher"] == ("web", "203.0.113.5")  # the proxy's word, not the client's 6.6.6.6
    assert logins["demo_registrar"] == ("web", "127.0.0.1")  # no proxy header: the peer itself
    assert logins["demo_county"] == ("web", "127.0.0.1")  # the header of an untrusted peer is ignored
