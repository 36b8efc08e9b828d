"""The run of `xueji notify`: one sender at a time (services.notify.lease), the ladder's nightly pass first, then
each enabled robot's digest sent at the robot's pace and retried (services.notify.delivery), each sending audited
and kept on the robot as its last result. The clock and the HTTP post are parameters, so tests run without
waiting."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlmodel import Session

from xueji.audit import record
from xueji.auth import Action, Actor, PermissionDenied
from xueji.clock import now, today
from xueji.config import get_settings
from xueji.db import unit_of_work
from xueji.locks import write_lock
from xueji.models import RobotHook, School, Township
from xueji.rules.notify import NotifyError, Platform, guard, hello_text
from xueji.rules.vocab import ScopeKind
from xueji.services.common.access import require
from xueji.services.notify import digest as digests
from xueji.services.notify.delivery import Clock, Pacer, Post, RealClock, Sent, Target, deliver, http_post
from xueji.services.notify.hooks import ENTITY, in_scope, places, robot, scope_key
from xueji.services.notify.lease import holder_name, release_lease, take_lease

log = logging.getLogger(__name__)


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
    lost_to: str | None = None  # another sender took the lease during the run: the rest left to it
    advance_error: str | None = None  # the ladder's nightly pass failed (the digests were still sent)

    @property
    def failed(self) -> int:
        return sum(1 for o in self.outcomes if o.result in {"failed", "refused"})

    @property
    def sent(self) -> int:
        return sum(1 for o in self.outcomes if o.result == "sent")

    @property
    def exit_code(self) -> int:
        return 1 if self.failed or self.lost_to or self.advance_error else 0


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


def _only_place(session: Session, actor: Actor, only: str) -> digests.Place:
    """The group named by --only, if the actor's scope has it (PermissionDenied, audited, if not)."""
    kind, found_id = parse_only(session, only)
    named = digests.place_of(
        session,
        school_id=found_id if kind is ScopeKind.SCHOOL else None,
        township_id=found_id if kind is ScopeKind.TOWNSHIP else None,
    )
    return in_scope(session, actor=actor, place=named)


def _targets(session: Session, actor: Actor, only: digests.Place | None) -> list[Target]:
    keys = {only.key} if only else {p.key for p in places(session, actor=actor)}
    return [
        Target.of(h)
        for h in session.scalars(select(RobotHook).where(RobotHook.enabled).order_by(RobotHook.id))
        if scope_key(h) in keys
    ]


def _place(session: Session, hook: Target | RobotHook) -> digests.Place:
    return digests.place_of(session, school_id=hook.school_id, township_id=hook.township_id)


@unit_of_work
def _record_sending(
    session: Session, *, actor: Actor, hook_id: int, place: digests.Place, counts: dict, sent: Sent, what: str
) -> None:
    """The sending in the audit log (scope, platform, counts, result: never the text) and on the robot."""
    write_lock(session, f"robot_hook:{hook_id}")  # the robot's last sending set while nobody deletes it
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


def _advance(session: Session, actor: Actor, say: Callable[[str], None]) -> str | None:
    """The ladder's nightly pass (open first steps, escalate late ones); its failure in words, or None. A failure
    does not stop the digests: it is reported in the run's output and exit code."""
    from xueji.services.cases import ladder

    try:
        counts = ladder.advance(session, actor=actor)
    except Exception as exc:  # noqa: BLE001 - whatever went wrong, the groups still get their digests
        session.rollback()
        if not isinstance(exc, PermissionDenied | ValueError):
            log.exception("the ladder's nightly pass failed")
        reason = str(exc) if isinstance(exc, PermissionDenied | ValueError) else type(exc).__name__
        return f"劝返复学每日推进失败:{reason[:200]}(各群的待办提醒照常发送)"
    words = {"started": "新开始", "to_township": "升级至乡镇", "to_county": "升级至县教育局"}
    shown = ",".join(f"{words.get(k, k)} {v} 件" for k, v in counts.items() if v)
    say(f"劝返复学每日推进:{shown or '无变化'}。")
    return None


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
        group = _only_place(session, actor, only) if only else None
        failed_pass = None
        if not dry_run and not only:  # the nightly pass is the county's, not one group's
            failed_pass = _advance(session, actor, say)
        pacer = Pacer(settings.notify_per_minute)
        outcomes: list[Outcome] = []
        built: dict[str, digests.Digest | NotifyError] = {}
        for hook in _targets(session, actor, group):
            lost = None if dry_run else take_lease(session, holder=holder)  # renewed: a long run keeps it
            if lost is not None:
                say(f"发送租约已被另一个发送进程 {lost} 取得,本次停止发送,其余的群由它发送。")
                return RunReport(tuple(outcomes), lost_to=lost, advance_error=failed_pass)
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
        if dry_run and group and not outcomes:  # a group with no robot yet: what it would receive
            shown = digests.build(session, group, on=today())
            say(f"=== {group.name}(未设置机器人)\n{shown.text or '暂无待办,不发送。'}\n")
        if dry_run:
            _record_dry_run(session, actor=actor, outcomes=outcomes)
        return RunReport(tuple(outcomes), advance_error=failed_pass)
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
    # Only an audit entry: nothing read and checked, so no write lock (on SQLite the unit of work's BEGIN
    # IMMEDIATE is the database's).
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
    return digests.build(session, in_scope(session, actor=actor, place=place), on=on or today())


def send_test(
    session: Session, *, actor: Actor, hook_id: int, clock: Clock | None = None, post: Post = http_post
) -> Sent:
    """Send a robot the harmless test message (no work, no names), audited like every sending."""
    hook = Target.of(robot(session, actor=actor, hook_id=hook_id))
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
