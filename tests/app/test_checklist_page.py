"""The set-up checklist and the demo mark in the app: the first administrator of an empty county lands on the
checklist after changing the one-time password, links go only to pages the user may open, and the 演示数据 mark shows
on every page of a demo database, never on a real one, asked once per session."""

from streamlit.testing.v1 import AppTest

from tests.app.conftest import sign_in, signed_session
from tests.conftest import APP
from xueji.auth import hash_password
from xueji.db import session_scope
from xueji.models import AppUser, County, School, Township
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.system import accounts, deployment
from xueji.ui.demo_mark import MARK
from xueji.ui.session import TOKEN

FIRST = "Gugang#2027x"
CHANGED = "Liuyang#2028y"


def _marks(at: AppTest) -> tuple[int, int]:
    """How many 演示数据 banners the page shows in the main area and in the sidebar."""
    main = [e for e in at.main.get("html") if MARK in e.proto.body]
    side = [e for e in at.sidebar.get("html") if MARK in e.proto.body]
    return len(main), len(side)


def _links(at: AppTest) -> dict[str, str]:
    """The page links on the page: label → the page's URL path."""
    return {e.proto.label: e.proto.page for e in at.get("page_link")}


def _first_admin(engine) -> None:
    with session_scope(engine) as session:
        accounts.create_first_admin(session, password=FIRST)


def test_the_first_admin_of_an_empty_county_lands_on_the_checklist(app_sqlite):
    _first_admin(app_sqlite)
    at = sign_in("admin", FIRST)
    assert at.title[0].value == "修改密码"
    at.text_input(key="pw_old").input(FIRST)
    at.text_input(key="pw_new").input(CHANGED)
    at.text_input(key="pw_again").input(CHANGED)
    next(b for b in at.button if b.label == "保存").click().run()
    assert not at.exception
    assert at.title[0].value == "上线清单"
    assert at.get("progress")[0].proto.text == "1/14 项已完成"
    lines = [m.value for m in at.markdown if m.value.startswith((":green[", ":red[", ":orange["))]
    assert len(lines) == 14 and lines[0] == ":red[:material/cancel:] **县区** · 尚未建立"
    assert sum(line.startswith(":red[") for line in lines) == 12  # 2027's holidays only a warning in November
    links = _links(at)
    assert (links["去“基础数据导入”"], links["去“节假日安排”"]) == ("import_setup", "holidays")
    assert not any(
        "学籍导入" in label or "账号审批" in label for label in links
    )  # the admin cannot open those
    assert any("由各校学籍管理员在“学籍导入”页导入" in c.value for c in at.caption)
    assert _marks(at) == (0, 0)


def test_a_county_officer_lands_on_the_checklist_while_the_county_has_no_school(app_sqlite):
    with session_scope(app_sqlite) as session:
        county = County(code="430181000000", name="测试县")
        session.add(county)
        session.flush()
        officer = AppUser(
            username="kezhang",
            display_name="陈科长",
            role=Role.COUNTY_OFFICER.value,
            scope_kind=ScopeKind.COUNTY.value,
            county_id=county.id,
            must_change_password=False,
            password_hash=hash_password(CHANGED),
        )
        session.add(officer)
        session.commit()
    at = sign_in("kezhang", CHANGED)
    assert at.title[0].value == "上线清单"
    assert not [
        label for label in _links(at) if "基础数据导入" in label
    ]  # set-up pages are the administrator's
    assert any(c.value == "由系统管理员在“基础数据导入”页办理" for c in at.caption)
    with session_scope(app_sqlite) as session:
        township = Township(county_id=county.id, code="430181101000", name="东镇")
        session.add(township)
        session.flush()
        session.add(School(township_id=township.id, code="2143000001", name="东镇一小", kind="primary"))
        session.commit()
    assert sign_in("kezhang", CHANGED).title[0].value == "县域概况"


def test_the_demo_mark_shows_on_every_page_of_a_demo_database(demo_sqlite, monkeypatch):
    asked = []
    real = deployment.holds_demo

    def counted(session):
        asked.append(1)
        return real(session)

    monkeypatch.setattr(deployment, "holds_demo", counted)
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert _marks(at) == (1, 1)  # on the signed-out page too
    at.session_state[TOKEN] = signed_session("demo_county")  # the browser comes back from the sign-in page
    at.run()
    assert at.title[0].value == "县域概况" and _marks(at) == (1, 1)
    at.switch_page("pages/registry/students.py").run()
    assert not at.exception and _marks(at) == (1, 1)
    at.run()
    assert len(asked) == 1  # once for the whole session, whatever the reruns


def test_no_mark_and_no_demo_accounts_on_a_real_database(app_sqlite):
    _first_admin(app_sqlite)
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception and _marks(at) == (0, 0)
    assert not at.table and not at.expander  # no demo accounts, no demo password
