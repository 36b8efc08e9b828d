"""A city's officer in the app: only 各县区对比 until they pick a county in the sidebar, then that county's read pages,
none of which offers a write or ends in an error; a stale pick falls back to the whole city."""

import re

import pytest
from sqlalchemy import select

from tests.app.conftest import sign_in
from xueji.db import session_scope
from xueji.demo.city import add_supervisors, city_workbook
from xueji.models import County
from xueji.services.setup import workbook_import
from xueji.services.system.accounts import system_actor
from xueji.ui.navigation import PAGES, pages_for
from xueji.ui.supervision import PICK

READ_ONLY_BUTTONS = re.compile(r"导出|生成|刷新|打开|退出登录|查看")


@pytest.fixture
def city_app(demo_sqlite):
    """The small demo county inside 长沙市 with its two other counties (no students), and demo_city/demo_province."""
    with session_scope(demo_sqlite) as session:
        workbook_import.commit_workbook(
            session, actor=system_actor(session), data=city_workbook(), file_name="演示市州基础数据.xlsx"
        )
        add_supervisors(session)
        session.commit()
        return dict(session.execute(select(County.name, County.id)).all())


def test_the_city_officer_sees_only_the_comparison_until_a_county_is_picked(city_app):
    at = sign_in("demo_city")
    (picker,) = at.sidebar.selectbox
    assert picker.label == "查看县区"
    assert picker.options == ["全市(各县区对比)", "长沙县", "浏阳市", "宁乡市"]  # by code
    assert [t.value for t in at.title] == ["各县区对比"]
    with pytest.raises(ValueError):  # not registered for the un-narrowed officer
        at.switch_page("pages/overview/home.py").run()


def test_the_province_officer_s_counties_carry_their_city(city_app):
    at = sign_in("demo_province")
    assert at.sidebar.selectbox[0].options == [
        "全省(各县区对比)",
        "长沙市 › 长沙县",
        "长沙市 › 浏阳市",
        "长沙市 › 宁乡市",
    ]


def test_a_picked_county_opens_its_read_pages_without_a_write_or_an_error(city_app):
    at = sign_in("demo_city")
    at.sidebar.selectbox[0].set_value(city_app["浏阳市"]).run()
    assert not at.exception
    assert [t.value for t in at.title] == ["县域概况"]
    assert "正在查看:浏阳市(只读)" in [c.value for c in at.sidebar.caption]
    with session_scope() as session:
        from xueji.services.common.supervision import as_county
        from xueji.services.system.accounts import actor_by_username

        narrowed = as_county(
            session, actor=actor_by_username(session, "demo_city"), county_id=city_app["浏阳市"]
        )
    paths = [p.path for p in pages_for(narrowed)]
    assert "pages/cases/ledgers.py" in paths and "pages/registry/students.py" not in paths
    for path in paths:
        at.switch_page(path).run()
        assert not at.exception, path
        assert not at.error, (path, [e.value for e in at.error])
        assert not at.get("form"), path  # no write form
        assert all(READ_ONLY_BUTTONS.search(b.label) for b in at.button), (path, [b.label for b in at.button])
        # a village's government-line contact (staff, not a family) keeps their phone, as for the county officer
        shown = " ".join(
            df.value.drop(columns=[c for c in df.value.columns if "联系人" in str(c)]).to_csv()
            for df in at.dataframe
        )
        assert not re.search(r"\d{17}[\dX]", shown), path  # no full ID number
        assert not re.search(r"1[3-9]\d{9}", shown), path  # no full phone number


def test_a_stale_pick_falls_back_to_the_whole_city(city_app):
    at = sign_in("demo_city")
    at.session_state[PICK] = 999_999  # a county that is not theirs
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["各县区对比"] and at.session_state[PICK] is None


def test_navigation_per_scope():
    from xueji.auth import Action, Actor
    from xueji.rules.vocab import Role, ScopeKind

    home = Actor(1, "c", Role.CITY_OFFICER, ScopeKind.CITY, 1)
    narrowed = Actor(1, "c", Role.CITY_OFFICER, ScopeKind.COUNTY, 5, via=(ScopeKind.CITY, 1))
    officer = Actor(2, "k", Role.COUNTY_OFFICER, ScopeKind.COUNTY, 5)
    assert [p.title for p in pages_for(home)] == ["各县区对比"]
    seen = {p.title for p in pages_for(narrowed)}
    assert {
        "各县区对比",
        "概况",
        "巩固率",
        "控辍保学台账",
        "个案详情",
        "劝返复学",
        "包保督办",
        "月报报送与季报",
    } <= seen
    assert not any(narrowed.can(p.action) is False for p in pages_for(narrowed))
    assert (
        not {p.title for p in PAGES if p.action not in (Action.SUPERVISE_READ,)}
        - seen
        - {p.title for p in PAGES if not narrowed.can(p.action) or (p.also and not narrowed.can(p.also))}
    )
    assert "各县区对比" not in {p.title for p in pages_for(officer)}
