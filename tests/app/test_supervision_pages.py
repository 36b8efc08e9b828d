"""A city's officer in the app: only 各县区对比 until they pick a county in the sidebar, then that county's read pages,
none of which offers a write or ends in an error; its 概况 names the county and lists what the county is behind on;
the pick survives a reload (it is in the page's address); a stale or forged pick falls back to the whole city."""

import re

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP, sign_in, signed_session
from xueji.db import session_scope
from xueji.demo.city import add_supervisors, city_workbook
from xueji.models import AuditLog, County
from xueji.rules.vocab import Role
from xueji.services.overview import summaries
from xueji.services.setup import workbook_import
from xueji.services.system.accounts import system_actor
from xueji.ui.my_work import EMPTY
from xueji.ui.navigation import PAGES, address, not_in_menu, pages_for
from xueji.ui.session import TOKEN
from xueji.ui.supervision import PICK

PARAM = "county"  # the page address's ?county=<id> (ui.supervision.PARAM)

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
    assert [t.value for t in at.title] == ["概况 · 浏阳市"]
    assert "正在查看:浏阳市(只读)" in [c.value for c in at.sidebar.caption]
    with session_scope() as session:
        from xueji.services.common.supervision import as_county
        from xueji.services.system.accounts import actor_by_username

        narrowed = as_county(
            session, actor=actor_by_username(session, "demo_city"), county_id=city_app["浏阳市"]
        )
    paths = [p.path for p in pages_for(narrowed)]
    assert "pages/cases/ledgers.py" in paths and "pages/registry/students.py" not in paths
    for path in (p for p in paths if p != "pages/overview/counties.py"):  # that one goes back to the city
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


def test_a_county_s_return_ladder_opens_on_its_overdue_steps_for_a_supervisor(city_app):
    """A supervisor has no steps of their own: 劝返复学 offers no 待我处理 and opens on 已逾期."""
    at = sign_in("demo_city")
    at.sidebar.selectbox[0].set_value(city_app["浏阳市"]).run()
    at.switch_page("pages/cases/ladder.py").run()
    assert not at.exception
    (views,) = [w for w in at.get("button_group") if w.label == "范围"]
    assert views.options == ["已逾期", "全部在办"] and views.value == "overdue"


def test_every_county_page_says_above_it_which_county_a_supervisor_looks_at(city_app):
    """On a phone the sidebar is folded away: the main area names the county too."""
    at = sign_in("demo_city")
    at.sidebar.selectbox[0].set_value(city_app["宁乡市"]).run()
    at.switch_page("pages/dashboards/retention.py").run()
    assert not at.exception
    assert "正在查看:宁乡市(只读,在侧边栏“查看县区”中更换)" in [c.value for c in at.main.caption]


def test_a_stale_pick_falls_back_to_the_whole_city(city_app):
    at = sign_in("demo_city")
    at.session_state[PICK] = 999_999  # a county that is not theirs
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["各县区对比"] and at.session_state[PICK] is None


def _reloaded(token: str, query: dict[str, str], page: str | None = None) -> AppTest:
    """The same browser reloading a page: its sign-in cookie and the page's address, a new Streamlit session."""
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state[TOKEN] = token
    at.query_params.update(query)
    (at.switch_page(page) if page else at).run()
    assert not at.exception, at.exception
    return at


def _denials(county: str) -> int:
    with session_scope() as session:
        return len(
            session.scalars(
                select(AuditLog.id).where(
                    AuditLog.action == "denied",
                    AuditLog.entity_type == "county",
                    AuditLog.entity_id == county,
                )
            ).all()
        )


def test_a_county_s_overview_lists_what_it_is_behind_on_not_an_empty_to_do(city_app):
    with session_scope() as session:
        summaries.refresh_all(session)
        row = summaries.county_figures(session, city_app["浏阳市"])
    at = sign_in("demo_city")
    at.sidebar.selectbox[0].set_value(city_app["浏阳市"]).run()
    assert [t.value for t in at.title] == ["概况 · 浏阳市"]
    assert "浏阳市的逾期与待督办事项" in [h.value for h in at.subheader]
    assert "我的待办" not in [h.value for h in at.subheader]
    shown = " ".join(e.value for e in at.success)
    assert EMPTY not in shown
    labels = " ".join(link.proto.label for link in at.get("page_link"))
    assert f"家访逾期的儿童 :red[**{row[('visits_overdue', '')]} 人**]" in labels
    assert f"在办个案 :blue[**{row[('open_cases', '')]} 个**]" in labels
    assert "数据截至 " in " ".join(c.value for c in at.caption)
    assert f"人籍一致核查未完成 :orange[**{row[('checks_short', '')]} 个班**]" in labels
    with session_scope() as session:
        empty = summaries.county_figures(session, city_app["宁乡市"])
    # 宁乡市 has schools and no registry yet: only its intake is late
    at.sidebar.selectbox[0].set_value(city_app["宁乡市"]).run()
    assert [t.value for t in at.title] == ["概况 · 宁乡市"]
    lines = [link.proto.label for link in at.get("page_link") if "[**" in link.proto.label]
    assert empty[("intake_late", "")] > 0
    assert lines == [f"新生注册逾期未完成 :red[**{empty[('intake_late', '')]} 所学校**]"]


