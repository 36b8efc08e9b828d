"""群机器人 rules: the webhook a robot may have, the platforms' bodies, DingTalk's signature, the guard against names,
ID numbers and phones, what an answer means, and the pace of at most N messages in any minute."""

import base64
import hashlib
import hmac
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, unquote_plus, urlsplit

import pytest

from xueji.config import PROJECT_ROOT, SettingsError, settings_from_env
from xueji.rules.notify import (
    DigestLine,
    NotifyError,
    Platform,
    Window,
    body,
    check_secret,
    check_webhook,
    digest_text,
    guard,
    leaks,
    mask_secret,
    mask_webhook,
    parse_reply,
    same_webhook,
    signed_url,
)

WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7e1c-4bc4-97a0-0ec2sifa5aaa"
DING = "https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef0123456789abcdef"
TODAY = date(2026, 11, 26)


def test_a_platforms_own_https_webhook_is_accepted():
    assert check_webhook(f"  {WECOM} ", Platform.WECOM) == WECOM
    assert check_webhook(DING, Platform.DINGTALK) == DING


@pytest.mark.parametrize(
    ("url", "platform", "words"),
    [
        (WECOM.replace("https", "http"), Platform.WECOM, "https"),
        (WECOM, Platform.DINGTALK, "不是钉钉"),
        ("https://evil.example.com/cgi-bin/webhook/send?key=abc", Platform.WECOM, "不是企业微信"),
        ("https://qyapi.weixin.qq.com.evil.cn/send?key=abc", Platform.WECOM, "不是企业微信"),
        ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send", Platform.WECOM, "key="),
        ("", Platform.WECOM, "请填写"),
    ],
)
def test_a_webhook_elsewhere_or_without_its_key_is_refused_in_words(url, platform, words):
    with pytest.raises(NotifyError, match=words):
        check_webhook(url, platform)


def test_an_allowed_host_may_be_reached_over_http_but_only_when_the_setting_names_it():
    local = "http://127.0.0.1:8123/cgi-bin/webhook/send?key=abc"
    with pytest.raises(NotifyError):
        check_webhook(local, Platform.WECOM)
    assert check_webhook(local, Platform.WECOM, allow_hosts=("127.0.0.1",)) == local


def test_only_dingtalk_takes_a_secret_and_it_starts_with_sec():
    assert check_secret("  ", Platform.WECOM) is None
    assert check_secret("SEC0123456789abcdef", Platform.DINGTALK) == "SEC0123456789abcdef"
    with pytest.raises(NotifyError, match="企业微信"):
        check_secret("SEC0123456789abcdef", Platform.WECOM)
    with pytest.raises(NotifyError, match="SEC"):
        check_secret("0123456789abcdef", Platform.DINGTALK)


def test_the_key_and_secret_are_never_shown_whole():
    shown = mask_webhook(WECOM)
    assert shown == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a…5aaa"
    assert "7e1c" not in shown
    assert mask_secret("SEC0123456789abcdef") == "已设置(…cdef)"
    assert mask_secret(None) == "未设置"


def test_each_platform_gets_its_markdown_body():
    assert body(Platform.WECOM, "标题", "正文") == {"msgtype": "markdown", "markdown": {"content": "正文"}}
    assert body(Platform.DINGTALK, "标题", "正文") == {
        "msgtype": "markdown",
        "markdown": {"title": "标题", "text": "正文"},
    }


def test_dingtalk_signature_is_hmac_sha256_of_timestamp_and_secret_base64_url_encoded():
    secret = "SEC0123456789abcdef"
    url = signed_url(DING, secret, 1700000000123)
    query = parse_qs(urlsplit(url).query)
    assert query["access_token"] == ["0123456789abcdef0123456789abcdef"]
    assert query["timestamp"] == ["1700000000123"]
    expected = base64.b64encode(
        hmac.new(secret.encode(), b"1700000000123\n" + secret.encode(), hashlib.sha256).digest()
    ).decode()
    assert query["sign"] == [expected]
    raw_sign = url.split("sign=")[1]
    assert unquote_plus(raw_sign) == expected and "+" not in raw_sign and "/" not in raw_sign


def _line(what, count, *, overdue=False, due=None, link=""):
    return DigestLine("已逾期" if overdue else "待办", what, count, "人", due, link, overdue)


def test_the_digest_puts_overdue_first_with_the_oldest_date_and_the_link():
    text = digest_text(
        "古港镇完全小学",
        TODAY,
        [
            _line("在办的个案", 2),
            _line("家访", 3, overdue=True, due=date(2026, 11, 2), link="https://x.cn/supervision"),
            _line("新生注册", 1, overdue=True, due=date(2025, 9, 30)),
        ],
    )
    assert text is not None
    rows = text.splitlines()
    assert rows[0] == "**【xueji 待办】古港镇完全小学 2026-11-26**"
    assert rows[2] == "· 已逾期 家访 3 人(最早 11-02) [去办理](https://x.cn/supervision)"
    assert rows[3] == "· 已逾期 新生注册 1 人(最早 2025-09-30)"
    assert rows[4] == "· 待办 在办的个案 2 人"


