"""One message to one robot: the HTTP post, the pace (at most N a minute to one robot, the platforms' limit), and
retries on network errors, server errors and rate limits. The clock and the post are parameters, so tests run
without waiting."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from xueji.models import RobotHook
from xueji.rules.notify import Platform, Reply, Window, body, network_failure, parse_reply, signed_url

TIMEOUT_SECONDS = 10
RATE_LIMIT_PAUSE = 60.0  # the robots count a minute: after a rate-limit answer, wait for the next one

Post = Callable[[str, bytes, float], tuple[int, bytes]]


def http_post(url: str, data: bytes, timeout: float) -> tuple[int, bytes]:
    """POST the JSON body; the status and the start of the answer (an HTTP error status is an answer too)."""
    request = urllib.request.Request(  # noqa: S310 - the address passed rules.notify.check_webhook
        url, data=data, headers={"Content-Type": "application/json; charset=utf-8"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            return answer.status, answer.read(65536)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(65536)


class Clock(Protocol):
    def time(self) -> float: ...  # seconds, only differences count
    def sleep(self, seconds: float) -> None: ...
    def epoch_ms(self) -> int: ...  # the real time, for DingTalk's signature


class RealClock:
    def time(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def epoch_ms(self) -> int:
        return int(time.time() * 1000)


@dataclass
class Pacer:
    """At most `per_minute` sends in any minute to one robot address."""

    per_minute: int
    windows: dict[str, Window] = field(default_factory=dict)

    def pass_through(self, keys: list[str], clock: Clock) -> None:
        found = [self.windows.setdefault(k, Window(self.per_minute)) for k in keys]
        wait = max(w.wait(clock.time()) for w in found)
        if wait > 0:
            clock.sleep(wait)
        at = clock.time()
        for w in found:
            w.note(at)


@dataclass(frozen=True)
class Target:
    """A robot as the sender needs it, read before the network (no ORM object across a send)."""

    id: int
    school_id: int | None
    township_id: int | None
    platform: Platform
    webhook: str
    secret: str | None

    @classmethod
    def of(cls, hook: RobotHook) -> Target:
        return cls(
            hook.id or 0, hook.school_id, hook.township_id, Platform(hook.platform), hook.webhook, hook.secret
        )


@dataclass(frozen=True)
class Sent:
    ok: bool
    attempts: int
    message: str  # 成功, or the failure in words


def deliver(
    hook: Target,
    title: str,
    text: str,
    *,
    pacer: Pacer,
    clock: Clock,
    retries: int,
    post: Post = http_post,
) -> Sent:
    """Send one message to one robot, retrying network errors, server errors and rate limits with backoff."""
    platform = hook.platform
    payload = json.dumps(body(platform, title, text), ensure_ascii=False).encode("utf-8")
    for attempt in range(retries + 1):
        pacer.pass_through([f"robot:{hook.webhook}"], clock)
        url = signed_url(hook.webhook, hook.secret, clock.epoch_ms()) if hook.secret else hook.webhook
        try:
            reply = parse_reply(platform, *post(url, payload, TIMEOUT_SECONDS))
        except TimeoutError:
            reply = Reply(False, True, f"网络超时({TIMEOUT_SECONDS} 秒无答复)")
        except urllib.error.URLError as exc:
            reply = Reply(False, True, f"网络错误:{network_failure(str(exc.reason))}")
        except (OSError, http.client.HTTPException) as exc:
            reply = Reply(False, True, f"网络错误:{network_failure(str(exc))}")
        if reply.ok or not reply.retry or attempt == retries:
            return Sent(reply.ok, attempt + 1, reply.message)
        clock.sleep(RATE_LIMIT_PAUSE if reply.rate_limited else 2.0 ** (attempt + 1))
    raise AssertionError("unreachable")
