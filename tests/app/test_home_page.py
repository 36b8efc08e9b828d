"""The app over a temporary demo database: the home page shows the database's counts."""

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from tests.conftest import APP, SMALL_DEMO
from xueji.db import make_engine, migrate, session_scope
from xueji.demo import load_demo


@pytest.fixture
def demo_sqlite(tmp_path, monkeypatch):
    from xueji.config import get_settings

    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("XUEJI_DATABASE_URL", url)
    monkeypatch.setenv("XUEJI_TODAY", "2026-11-23")
    get_settings.cache_clear()
    engine = make_engine(url)
    migrate(engine)
    with session_scope(engine) as session:
        load_demo(session, SMALL_DEMO)
    yield engine
    get_settings.cache_clear()


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_home_page_shows_the_county_counts_from_the_database(demo_sqlite):
    with session_scope(demo_sqlite) as session:
        enrolled = session.execute(
            text("SELECT count(*) FROM student WHERE status = 'enrolled'")
        ).scalar_one()
        schools = session.execute(text("SELECT count(*) FROM school")).scalar_one()
        left_behind = session.execute(
            text("SELECT count(*) FROM student WHERE status = 'enrolled' AND left_behind")
        ).scalar_one()
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert at.title[0].value == "县域概况"
    assert _metric(at, "在读学生") == f"{enrolled:,}"
    assert _metric(at, "学校") == str(schools)
    assert _metric(at, "留守儿童") == f"{left_behind:,}"
    assert "2026-2027学年" in at.caption[0].value
    school_table = at.dataframe[2].value
    assert len(school_table) == schools
    assert school_table["在读学生"].sum() == enrolled


def test_an_uninitialised_database_gets_a_chinese_message_not_a_traceback(tmp_path, monkeypatch):
    from xueji.config import get_settings

    monkeypatch.setenv("XUEJI_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    at = AppTest.from_file(APP, default_timeout=30).run()
    get_settings.cache_clear()
    assert not at.exception
    assert "xueji init" in at.error[0].value
