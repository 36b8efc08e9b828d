"""Many users writing at once (benchmarks/load.py, smaller): every acknowledged write is stored exactly once
with one audit entry, racing approvers never both win, and no database error ("database is locked") reaches a
user, on SQLite (WAL) and PostgreSQL."""

from __future__ import annotations

import pytest

from benchmarks.load import load_test

pytestmark = pytest.mark.usefixtures("fixed_today")


def test_twenty_users_at_once_lose_nothing_and_write_nothing_twice(demo_engine):
    base, loaded, problems = load_test(demo_engine, users=20, ops=6)
    assert problems == []
    assert base.writes > 0
    # 16 visit loggers × 6 visits + 2 importers × 6 sheets × 5 rows all acknowledged; approvals race.
    assert loaded.writes >= 16 * 6 + 2 * 6 * 5
    assert loaded.refused <= 2 * 6  # only approvers can be refused (someone else decided first)
