"""The run of `xueji notify`: one sender at a time (a lease in the database, so several replicas' timers send once),
the ladder's nightly pass first, then each enabled robot's digest sent at the robot's pace (the platforms' limit a
minute per robot), retried on network errors, server errors and rate limits, each sending audited and kept on the
robot as its last result. The clock and the HTTP post are parameters, so tests run without waiting."""

from __future__ import annotations

import http.client
import json
import os
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from xueji.audit import lock_tail, record
from xueji.auth import Action, Actor
from xueji.clock import china_time, now, today
from xueji.config import get_settings
from xueji.db import unit_of_work
from xueji.models import JobLease, RobotHook, School, Township
from xueji.rules.notify import (
    NotifyError,
    Platform,
    Reply,
    Window,
    body,
    guard,
    hello_text,
    parse_reply,
    signed_url,
)
from xueji.rules.vocab import ScopeKind
from xueji.services.common.access import deny, require
from xueji.services.notify import digest as digests
from xueji.services.notify.hooks import ENTITY, places, scope_key

LEASE = "notify"
LEASE_MINUTES = 15
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
            reply = Reply(False, True, f"网络错误:{str(exc.reason)[:80]}")
        except (OSError, http.client.HTTPException) as exc:
            reply = Reply(False, True, f"网络错误:{type(exc).__name__}")
        if reply.ok or not reply.retry or attempt == retries:
            return Sent(reply.ok, attempt + 1, reply.message)
        clock.sleep(RATE_LIMIT_PAUSE if reply.rate_limited else 2.0 ** (attempt + 1))
    raise AssertionError("unreachable")


# ---- the lease: one sender at a time -------------------------------------------------------------------------------


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


@unit_of_work
def take_lease(session: Session, *, holder: str, minutes: int = LEASE_MINUTES) -> str | None:
    """Take (or renew) the lease; None when this holder has it now, else who holds it and until when."""
    at = now()
    until = at + timedelta(minutes=minutes)
    taken = session.execute(
        update(JobLease)
        .where(JobLease.name == LEASE, or_(JobLease.until < at, JobLease.holder == holder))
        .values(holder=holder, until=until)
    ).rowcount  # type: ignore[attr-defined]
    if not taken and session.get(JobLease, LEASE) is None:
        try:
            with session.begin_nested():
                session.add(JobLease(name=LEASE, holder=holder, until=until))
            taken = 1
        except IntegrityError:  # another sender inserted it first
            pass
    lease = None if taken else session.get(JobLease, LEASE, populate_existing=True)
    session.commit()
    if lease is None:
        return None
    return f"{lease.holder}(至 {china_time(lease.until)})"


@unit_of_work
def release_lease(session: Session, *, holder: str) -> None:
    session.execute(
        update(JobLease).where(JobLease.name == LEASE, JobLease.holder == holder).values(until=now())
    )
    session.commit()


# ---- the run -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    hook_id: int
    place: str
    platform: Platform
    result: str  # sent, failed, nothing (no message: nothing waiting), refused (the guard), preview
    message: str


@dataclass(frozen=True)
class RunReport:
    outcomes: tuple[Outcome, ...] = ()
    held_by: str | None = None  # another sender held the lease: nothing done

    @property
    def failed(self) -> int:
        return sum(1 for o in self.outcomes if o.result in {"failed", "refused"})

    @property
    def sent(self) -> int:
        return sum(1 for o in self.outcomes if o.result == "sent")

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def parse_only(session: Session, only: str) -> tuple[ScopeKind, int]:
    """--only school:CODE or township:CODE, as the scope kind and id."""
    kind, _, code = (part.strip() for part in only.partition(":"))
    found = None
    if kind == "school":
        found = session.scalar(select(School.id).where(School.code == code))
    elif kind == "township":
        found = session.scalar(select(Township.id).where(Township.code == code))
    if found is None:
        raise NotifyError(f"找不到 {only}:应写成 school:学校标识码 或 township:乡镇代码")
    return ScopeKind(kind), found


