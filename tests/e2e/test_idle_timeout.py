"""An unattended screen clears itself: once the idle time has passed, the roster leaves the screen and the sign-in
page is offered, with nobody touching the browser (a fragment re-run on a timer asks whether the session lives)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from tests.e2e.servers import ARTIFACTS, chromium, demo_database, sign_in, streamlit_server

pytestmark = pytest.mark.e2e


def test_the_roster_leaves_an_unattended_screen_when_the_idle_time_passes(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = demo_database(url)
    with streamlit_server(url, XUEJI_IDLE_TIMEOUT_MINUTES="1") as (base, _), chromium() as browser:
        page = sign_in(browser, base, "demo_registrar")
        page.get_by_role("link", name="学生名册").click()
        page.get_by_role("heading", name="学生名册").wait_for(timeout=30_000)
        roster = page.locator('[data-testid="stDataFrame"]').first
        roster.wait_for(timeout=30_000)
        shown_at = time.monotonic()
        # from here on nobody touches the page
        page.get_by_text("超过 1 分钟未操作,已自动退出").wait_for(timeout=120_000)
        cleared_after = time.monotonic() - shown_at
        page.get_by_role("link", name="重新登录").wait_for(timeout=10_000)
        page.get_by_role("button", name="退出登录").wait_for(state="detached", timeout=10_000)
        assert page.locator('[data-testid="stDataFrame"]').count() == 0
        assert page.get_by_role("heading", name="学生名册").count() == 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "idle_timeout_cleared.png"), full_page=True)
        page.close()
    print(
        f"\nscreen cleared {cleared_after:.0f} s after the roster was shown (idle limit 60 s, check every 10 s)"
    )
    assert 50 <= cleared_after <= 90
    with engine.connect() as conn:
        detail = conn.execute(
            text("SELECT detail FROM audit_log WHERE action = 'logout' AND username = 'demo_registrar'")
        ).scalar_one()
    assert "未操作" in detail
