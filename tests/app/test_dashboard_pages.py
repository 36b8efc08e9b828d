"""AppTest of the dashboards: 概况 and 巩固率 render for every role that reads them, open on what that role
must act on, show the services' figures, and say what to do in a county with nothing yet."""

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from tests.app.conftest import sign_in
from xueji.auth import hash_password
from xueji.db import session_scope
from xueji.demo.build import DEMO_PASSWORD
from xueji.models import AppUser, County
from xueji.services.dashboards import figures, retention
from xueji.services.system.accounts import actor_of

ROLES = ["demo_county", "demo_township", "demo_registrar", "demo_coordinator"]


def _actor(engine, username: str):
    with session_scope(engine) as session:
        return actor_of(session.scalars(select(AppUser).where(AppUser.username == username)).one())


def _table(at: AppTest, frame):
    """The table on the page with these columns (a page draws each figure's table once)."""
    return next(d.value for d in at.dataframe if list(d.value.columns) == list(frame.columns))


def _page(username: str, path: str) -> AppTest:
    at = sign_in(username)
    at.switch_page(path).run()
    assert not at.exception
    return at


@pytest.mark.parametrize("username", ROLES)
def test_the_overview_opens_on_what_the_role_must_act_on(demo_sqlite, username):
    at = _page(username, "pages/overview/home.py")
    first = "学生" if username == "demo_county" else "需要处理"
    section = at.segmented_control(key="overview_section")
    assert (section.options[0], section.value) == (first, first)
    if username == "demo_county":
        section.set_value("需要处理").run()
        assert not at.exception
    with session_scope(demo_sqlite) as session:
        behind = figures.villages_behind(session, actor=_actor(demo_sqlite, username))
    metrics = {m.label: m.value for m in at.metric}
    if username in ("demo_county", "demo_township"):  # the villages are their work, not a school's
        assert metrics["排查逾期的村"] == str(int((behind["是否逾期"] == "已逾期").sum()))
    else:
        assert "排查逾期的村" not in metrics
    if username == "demo_coordinator":
        assert any(h.value == "送教上门:未达标、已落后和有风险的孩子" for h in at.subheader)
    if username == "demo_township":
        assert any(h.value == "排查未完成的村" for h in at.subheader)


def test_each_overview_figure_is_the_services_table(demo_sqlite):
    at = _page("demo_county", "pages/overview/home.py")
    actor = _actor(demo_sqlite, "demo_county")
    with session_scope(demo_sqlite) as session:
        expected = {
            "cases": figures.open_cases_by_township(session, actor=actor),
            "sweep": figures.sweep_by_township(session, actor=actor),
            "visits": figures.visits_by_month(session, actor=actor, school_year=2026),
        }
    for (name, frame), section in zip(expected.items(), ["控辍保学", "拉网式排查", "家访"], strict=True):
        at.segmented_control(key="overview_section").set_value(section).run()
        assert not at.exception
        assert len(frame), name  # the demo has something to draw
        assert _table(at, frame).reset_index(drop=True).equals(frame.reset_index(drop=True)), name
    for section in ("送教上门", "班额与异动"):  # the other sections render too
        at.segmented_control(key="overview_section").set_value(section).run()
        assert not at.exception and at.subheader


@pytest.mark.parametrize("username", ROLES)
def test_retention_renders_for_each_role_with_the_services_figures(demo_sqlite, username):
    at = _page(username, "pages/dashboards/retention.py")
    assert at.title[0].value == "巩固率"
    with session_scope(demo_sqlite) as session:
        flows = retention.grade_flows(session, actor=_actor(demo_sqlite, username), school_year=2026)
    frame = retention.flows_frame(flows)
    assert _table(at, frame).reset_index(drop=True).equals(frame)
    assert any("巩固率 = (年初在籍 − 转出 − 死亡 − 辍学未返)" in c.value for c in at.caption)


def test_a_county_with_nothing_yet_says_what_to_do(app_sqlite):
    with session_scope(app_sqlite) as session:
        county = County(code="430181000000", name="新县")
        session.add(county)
        session.flush()
        session.add(
            AppUser(
                username="new_county",
                display_name="新科长",
                role="county_officer",
                scope_kind="county",
                county_id=county.id,
                password_hash=hash_password(DEMO_PASSWORD),
                must_change_password=False,
            )
        )
        session.commit()
    at = sign_in("new_county")  # lands on 上线清单 while the county has no school
    assert not at.exception
    at.switch_page("pages/overview/home.py").run()
    assert "还没有学校和学生数据" in at.info[0].value
    at.switch_page("pages/dashboards/retention.py").run()
    assert not at.exception
    assert "还没有学年或学校数据" in at.info[0].value
