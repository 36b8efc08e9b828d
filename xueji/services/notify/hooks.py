"""The group robots, kept by the administrator: one robot per school or township group (several allowed), added,
disabled, enabled or deleted; the webhook's key and DingTalk's secret are never shown whole."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import select
from sqlmodel import Session, col

from xueji.audit import record
from xueji.auth import Action, Actor
from xueji.config import get_settings
from xueji.db import unit_of_work
from xueji.locks import write_lock
from xueji.models import RobotHook, School, Township
from xueji.rules.notify import (
    NotifyError,
    Platform,
    check_secret,
    check_webhook,
    mask_secret,
    mask_webhook,
    same_webhook,
)
from xueji.rules.vocab import ScopeKind
from xueji.services.common.access import deny, require, school_condition, township_condition
from xueji.services.common.refusals import audit_refusal
from xueji.services.notify.digest import Place

ENTITY = "robot_hook"


@dataclass(frozen=True)
class HookRow:
    id: int
    place: Place
    platform: Platform
    webhook: str  # masked
    secret: str  # masked: 未设置, or 已设置(…abcd)
    enabled: bool
    last_sent_at: datetime | None
    last_result: str | None

    @property
    def label(self) -> str:
        return f"{self.place.name} · {self.platform.label}机器人 {self.id}"


def places(session: Session, *, actor: Actor) -> list[Place]:
    """The townships and schools of the actor's scope a robot may serve: townships first, by code."""
    require(session, actor, Action.ROBOT_MANAGE)
    towns = session.execute(
        select(Township.id, Township.name).where(township_condition(actor)).order_by(Township.code)
    )
    schools = session.execute(
        select(School.id, School.name)
        .where(school_condition(actor), col(School.merged_into_id).is_(None))
        .order_by(School.code)
    )
    return [Place(ScopeKind.TOWNSHIP, i, n) for i, n in towns] + [
        Place(ScopeKind.SCHOOL, i, n) for i, n in schools
    ]


def _scoped(
    session: Session, actor: Actor, key: str | None, message: str, *, entity_type: str | None = None
) -> Place:
    """The one check that a group is in the actor's scope: its place (name fresh), or PermissionDenied, audited."""
    found = next((p for p in places(session, actor=actor) if p.key == key), None)
    if found is None:
        deny(session, actor, Action.ROBOT_MANAGE.value, message, entity_type=entity_type)
    return found


def in_scope(session: Session, *, actor: Actor, place: Place) -> Place:
    """The group as the actor's scope has it, or PermissionDenied (audited)."""
    return _scoped(session, actor, place.key, f"该{place.kind_label}不在您的管辖范围内")


def robot(session: Session, *, actor: Actor, hook_id: int) -> RobotHook:
    """A robot of the actor's scope, or PermissionDenied (audited): a robot elsewhere is told as missing."""
    require(session, actor, Action.ROBOT_MANAGE)
    hook = session.get(RobotHook, hook_id)
    _scoped(
        session,
        actor,
        None if hook is None else scope_key(hook),
        "该机器人不存在或不在您的管辖范围内",
        entity_type=ENTITY,
    )
    assert hook is not None  # noqa: S101 - _scoped refused a missing robot
    return hook


def hooks(session: Session, *, actor: Actor) -> list[HookRow]:
    """Every robot of the actor's scope, townships' first, then schools', masked."""
    by_key = {p.key: p for p in places(session, actor=actor)}
    rows = []
    for hook in session.scalars(select(RobotHook).order_by(RobotHook.id)):
        place = by_key.get(scope_key(hook))
        if place is None or hook.id is None:
            continue
        rows.append(
            HookRow(
                hook.id,
                place,
                Platform(hook.platform),
                mask_webhook(hook.webhook),
                mask_secret(hook.secret),
                hook.enabled,
                hook.last_sent_at,
                hook.last_result,
            )
        )
    order = list(by_key)
    return sorted(rows, key=lambda r: (order.index(r.place.key), r.id))


