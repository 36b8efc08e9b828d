"""群机器人提醒 in the app: the administrator adds a robot (a foreign address refused in words), sees it masked,
sends the test message to the local receiver, previews a group's digest exactly as `xueji notify --dry-run`
prints it, and disables the robot; other roles cannot open the page."""

import pytest
from sqlalchemy import select

from tests.app.conftest import sign_in
from tests.notify_receiver import Receiver
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.models import RobotHook
from xueji.rules.vocab import ScopeKind
from xueji.services.notify import hooks, sender
from xueji.services.system import accounts

PAGE = "pages/system/robots.py"


@pytest.fixture
def receiver(demo_sqlite, monkeypatch):
    monkeypatch.setenv("XUEJI_NOTIFY_ALLOW_HOSTS", "127.0.0.1")
    get_settings.cache_clear()
    found = Receiver()
    yield found
    found.server.shutdown()


def _open(username: str = "demo_admin"):
    at = sign_in(username)
    at.switch_page(PAGE).run()
    assert not at.exception
    return at


def _add(at, place_label: str, url: str):
    form = [s for s in at.selectbox if s.label == "群(学校或乡镇)"][0]
    form.select(next(o for o in form.options if o.endswith(place_label)))
    next(t for t in at.text_input if t.label == "Webhook 地址").input(url)
    next(b for b in at.button if b.label == "添加").click().run()
    assert not at.exception
    return at


def test_the_admin_adds_a_robot_tests_it_previews_and_disables_it(demo_sqlite, receiver):
    with session_scope(demo_sqlite) as session:
        place = next(
            p
            for p in hooks.places(session, actor=accounts.system_actor(session))
            if p.kind is ScopeKind.SCHOOL
        )
    at = _open()
    assert at.title[0].value == "群机器人提醒"

    _add(at, place.name, "https://evil.example.com/cgi-bin/webhook/send?key=abc")
    assert any("不是企业微信" in e.value for e in at.error)

    at = _add(_open(), place.name, receiver.wecom("693a91f6-7e1c-4bc4-97a0-0ec2sifa5aaa"))
    assert any("已为" in s.value for s in at.success)
    table = at.dataframe[0].value
    assert list(table["群"]) == [place.name]
    assert table["Webhook"][0].endswith("key=693a…5aaa") and "7e1c" not in table["Webhook"][0]

    next(b for b in at.button if b.label == "发送测试消息").click().run()
    assert not at.exception
    assert any("测试消息已发到" in s.value for s in at.success)
    (got,) = receiver.got
    assert "群机器人已接通" in got["body"]["markdown"]["content"]
    assert at.dataframe[0].value["上次结果"][0] == "成功"

    preview = next(s for s in at.selectbox if s.label == "群")
    preview.select(next(o for o in preview.options if o.endswith(place.name))).run()
    with session_scope(demo_sqlite) as session:
        expected = sender.preview(session, actor=accounts.system_actor(session), place=place).text
    assert at.code[0].value == expected and expected.startswith(f"**【xueji 待办】{place.name}")

    next(b for b in at.button if b.label == "停用").click().run()
    assert not at.exception
    with session_scope(demo_sqlite) as session:
        assert [h.enabled for h in session.scalars(select(RobotHook))] == [False]


@pytest.mark.parametrize("username", ["demo_registrar", "demo_county", "demo_township"])
def test_only_the_administrator_opens_the_robots_page(demo_sqlite, username):
    at = sign_in(username)
    with pytest.raises(ValueError):
        at.switch_page(PAGE).run()