def test_a_county_not_refreshed_yet_says_so_on_its_overview(city_app):
    at = sign_in("demo_city")
    at.sidebar.selectbox[0].set_value(city_app["浏阳市"]).run()
    assert not at.exception
    assert "尚未汇总" in " ".join(i.value for i in at.info)
    assert EMPTY not in " ".join(e.value for e in at.success)


def test_the_picked_county_survives_a_reload_through_the_page_address(city_app):
    token = signed_session("demo_city")
    at = _reloaded(token, {})
    at.sidebar.selectbox[0].set_value(city_app["宁乡市"]).run()
    assert at.query_params.get(PARAM) == str(city_app["宁乡市"])
    at.switch_page("pages/dashboards/retention.py").run()  # another county page keeps it in the address
    assert at.query_params.get(PARAM) == str(city_app["宁乡市"])
    again = _reloaded(token, {PARAM: str(city_app["宁乡市"])}, "pages/overview/home.py")
    assert [t.value for t in again.title] == ["概况 · 宁乡市"]
    assert "正在查看:宁乡市(只读)" in [c.value for c in again.sidebar.caption]
    assert again.session_state[PICK] == city_app["宁乡市"]


@pytest.mark.parametrize("forged", ["999999", "abc"])
def test_a_forged_county_in_the_address_is_refused_audited_and_falls_back_to_the_city(city_app, forged):
    county = forged if forged.isdigit() else "0"
    before = _denials(county)
    at = _reloaded(signed_session("demo_city"), {PARAM: forged})
    assert [t.value for t in at.title] == ["各县区对比"]
    assert PARAM not in at.query_params and at.session_state[PICK] is None
    assert any("不在您的管辖范围内" in t.value for t in at.toast)  # said, not silently dropped
    assert _denials(county) == before + 1
    at.run()  # refused once: the next run does not ask again
    assert _denials(county) == before + 1


def test_a_county_officer_ignores_a_county_in_the_address(city_app):
    at = _reloaded(signed_session("demo_county"), {PARAM: str(city_app["宁乡市"])})
    assert at.title[0].value == "县域概况"  # a county's own officer: the address means nothing to them
    assert _denials(str(city_app["宁乡市"])) == 0


def test_the_comparison_from_a_county_s_menu_goes_back_to_the_whole_city(city_app):
    at = sign_in("demo_city")
    at.sidebar.selectbox[0].set_value(city_app["浏阳市"]).run()
    at.switch_page("pages/overview/counties.py").run()
    assert not at.exception
    assert [t.value for t in at.title] == ["各县区对比"]
    assert at.sidebar.selectbox[0].index == 0  # 全市(各县区对比)
    assert not any(c.value.startswith("正在查看") for c in at.sidebar.caption)
    assert PARAM not in at.query_params and at.session_state[PICK] is None
    with pytest.raises(ValueError):  # the county's pages are gone from the menu
        at.switch_page("pages/overview/home.py").run()


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


@pytest.mark.parametrize("role", list(Role))
def test_every_address_opens_a_page_in_chinese_whatever_the_menu(role):
    """A page not in the menu (an old bookmark, a refused county, another role's page) is still registered, hidden,
    at its own address, so Streamlit never shows its English "Page not found"; no address is taken twice."""
    from xueji.auth import Actor
    from xueji.rules.vocab import ScopeKind

    actor = Actor(1, "x", role, ScopeKind.COUNTY, 5)
    menu = [address(spec) for spec in pages_for(actor)]
    hidden = [address(spec) for spec in not_in_menu(pages_for(actor))]
    assert sorted(menu + hidden) == sorted(address(spec) for spec in PAGES)
    assert len(set(menu + hidden)) == len(PAGES)