def hooks_frame(rows: list[HookRow]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "群": r.place.name,
                "类别": r.place.kind_label,
                "平台": r.platform.label,
                "Webhook": r.webhook,
                "加签": r.secret if r.platform is Platform.DINGTALK else "—",
                "状态": "启用" if r.enabled else "已停用",
                "上次发送": r.last_sent_at,
                "上次结果": r.last_result,
            }
            for r in rows
        ],
        columns=["群", "类别", "平台", "状态", "上次发送", "上次结果", "加签", "Webhook"],
    )


def scope_key(hook: RobotHook) -> str:
    """The robot's group as Place.key names it."""
    return f"school:{hook.school_id}" if hook.school_id is not None else f"township:{hook.township_id}"


def _shown(hook: RobotHook) -> dict:
    """What the audit keeps of a robot: its scope, platform and masked address (never the key or secret)."""
    return {
        "scope": scope_key(hook),
        "platform": hook.platform,
        "webhook": mask_webhook(hook.webhook),
        "secret": mask_secret(hook.secret),
        "enabled": hook.enabled,
    }


def _robots_of(session: Session, place: Place) -> list[RobotHook]:
    column = RobotHook.school_id if place.kind is ScopeKind.SCHOOL else RobotHook.township_id
    return list(session.scalars(select(RobotHook).where(column == place.id)))


@unit_of_work
def add_hook(
    session: Session,
    *,
    actor: Actor,
    place: Place,
    platform: Platform,
    webhook: str,
    secret: str | None = None,
) -> RobotHook:
    """Add a robot to a school's or township's group; a refused address is audited and told in words."""
    require(session, actor, Action.ROBOT_MANAGE)
    place = in_scope(session, actor=actor, place=place)
    write_lock(session, f"robots:{place.key}")  # the group's robots, checked for this address, then added
    try:
        url = check_webhook(webhook, platform, allow_hosts=get_settings().notify_allow_hosts)
        key = check_secret(secret, platform)
        if any(same_webhook(url, h.webhook, platform) for h in _robots_of(session, place)):
            raise NotifyError(f"{place.name}的群已有这个机器人(同一 Webhook 地址),不必重复添加")
    except NotifyError as exc:
        audit_refusal(
            session,
            actor,
            action="create",
            entity_type=ENTITY,
            entity_id=None,
            message=str(exc),
            after={"scope": place.key, "platform": platform.value},
        )
        raise
    hook = RobotHook(
        school_id=place.id if place.kind is ScopeKind.SCHOOL else None,
        township_id=place.id if place.kind is ScopeKind.TOWNSHIP else None,
        platform=platform.value,
        webhook=url,
        secret=key,
        created_by=actor.user_id,
    )
    session.add(hook)
    session.flush()
    record(session, actor=actor, action="create", entity_type=ENTITY, entity_id=hook.id, after=_shown(hook))
    session.commit()
    return hook


@unit_of_work
def set_enabled(session: Session, *, actor: Actor, hook_id: int, enabled: bool) -> None:
    """Disable a robot (kept, not sent to) or enable it again."""
    write_lock(session, f"robot_hook:{hook_id}")
    hook = robot(session, actor=actor, hook_id=hook_id)
    before = _shown(hook)
    hook.enabled = enabled
    session.add(hook)
    record(
        session,
        actor=actor,
        action="update",
        entity_type=ENTITY,
        entity_id=hook_id,
        before=before,
        after=_shown(hook),
    )
    session.commit()


@unit_of_work
def delete_hook(session: Session, *, actor: Actor, hook_id: int) -> None:
    """Delete a robot; the audit log keeps what it was (masked)."""
    write_lock(session, f"robot_hook:{hook_id}")
    hook = robot(session, actor=actor, hook_id=hook_id)
    before = _shown(hook)
    session.delete(hook)
    record(session, actor=actor, action="delete", entity_type=ENTITY, entity_id=hook_id, before=before)
    session.commit()
