"""home visits' index by child and date also carries the visit's kind (PostgreSQL)

`ix_home_visit_child_id_visit_date` (child_id, visit_date) becomes (child_id, visit_date) INCLUDE (kind) on
PostgreSQL, so that 概况's visits by month and kind, and the last visit of each followed child, are read from the
index alone, child by child: a county's figures then read that county's visits, not a whole city's (measured by
benchmarks/dashboard.py --city: 家访(按月) in a 10-county city 93 ms → 24 ms, the county alone 27 ms → 17 ms).
SQLite has no INCLUDE: its index is unchanged.

The index is rebuilt in the migration's transaction: writes of home visits wait for it (about a second per
million visits); run `xueji init` for this revision outside term-start hours.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-27 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_home_visit_child_id_visit_date"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index(INDEX, table_name="home_visit")
    op.create_index(INDEX, "home_visit", ["child_id", "visit_date"], postgresql_include=["kind"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index(INDEX, table_name="home_visit")
    op.create_index(INDEX, "home_visit", ["child_id", "visit_date"])
