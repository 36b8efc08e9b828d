"""AppTest fixtures: the real app over a temporary SQLite demo database, signed in through the form."""

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import APP, demo_into
from xueji.config import get_settings
from xueji.db import make_engine, migrate
from xueji.demo.build import DEMO_PASSWORD


@pytest.fixture
def app_sqlite(tmp_path, monkeypatch):
    """The app pointed at a new, migrated SQLite file, today pinned to the demo's."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("XUEJI_DATABASE_URL", url)
    monkeypatch.setenv("XUEJI_TODAY", "2026-11-23")
    get_settings.cache_clear()
    engine = make_engine(url)
    migrate(engine)
    yield engine
    get_settings.cache_clear()


@pytest.fixture
def demo_sqlite(app_sqlite, tmp_path_factory):
    return demo_into(app_sqlite, app_sqlite.url.render_as_string(hide_password=False), tmp_path_factory)


def sign_in(username: str, password: str = DEMO_PASSWORD) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    at.button[0].click().run()
    assert not at.exception
    return at
