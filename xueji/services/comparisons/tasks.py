"""Verification tasks (owned by helper D; this is the contract the comparison calls)."""

from __future__ import annotations

from sqlmodel import Session

from xueji.auth import Actor


def sync_tasks(session: Session, *, actor: Actor, county_id: int) -> dict[str, int]:
    """Open a task for each ledger child that needs one, close those that no longer do; the caller commits."""
    return {}
