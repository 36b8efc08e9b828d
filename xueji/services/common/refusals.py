"""A refused write is audited in a transaction of its own, so that the entry outlives the caller's rollback (as
access.deny does for a permission); the caller then raises its own Chinese error."""

from __future__ import annotations

from sqlmodel import Session

from xueji.audit import record
from xueji.auth import Actor
from xueji.standby import writable_bind


def audit_refusal(
    session: Session,
    actor: Actor,
    *,
    action: str,
    entity_type: str,
    entity_id: object,
    message: str,
    after: dict | None = None,
) -> None:
    """Record the refusal (outcome "refused", the message as detail) after rolling back the caller's work."""
    session.rollback()  # on SQLite the caller's write lock would block the audit's own transaction
    with Session(writable_bind(session)) as audit_session:
        record(
            audit_session,
            actor=actor,
            action=action,
            outcome="refused",
            entity_type=entity_type,
            entity_id=entity_id,
            after=after,
            detail=message[:500],
        )
        audit_session.commit()
