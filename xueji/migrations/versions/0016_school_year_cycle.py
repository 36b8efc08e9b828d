"""the school year's cycle: intake and transfers from outside, transfer controls, dated leave, early rollover

status_change gets source_county and source_school (a 外县转入 or a 升学 from a school outside the system),
placement_reason (a placement below the record's grade, or a proof still to come) and outside_window (a transfer
after the term's transfer window, decided by the county); term_report gets leave_from and leave_until (请假 with
dates); rollover gets early_reason (run before the year's last term ended). On SQLite each column is a plain
ALTER TABLE ADD COLUMN carrying its length CHECK as a column constraint (as in 0015); PostgreSQL bounds
VARCHAR(n) itself.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT = (
    ("status_change", "source_county", 50),
    ("status_change", "source_school", 100),
    ("status_change", "placement_reason", 200),
    ("rollover", "early_reason", 200),
)
DATES = (("term_report", "leave_from"), ("term_report", "leave_until"))


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, column, length in TEXT:
        if sqlite:
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN {column} VARCHAR({length}) "
                f'CONSTRAINT ck_{table}_{column}_length CHECK (length("{column}") <= {length})'
            )
        else:
            op.add_column(table, sa.Column(column, sqlmodel.sql.sqltypes.AutoString(length=length)))
    for table, column in DATES:
        op.add_column(table, sa.Column(column, sa.Date(), nullable=True))
    op.add_column(
        "status_change",
        sa.Column("outside_window", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("status_change", "outside_window")
    for table, column in DATES:
        op.drop_column(table, column)
    for table, column, _ in TEXT:
        op.drop_column(table, column)
