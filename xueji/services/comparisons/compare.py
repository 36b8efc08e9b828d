"""三比对 for a county (owned by helper C; this is the contract the others call)."""

from __future__ import annotations

from sqlmodel import Session

from xueji.auth import Actor


def run_comparison_in(session: Session, *, actor: Actor, county_id: int) -> dict[str, int]:
    """Compare the county's lists in effect with the registry and rebuild its ledger; the caller holds the
    transaction (and the audit lock) and commits. Returns counts by outcome."""
    return {}


def refresh_person(session: Session, *, actor: Actor, county_id: int, person_key: str) -> None:
    """Recompute one listed child's ledger rows and tasks after a match decision; the caller commits."""