def _targets(session: Session, actor: Actor, only: str | None) -> list[Target]:
    keys = {p.key for p in places(session, actor=actor)}
    hooks = [
        Target.of(h)
        for h in session.scalars(select(RobotHook).where(RobotHook.enabled).order_by(RobotHook.id))
        if scope_key(h) in keys
    ]
    if only:
        kind, found = parse_only(session, only)
        hooks = [h for h in hooks if (h.school_id if kind is ScopeKind.SCHOOL else h.township_id) == found]
    return hooks


def _place_of_only(session: Session, kind: ScopeKind, found_id: int) -> digests.Place:
    if kind is ScopeKind.SCHOOL:
        return digests.place_of(session, school_id=found_id, township_id=None)
    return digests.place_of(session, school_id=None, township_id=found_id)


def _place(session: Session, hook: Target | RobotHook) -> digests.Place:
    return digests.place_of(session, school_id=hook.school_id, township_id=hook.township_id)


@unit_of_work
def _record_sending(
    session: Session, *, actor: Actor, hook_id: int, place: digests.Place, counts: dict, sent: Sent, what: str
) -> None:
    """The sending in the audit log (scope, platform, counts, result: never the text) and on the robot."""
    lock_tail(session)
    hook = session.get(RobotHook, hook_id)
    if hook is None:  # deleted meanwhile: the audit still says what was sent
        platform = ""
    else:
        hook.last_sent_at = now()
        hook.last_result = sent.message[:200]
        session.add(hook)
        platform = hook.platform
    record(
        session,
        actor=actor,
        action="notify.send",
        outcome="success" if sent.ok else "failure",
        entity_type=ENTITY,
        entity_id=hook_id,
        after={
            "scope": place.key,
            "platform": platform,
            "message": what,
            **counts,
            "attempts": sent.attempts,
            "result": sent.message,
        },
        detail=f"{place.name}:{sent.message}"[:500],
    )
    session.commit()


def _advance(session: Session, actor: Actor, say: Callable[[str], None]) -> None:
    """The ladder's nightly pass, when it exists (open first steps, escalate late ones)."""
    from xueji.services.cases import ladder

    try:
        counts = ladder.advance(session, actor=actor)
    except NotImplementedError:
        say("劝返复学的每日推进尚未启用,跳过。")
        return
    words = {"started": "新开始", "to_township": "升级至乡镇", "to_county": "升级至县教育局"}
    shown = ",".join(f"{words.get(k, k)} {v} 件" for k, v in counts.items() if v)
    say(f"劝返复学每日推进:{shown or '无变化'}。")


def run(
    session: Session,
    *,
    actor: Actor,
    dry_run: bool = False,
    only: str | None = None,
    clock: Clock | None = None,
    post: Post = http_post,
    say: Callable[[str], None] = print,
    holder: str | None = None,
) -> RunReport:
    """Send every enabled robot in the actor's scope its group's digest (or, dry, print each message)."""
    require(session, actor, Action.ROBOT_MANAGE)
    clock = clock or RealClock()
    holder = holder or holder_name()
    settings = get_settings()
    if not dry_run:
        held = take_lease(session, holder=holder)
        if held is not None:
            say(f"另一个发送进程 {held} 正在发送,本次不发送。")
            return RunReport(held_by=held)
    try:
        if not dry_run and not only:  # the nightly pass is the county's, not one group's
            _advance(session, actor, say)
        pacer = Pacer(settings.notify_per_minute)
        outcomes = []
        built: dict[str, digests.Digest | NotifyError] = {}
        for hook in _targets(session, actor, only):
            place = _place(session, hook)
            if place.key not in built:
                try:
                    built[place.key] = digests.build(session, place, on=today())
                except NotifyError as exc:
                    built[place.key] = exc
            session.rollback()  # end the read before the network: no transaction stays open while sending
            outcomes.append(
                _one(session, actor, hook, place, built[place.key], dry_run, pacer, clock, post, say)
            )
            if not dry_run:
                take_lease(session, holder=holder)  # a long run keeps its lease
        if dry_run and only and not outcomes:  # a group with no robot yet: what it would receive
            kind, found_id = parse_only(session, only)
            place = _place_of_only(session, kind, found_id)
            shown = digests.build(session, place, on=today())
            say(f"=== {place.name}(未设置机器人)\n{shown.text or '暂无待办,不发送。'}\n")
        if dry_run:
            _record_dry_run(session, actor=actor, outcomes=outcomes)
        return RunReport(tuple(outcomes))
    finally:
        if not dry_run:
            release_lease(session, holder=holder)


