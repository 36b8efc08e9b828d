"""Group robots (企业微信, 钉钉): the webhook a robot may have, the digest's text and each platform's message body,
DingTalk's 加签 signature, the guard that no message carries an ID number, a phone or a child's name, what a
platform's answer means, and the pace that keeps to the robots' limit of messages a minute."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from urllib.parse import SplitResult, parse_qs, quote_plus, urlsplit


class NotifyError(ValueError):
    """A robot's settings or a message the rules refuse, in words for the user."""


class Platform(StrEnum):
    WECOM = "wecom"
    DINGTALK = "dingtalk"

    @property
    def label(self) -> str:
        return {"wecom": "企业微信", "dingtalk": "钉钉"}[self.value]

    @property
    def host(self) -> str:
        """The only host the platform's group robots are reached at."""
        return {"wecom": "qyapi.weixin.qq.com", "dingtalk": "oapi.dingtalk.com"}[self.value]

    @property
    def token(self) -> str:
        """The query parameter that carries the robot's key in its webhook address."""
        return {"wecom": "key", "dingtalk": "access_token"}[self.value]

    @property
    def example(self) -> str:
        return {
            "wecom": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…",
            "dingtalk": "https://oapi.dingtalk.com/robot/send?access_token=…",
        }[self.value]


# 45009: WeCom's "api freq out of limit"; 130101: DingTalk's "send too fast".
RATE_LIMITED = frozenset({45009, 130101})


# ---- the robot's address and secret ----------------------------------------------------------------------------


def check_webhook(url: str, platform: Platform, *, allow_hosts: Iterable[str] = ()) -> str:
    """The webhook address cleaned, or NotifyError: https to the platform's own host (or, for a relay inside the
    network or a test's receiver, a host the settings allow, where http is accepted too), with the robot's key."""
    cleaned = (url or "").strip()
    parts = urlsplit(cleaned)
    host = (parts.hostname or "").lower()
    allowed = {h.lower() for h in allow_hosts}
    if not cleaned:
        raise NotifyError("请填写机器人的 Webhook 地址")
    if host in allowed:
        if parts.scheme not in {"http", "https"}:
            raise NotifyError("Webhook 地址应以 https:// 开头")
    elif parts.scheme != "https":
        raise NotifyError("Webhook 地址须以 https:// 开头(不接受 http)")
    elif host != platform.host:
        raise NotifyError(f"这不是{platform.label}群机器人的地址:应为 {platform.example}")
    if not parse_qs(parts.query).get(platform.token, [""])[0]:
        raise NotifyError(f"Webhook 地址缺少 {platform.token}=…(请复制群机器人设置里的完整地址)")
    if parts.username or parts.password or parts.fragment:
        raise NotifyError("Webhook 地址格式不对:请复制群机器人设置里的完整地址")
    return cleaned


def check_secret(secret: str | None, platform: Platform) -> str | None:
    """DingTalk's 加签 secret (SEC…), or none; WeCom robots have no secret."""
    value = (secret or "").strip()
    if not value:
        return None
    if platform is not Platform.DINGTALK:
        raise NotifyError("企业微信群机器人没有加签密钥,请留空")
    if not value.startswith("SEC") or len(value) < 10 or not value.isascii() or " " in value:
        raise NotifyError("钉钉加签密钥应以 SEC 开头(在机器人“安全设置—加签”处复制)")
    return value


def same_webhook(a: str, b: str, platform: Platform) -> bool:
    """Whether two webhook addresses reach the same robot: the same host, path and key."""
    one, other = urlsplit(a.strip()), urlsplit(b.strip())

    def key(parts: SplitResult) -> str:
        return parse_qs(parts.query).get(platform.token, [""])[0]

    return (
        (one.hostname or "").lower() == (other.hostname or "").lower()
        and one.port == other.port
        and one.path.rstrip("/") == other.path.rstrip("/")
        and key(one) == key(other)
    )


def _tail(value: str, keep: int = 4) -> str:
    return value[-keep:] if len(value) > keep * 2 else ""


def mask_webhook(url: str) -> str:
    """The address with its key hidden but for its first and last four characters."""
    parts = urlsplit(url)
    shown = f"{parts.scheme}://{parts.netloc}{parts.path}"
    for name, values in parse_qs(parts.query).items():
        key = values[0] if values else ""
        hidden = f"{key[:4]}…{key[-4:]}" if len(key) > 8 else "…"
        return f"{shown}?{name}={hidden}"
    return shown


def mask_secret(secret: str | None) -> str:
    """Whether a secret is set, and its last four characters."""
    if not secret:
        return "未设置"
    return f"已设置(…{_tail(secret)})" if _tail(secret) else "已设置"


def signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: HMAC-SHA256 over "timestamp\\nsecret" with the secret, base64, url-encoded, appended."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    sign = quote_plus(base64.b64encode(digest).decode())
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp_ms}&sign={sign}"


# ---- the message ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestLine:
    """One kind of waiting work: its urgency in words (已逾期, 待办, 留意), what, how many, the oldest deadline,
    and the address of the page where it is done (empty when the app's address is not set)."""

    urgency: str
    what: str
    count: int
    unit: str
    due: date | None = None
    link: str = ""
    overdue: bool = False


