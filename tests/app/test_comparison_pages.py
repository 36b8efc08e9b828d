"""AppTest of 三比对结果 and 适龄儿童台账: the county officer runs the comparison and reads each comparison, the
township reads its own ledger, the roles without the right cannot reach the pages."""

import pytest
from sqlalchemy import text

from tests.app.conftest import sign_in


def _count(engine, sql: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


def _page(username: str, page: str):
    at = sign_in(username)
    at.switch_page(page).run()
    assert not at.exception
    return at


def test_the_county_runs_the_comparison_and_reads_each_comparison(demo_sqlite):
    at = _page("demo_county", "pages/comparisons/results.py")
    assert at.title[0].value == "三比对结果"
    runs = _count(demo_sqlite, "SELECT count(*) FROM comparison_run")
    at.button[0].click().run()  # 重新比对
    assert not at.exception
    assert _count(demo_sqlite, "SELECT count(*) FROM comparison_run") == runs + 1
    children = _count(demo_sqlite, "SELECT count(*) FROM school_age_child")
    assert children > 0
    for which in ("学籍与在校", "辍学与脱贫户/监测户", "户籍与学籍"):
        at.segmented_control(key="results_which").set_value(which).run()
        assert not at.exception
        shown = " ".join(str(m.value) for m in at.markdown)
        assert "None" not in shown and "nan" not in shown


def test_the_township_sees_its_own_ledger_and_a_filter_narrows_it(demo_sqlite):
    at = _page("demo_county", "pages/comparisons/results.py")
    at.button[0].click().run()
    at = _page("demo_township", "pages/comparisons/ledger.py")
    assert at.title[0].value == "适龄儿童台账"
    mine = _count(
        demo_sqlite,
        "SELECT count(*) FROM school_age_child c JOIN app_user u ON u.township_id = c.township_id "
        "WHERE u.username = 'demo_township'",
    )
    assert at.metric[0].value == str(mine)
    assert f"共 **{mine}** 人" in [m.value for m in at.markdown]
    at.selectbox(key="ledger_source").set_value("sweep").run()
    assert not at.exception
    narrowed = next(m.value for m in at.markdown if m.value.startswith("共 **"))
    assert narrowed != f"共 **{mine}** 人" or mine == 0


@pytest.mark.parametrize("username", ["demo_registrar", "demo_teacher"])
def test_roles_without_the_right_cannot_reach_the_pages(demo_sqlite, username):
    at = sign_in(username)
    for page in ("pages/comparisons/results.py", "pages/comparisons/ledger.py"):
        with pytest.raises(ValueError):
            at.switch_page(page).run()
