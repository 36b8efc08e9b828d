"""AppTest of 各县区对比 as the demo city's officer (demo_city): the table of the city's counties with its total,
how fresh the figures are, search, sort, the charts, the audited export, the drill-down into one county, and
尚未汇总 with the command to run when a county has no figures yet (and no 合计 of nothing before the first refresh)."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text
from streamlit.testing.v1 import AppTest

from tests.app.conftest import sign_in
from xueji.db import session_scope
from xueji.demo.build import DemoSpec
from xueji.demo.city import load_demo_city
from xueji.models import AuditLog
from xueji.ui.display import number

PAGE = "pages/overview/counties.py"
COUNTIES = ["浏阳市", "宁乡市", "长沙县"]


@pytest.fixture(scope="module")
def city_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo city, built once for the module (its figures refreshed by the build)."""
    import os

    from xueji.config import get_settings
    from xueji.db import make_engine, migrate

    path = tmp_path_factory.mktemp("city") / "city.db"
    saved = {k: os.environ.get(k) for k in ("XUEJI_DATABASE_URL", "XUEJI_TODAY")}
    os.environ.update({"XUEJI_DATABASE_URL": f"sqlite:///{path}", "XUEJI_TODAY": "2026-11-23"})
    get_settings.cache_clear()
    try:
        engine = make_engine(f"sqlite:///{path}")
        migrate(engine)
        with session_scope(engine) as session:
            load_demo_city(session, DemoSpec(seed=7, scale=0.3))
        engine.dispose()
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
        get_settings.cache_clear()
    return path


@pytest.fixture
def demo_city(app_sqlite, city_template: Path):  # noqa: ANN001, ANN201
    target = app_sqlite.url.database
    app_sqlite.dispose()
    with closing(sqlite3.connect(city_template)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    return app_sqlite


def _page() -> AppTest:
    at = sign_in("demo_city", timeout=60)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def _table(at: AppTest):  # noqa: ANN202
    return next(d.value for d in at.dataframe if "县区" in d.value.columns)


def test_the_city_officer_compares_the_counties_with_a_total_and_how_fresh(demo_city) -> None:  # noqa: ANN001
    at = _page()
    assert at.title[0].value == "各县区对比"
    captions = " ".join(c.value for c in at.caption)
    assert "数据截至 " in captions and "每 10 分钟更新一次" in captions
    table = _table(at)
    assert sorted(table["县区"][:-1]) == sorted(COUNTIES) and table["县区"].iloc[-1] == "合计"
    assert int(table["在读学生"].iloc[-1]) == sum(int(v) for v in table["在读学生"][:-1])
    assert not at.warning  # every county refreshed
    rate = next(m for m in at.metric if m.label == "巩固率(%)")
    assert rate.value == number(
        table["巩固率(%)"].iloc[-1], places=2
    )  # as the table's 合计 reads (100, not 100.00)
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(charts) == 2
    assert {t["text"] for t in (c["layout"]["title"] for c in charts)} == {
        "各县区巩固率(%)",
        "各县区在办个案与逾期",
    }


def test_search_and_sort(demo_city) -> None:  # noqa: ANN001
    at = _page()
    at.text_input(key="counties_search").input("宁乡").run()
    assert list(_table(at)["县区"]) == ["宁乡市"]
    at.text_input(key="counties_search").input("").run()
    at.selectbox(key="counties_order").select("在办个案").run()
    cases = [int(v) for v in _table(at)["在办个案"][:-1]]
    assert cases == sorted(cases, reverse=True)


def test_the_export_is_audited_and_a_county_opens_read_only(demo_city) -> None:  # noqa: ANN001
    at = _page()
    at.button(key="export_counties_build").click().run()
    assert not at.exception
    book = load_workbook(BytesIO(at.session_state["export_counties"]), read_only=True)
    assert book.sheetnames == ["各县区对比", "说明"]
    notes = [row[0] for row in book["说明"].iter_rows(min_row=2, values_only=True)]
    assert notes[0].startswith("数据截至") and any(
        n.startswith("巩固率(%):") for n in notes
    )  # fresh as of, meanings
    with session_scope(demo_city) as session:
        exports = session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "export")
        )
    assert exports and exports >= 1
    at.selectbox(key="counties_open").select("宁乡市").run()
    at.button(key="open_county").click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "概况 · 宁乡市"
    assert at.query_params.get("county") == str(at.session_state["supervised_county_id"])  # a reload keeps it


def test_a_county_not_refreshed_says_what_to_run(demo_city) -> None:  # noqa: ANN001
    with session_scope(demo_city) as session:
        session.execute(
            text("DELETE FROM county_figure WHERE county_id = (SELECT id FROM county WHERE name = '长沙县')")
        )
        session.commit()
    at = _page()
    warning = " ".join(w.value for w in at.warning)
    assert "尚未汇总:长沙县" in warning and "xueji summaries refresh" in warning
    row = _table(at).set_index("县区").loc["长沙县"]
    assert row.isna()["在读学生"] or row["在读学生"] in ("—", None)


def test_before_the_first_refresh_it_says_what_to_run_once_and_shows_no_total(demo_city) -> None:  # noqa: ANN001
    with session_scope(demo_city) as session:
        session.execute(text("DELETE FROM county_figure"))
        session.commit()
    at = _page()
    warning = " ".join(w.value for w in at.warning)
    assert "尚未汇总:" in warning and "请系统管理员在服务器上运行 `xueji summaries refresh`" in warning
    captions = " ".join(c.value for c in at.caption)
    assert "尚未汇总" not in captions  # said once, in the warning
    assert {m.label: m.value for m in at.metric}["在读学生"] == "—"  # not 0: nothing counted yet
    assert "合计" not in list(_table(at)["县区"])
    assert sorted(_table(at)["县区"]) == sorted(COUNTIES)
    at.selectbox(key="counties_open").select("浏阳市").run()  # the counties' own pages are still there
    at.button(key="open_county").click().run()
    assert not at.exception and at.title[0].value == "概况 · 浏阳市"
