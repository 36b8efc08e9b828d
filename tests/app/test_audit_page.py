"""The audit log in the app: a page action records the browser channel; the auditor sees channel and address,
verifies chain and anchors; without the key the app stops with a Chinese message instead of failing later."""

from datetime import date, timedelta

from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from tests.app.conftest import sign_in
from tests.conftest import APP
from xueji.config import get_settings


def test_a_sign_in_from_the_page_is_recorded_as_the_browser(demo_sqlite):
    sign_in("demo_teacher")
    with demo_sqlite.connect() as conn:
        channel, address = conn.execute(
            text("SELECT channel, client_addr FROM audit_log WHERE action = 'login' ORDER BY id DESC LIMIT 1")
        ).one()
    assert channel == "web"
    assert address is None  # AppTest has no network connection; tests/e2e/test_audit_origin.py has one


def test_the_auditor_sees_channel_and_address_and_verifies_chain_and_anchors(demo_sqlite):
    at = sign_in("demo_auditor")
    assert at.title[0].value == "审计日志"
    at.date_input(key="audit_end").set_value(
        date.today() + timedelta(days=1)
    ).run()  # today is pinned earlier
    frame = at.dataframe[0].value
    assert {"渠道", "客户端地址"} <= set(frame.columns)
    assert "浏览器" in set(frame["渠道"])  # the auditor's own sign-in, just now
    # codes in words (issue 24): the auditor's sign-in reads 审计员 · 县区 <name> · 登录 · 成功, on Beijing time
    mine = frame[frame["账号"] == "demo_auditor"].iloc[0]
    assert (mine["角色"], mine["操作"], mine["结果"]) == ("审计员", "登录", "成功")
    assert mine["范围"].startswith("县区 ") and "county" not in mine["范围"], mine["范围"]
    assert "时间(北京时间)" in frame.columns
    assert not frame.isin(["county_officer", "login", "success", "None", "nan"]).any().any()
    at.button(key="verify_chain").click().run()
    assert not at.exception
    assert "审计日志完整" in at.success[0].value
    assert any("还没有锚点" in w.value for w in at.warning)
    at.selectbox(key="audit_channel").set_value("cli").run()
    assert not at.dataframe or set(at.dataframe[0].value["渠道"]) == {
        "命令行"
    }  # no rows: a sentence, no grid


def test_without_the_key_the_app_stops_with_a_chinese_message(demo_sqlite, monkeypatch, tmp_path):
    monkeypatch.delenv("XUEJI_AUDIT_KEY")
    monkeypatch.setenv("XUEJI_AUDIT_KEY_FILE", str(tmp_path / "missing.key"))
    get_settings.cache_clear()
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert "审计密钥缺失" in at.error[0].value and str(tmp_path) not in at.error[0].value
    assert not at.text_input  # no sign-in form: nothing can be written without the key