def short_day(day: date, today: date) -> str:
    """A date as the home page shows it: 11-02 this year, 2025-12-12 another."""
    return day.strftime("%m-%d") if day.year == today.year else day.isoformat()


def digest_title(place: str, today: date) -> str:
    return f"【xueji 待办】{place} {today.isoformat()}"


def digest_text(place: str, today: date, lines: Iterable[DigestLine]) -> str | None:
    """The digest in markdown, overdue work first; None when there is nothing to do (no empty message)."""
    ordered = sorted((line for line in lines if line.count > 0), key=lambda line: not line.overdue)
    if not ordered:
        return None
    rows = [f"**{digest_title(place, today)}**", ""]
    for line in ordered:
        row = f"· {line.urgency} {line.what} {line.count} {line.unit}"
        if line.due is not None:
            row += f"(最早 {short_day(line.due, today)})"
        if line.link:
            row += f" [去办理]({line.link})"
        rows.append(row)
    rows += ["", "只列件数;名单请登录 xueji 查看。"]
    return "\n".join(rows)


def hello_text(place: str, platform: Platform, today: date) -> str:
    """The harmless message the 发送测试消息 button sends."""
    return "\n".join(
        [
            f"**【xueji 测试】{place} {today.isoformat()}**",
            "",
            f"{platform.label}群机器人已接通。以后每天的待办提醒会发到本群:只有件数和办理页面的链接,"
            "不含姓名、身份证号和电话。",
        ]
    )


def body(platform: Platform, title: str, text: str) -> dict:
    """The JSON body each platform's robot expects for a markdown message."""
    if platform is Platform.WECOM:
        return {"msgtype": "markdown", "markdown": {"content": text}}
    return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}


# ---- the guard: no ID number, no phone, no child's name ----------------------------------------------------------

ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
PHONE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def leaks(text: str, names: Iterable[str] = (), *, place: str = "") -> list[str]:
    """What the text carries that no group message may: ID numbers, mobile phones, any of the names given. The
    group's own name is taken out before the names are looked for (a child called 金桥 is no leak in 金桥小学's
    title, but is on any other line)."""
    found = []
    if ID_NUMBER.search(text):
        found.append("身份证号")
    if PHONE.search(text):
        found.append("手机号")
    rest = text.replace(place, "\n") if place.strip() else text
    if any(len(n) >= 2 and n in rest for n in {n.strip() for n in names}):
        found.append("姓名")
    return found


def guard(text: str, names: Iterable[str] = (), *, place: str = "") -> str:
    """The text unchanged, or NotifyError when it carries an ID number, a phone or a name (the group's own name,
    `place`, aside)."""
    found = leaks(text, names, place=place)
    if found:
        raise NotifyError(f"消息中含有{'、'.join(found)},已拒绝发送")
    return text


# ---- the platform's answer ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    ok: bool
    retry: bool  # worth trying again: a server error or the robot's rate limit
    message: str  # 成功, or the failure in words
    rate_limited: bool = False


def parse_reply(platform: Platform, status: int, content: bytes) -> Reply:
    """What an HTTP answer from the robot means: both platforms answer {"errcode": 0} on success."""
    if status >= 500:
        return Reply(False, True, f"{platform.label}服务器错误(HTTP {status})")
    if status != 200:
        return Reply(False, False, f"{platform.label}拒绝了请求(HTTP {status})")
    try:
        answer = json.loads(content.decode("utf-8"))
        code = int(answer.get("errcode", -1))
    except (ValueError, AttributeError, TypeError):
        return Reply(False, False, f"{platform.label}的答复无法识别")
    if code == 0:
        return Reply(True, False, "成功")
    if code in RATE_LIMITED:
        return Reply(False, True, f"{platform.label}限流(错误码 {code}):发送过于频繁", rate_limited=True)
    said = str(answer.get("errmsg", ""))[:80]
    return Reply(False, False, f"{platform.label}返回错误码 {code}" + (f":{said}" if said else ""))


# ---- the pace: at most N messages in any minute --------------------------------------------------------------------


class Window:
    """The times of the last sends to one robot (or one platform): at most `limit` in any 60 seconds."""

    def __init__(self, limit: int, seconds: float = 60.0) -> None:
        self.limit = limit
        self.seconds = seconds
        self.sent: deque[float] = deque()

    def wait(self, at: float) -> float:
        """Seconds to wait from `at` before the next send keeps within the limit."""
        while self.sent and self.sent[0] <= at - self.seconds:
            self.sent.popleft()
        if len(self.sent) < self.limit:
            return 0.0
        return self.sent[0] + self.seconds - at

    def note(self, at: float) -> None:
        self.sent.append(at)


# What the server's network said (Python's English), in words an administrator can act on.
NETWORK = {
    "Name or service not known": "域名解析失败",
    "Temporary failure in name resolution": "域名解析失败",
    "No address associated with hostname": "域名解析失败",
    "Connection refused": "连接被拒绝",
    "Network is unreachable": "网络不通",
    "timed out": "连接超时",
    "No route to host": "网络不通",
    "CERTIFICATE_VERIFY_FAILED": "证书校验失败,可能被代理或防火墙拦截",
}


def network_failure(reason: str) -> str:
    """服务器连不上群机器人的网址(域名解析失败), never Python's English."""
    why = next((words for english, words in NETWORK.items() if english in reason), "网络错误")
    return f"服务器连不上群机器人的网址({why})"
