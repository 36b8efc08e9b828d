"""Drafts: a half-filled 家访, 送教 or 入户登记 form kept per user and form, so that a reload, a new tab or a phone
coming back from another app finds it again. Only its owner ever reads it; it is removed once the form is saved.
Drafts are not audited (nothing is written to a record until the form is saved, and that save is). A draft left
KEEP_DAYS is stale: never offered again, and removed at the next save of any draft (a child's details do not
linger in forms nobody finished)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from xueji.auth import Actor
from xueji.clock import now
from xueji.db import unit_of_work
from xueji.models import FormDraft

FORMS = frozenset({"visit", "home_visit", "household"})  # 家访, 送教登记, 入户登记
KEEP_DAYS = 14
MAX_PAYLOAD = 20_000  # characters of JSON, the column's bound: a form's text fields fit many times over


@dataclass(frozen=True)
class Draft:
    """A user's kept values of one form, and when they were last kept."""

    values: dict[str, Any]
    updated_at: datetime


def _owner(actor: Actor, form: str) -> int | None:
    if form not in FORMS:
        raise ValueError(f"unknown form {form!r}")
    return actor.user_id


def _stale(updated_at: datetime) -> bool:
    at = updated_at if updated_at.tzinfo else updated_at.replace(tzinfo=now().tzinfo)
    return now() - at > timedelta(days=KEEP_DAYS)


def load_draft(session: Session, *, actor: Actor, form: str) -> Draft | None:
    """The actor's own draft of the form, or None (also for one that can no longer be read)."""
    user_id = _owner(actor, form)
    if user_id is None:
        return None
    row = session.scalar(select(FormDraft).where(FormDraft.user_id == user_id, FormDraft.form == form))
    if row is None or _stale(row.updated_at):
        return None
    try:
        values = json.loads(row.payload)
    except ValueError:
        return None
    return Draft(values, row.updated_at) if isinstance(values, dict) else None


@unit_of_work
def save_draft(session: Session, *, actor: Actor, form: str, values: Mapping[str, Any]) -> bool:
    """Keep the values (plain JSON values) as the actor's draft of the form, replacing the one before. False,
    and nothing kept, when they are too large to keep or there is no account to keep them for."""
    user_id = _owner(actor, form)
    payload = json.dumps(dict(values), ensure_ascii=False, sort_keys=True)
    if user_id is None or len(payload) > MAX_PAYLOAD:
        return False
    session.execute(delete(FormDraft).where(FormDraft.updated_at < now() - timedelta(days=KEEP_DAYS)))
    for _ in range(
        2
    ):  # a first draft saved by two tabs at once: the unique key lets one in, the other updates
        row = session.scalar(select(FormDraft).where(FormDraft.user_id == user_id, FormDraft.form == form))
        if row is None:
            row = FormDraft(user_id=user_id, form=form, payload=payload)
        row.payload, row.updated_at = payload, now()
        session.add(row)
        try:
            session.commit()
            return True
        except IntegrityError:
            session.rollback()
    return False


@unit_of_work
def discard_draft(session: Session, *, actor: Actor, form: str) -> None:
    """Remove the actor's draft of the form (after the form is saved, or when the user drops it)."""
    user_id = _owner(actor, form)
    if user_id is None:
        return
    session.execute(delete(FormDraft).where(FormDraft.user_id == user_id, FormDraft.form == form))
    session.commit()