def _one(
    session: Session,
    actor: Actor,
    hook: Target,
    place: digests.Place,
    found: digests.Digest | NotifyError,
    dry_run: bool,
    pacer: Pacer,
    clock: Clock,
    post: Post,
    say: Callable[[str], None],
) -> Outcome:
    platform = hook.platform
    hook_id = hook.id
    head = f"=== {place.name}({platform.label}机器人 {hook_id})"
    if isinstance(found, NotifyError):
        sent = Sent(False, 0, f"已拒绝发送:{found}")
        if not dry_run:
            _record_sending(
                session, actor=actor, hook_id=hook_id, place=place, counts={}, sent=sent, what="digest"
            )
        say(f"{head}:{sent.message}")
        return Outcome(hook_id, place.name, platform, "refused", sent.message)
    if found.text is None:
        say(f"{head}:暂无待办,不发送。")
        return Outcome(hook_id, place.name, platform, "nothing", "暂无待办")
    if dry_run:
        say(f"{head}\n{found.text}\n")
        return Outcome(hook_id, place.name, platform, "preview", found.text)
    sent = deliver(
        hook,
        found.title,
        found.text,
        pacer=pacer,
        clock=clock,
        retries=get_settings().notify_retries,
        post=post,
    )
    _record_sending(
        session, actor=actor, hook_id=hook_id, place=place, counts=found.counts, sent=sent, what="digest"
    )
    tries = f"(尝试 {sent.attempts} 次)" if sent.attempts > 1 else ""
    say(f"{head}:{'已发送' if sent.ok else '发送失败:' + sent.message}{tries}")
    return Outcome(hook_id, place.name, platform, "sent" if sent.ok else "failed", sent.message)


@unit_of_work
def _record_dry_run(session: Session, *, actor: Actor, outcomes: list[Outcome]) -> None:
    lock_tail(session)
    record(
        session,
        actor=actor,
        action="notify.dry_run",
        entity_type=ENTITY,
        after={
            "robots": len(outcomes),
            "messages": sum(1 for o in outcomes if o.result == "preview"),
            "refused": sum(1 for o in outcomes if o.result == "refused"),
        },
    )
    session.commit()


def preview(
    session: Session, *, actor: Actor, place: digests.Place, on: date | None = None
) -> digests.Digest:
    """A group's digest as `xueji notify --dry-run` prints it (the admin page's preview; nothing sent)."""
    require(session, actor, Action.ROBOT_MANAGE)
    if place.key not in {p.key for p in places(session, actor=actor)}:
        deny(session, actor, Action.ROBOT_MANAGE.value, f"该{place.kind_label}不在您的管辖范围内")
    return digests.build(session, place, on=on or today())


def send_test(
    session: Session, *, actor: Actor, hook_id: int, clock: Clock | None = None, post: Post = http_post
) -> Sent:
    """Send a robot the harmless test message (no work, no names), audited like every sending."""
    require(session, actor, Action.ROBOT_MANAGE)
    found = session.get(RobotHook, hook_id)
    if found is None or scope_key(found) not in {p.key for p in places(session, actor=actor)}:
        deny(
            session,
            actor,
            Action.ROBOT_MANAGE.value,
            "该机器人不存在或不在您的管辖范围内",
            entity_type=ENTITY,
        )
    hook = Target.of(found)
    place = _place(session, hook)
    text = guard(hello_text(place.name, hook.platform, today()))
    session.rollback()
    sent = deliver(
        hook,
        f"【xueji 测试】{place.name}",
        text,
        pacer=Pacer(get_settings().notify_per_minute),
        clock=clock or RealClock(),
        retries=min(1, get_settings().notify_retries),
        post=post,
    )
    _record_sending(session, actor=actor, hook_id=hook_id, place=place, counts={}, sent=sent, what="test")
    return sent
