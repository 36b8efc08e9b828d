"""AppTest fixtures: the real app over a temporary SQLite demo database, signed in as the sign-in page signs in."""

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import APP, demo_into, migrated_into
from xueji.config import get_settings
from xueji.demo.build import DEMO_PASSWORD
from xueji.ui.session import TOKEN
from xueji.web.signin import open_signed_session


@pytest.fixture
def app_sqlite(tmp_path, monkeypatch):
    """The app pointed at a new, migrated SQLite file, today pinned to the demo's."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("XUEJI_DATABASE_URL", url)
    monkeypatch.setenv("XUEJI_TODAY", "2026-11-23")
    get_settings.cache_clear()
    yield migrated_into(url)
    get_settings.cache_clear()


@pytest.fixture
def demo_sqlite(app_sqlite):
    return demo_into(app_sqlite, app_sqlite.url.render_as_string(hide_password=False))


def signed_session(username: str, password: str = DEMO_PASSWORD) -> str:
    """Sign in as the sign-in page does (checked, audited, a server-side session opened); return the token its
    cookie would carry."""
    opened = open_signed_session(username, password, None)
    assert not isinstance(opened, str), opened
    return opened[0]


def sign_in(username: str, password: str = DEMO_PASSWORD, *, timeout: float = 30) -> AppTest:
    """The app as a browser holding this user's sign-in cookie sees it (AppTest cannot send cookies: the token
    goes where the app keeps the cookie's token once read)."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.session_state[TOKEN] = signed_session(username, password)
    at.run()
    assert not at.exception
    return at