def test_nothing_waiting_is_no_message_not_an_empty_one():
    assert digest_text("古港镇", TODAY, []) is None
    assert digest_text("古港镇", TODAY, [_line("家访", 0, overdue=True)]) is None


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("学生 36042119990101123X 未报到", ["身份证号"]),
        ("家长电话 13812345678", ["手机号"]),
        ("张小明 家访逾期", ["姓名"]),
        ("· 已逾期 家访 3 人(最早 2026-11-02) 共 20261126 件", []),
    ],
)
def test_the_guard_finds_id_numbers_phones_and_the_names_given(text, found):
    assert leaks(text, names={"张小明", "李"}) == found


def test_the_guard_refuses_the_message_in_words():
    with pytest.raises(NotifyError, match="手机号"):
        guard("联系 15900001111")
    assert guard("家访 3 人") == "家访 3 人"


@pytest.mark.parametrize(
    ("status", "content", "ok", "retry"),
    [
        (200, b'{"errcode":0,"errmsg":"ok"}', True, False),
        (200, b'{"errcode":45009,"errmsg":"api freq out of limit"}', False, True),
        (200, b'{"errcode":130101,"errmsg":"send too fast"}', False, True),
        (200, b'{"errcode":93000,"errmsg":"invalid webhook url"}', False, False),
        (500, b"", False, True),
        (503, b"busy", False, True),
        (404, b"", False, False),
        (200, b"<html>", False, False),
    ],
)
def test_an_answer_is_success_a_retry_or_a_failure(status, content, ok, retry):
    reply = parse_reply(Platform.WECOM, status, content)
    assert (reply.ok, reply.retry) == (ok, retry)
    assert reply.message == "成功" if ok else reply.message.startswith("企业微信")


def test_the_window_lets_twenty_through_in_any_minute_and_no_more():
    window, at, sent = Window(20), 0.0, []
    for _ in range(45):
        at += window.wait(at)
        window.note(at)
        sent.append(at)
    assert max(sum(1 for t in sent if start <= t < start + 60) for start in sent) == 20
    assert sent[19] == 0.0 and sent[20] == 60.0 and sent[40] == 120.0


def test_a_digest_links_each_page_at_the_address_the_router_serves_it():
    from xueji.services.notify.digest import page_link

    assert page_link("pages/cases/supervision.py", "https://x.cn") == "https://x.cn/supervision"
    assert page_link("pages/reports/review.py", "https://x.cn") == "https://x.cn/report-review"
    assert page_link("pages/cases/supervision.py", "") == ""


def test_a_childs_name_inside_the_groups_own_name_is_no_leak_but_anywhere_else_it_is():
    text = digest_text("金桥小学", TODAY, [_line("家访", 3)])
    assert guard(text, {"金桥"}, place="金桥小学") == text
    with pytest.raises(NotifyError, match="姓名"):
        guard(text, {"金桥"})  # without the group's name set aside, as before
    with pytest.raises(NotifyError, match="姓名"):
        guard(text + "\n· 金桥 家访", {"金桥"}, place="金桥小学")
    assert leaks("金桥小学桥小", {"桥小"}, place="金桥小学") == ["姓名"]


def test_the_same_robot_is_the_same_host_path_and_key():
    assert same_webhook(WECOM, f" {WECOM} ", Platform.WECOM)
    assert same_webhook(WECOM, WECOM.replace("qyapi.weixin", "QYAPI.weixin"), Platform.WECOM)
    assert not same_webhook(WECOM, WECOM[:-4] + "bbbb", Platform.WECOM)
    assert not same_webhook(DING, DING.replace("/robot/send", "/robot/other"), Platform.DINGTALK)


def test_more_than_twenty_messages_a_minute_is_refused_at_start():
    assert settings_from_env({"XUEJI_NOTIFY_PER_MINUTE": "20"}).notify_per_minute == 20
    with pytest.raises(SettingsError, match="XUEJI_NOTIFY_PER_MINUTE 不能大于 20"):
        settings_from_env({"XUEJI_NOTIFY_PER_MINUTE": "21"})


def test_the_ladders_pass_has_its_own_daily_timer_and_cron_line_weekends_included():
    deploy = Path(PROJECT_ROOT) / "deploy"
    service = (deploy / "systemd/xueji-ladder.service").read_text()
    timer = (deploy / "systemd/xueji-ladder.timer").read_text()
    assert "ExecStart=/srv/xueji/.venv/bin/xueji ladder advance\n" in service
    assert "OnCalendar=*-*-* 06:30:00 Asia/Shanghai\n" in timer  # every day, not Mon..Fri
    lines = [line.split() for line in (deploy / "cron/xueji-notify").read_text().splitlines()]
    ladder = [line for line in lines if line[-4:-2] == ["ladder", "advance"]]
    assert len(ladder) == 1 and ladder[0][2:5] == ["*", "*", "*"]


def test_a_network_failure_is_said_in_chinese_never_in_pythons_english():
    from xueji.rules.notify import network_failure

    assert (
        network_failure("[Errno -2] Name or service not known") == "服务器连不上群机器人的网址(域名解析失败)"
    )
    assert network_failure("[Errno 111] Connection refused").endswith("(连接被拒绝)")
    assert network_failure("something new") == "服务器连不上群机器人的网址(网络错误)"
