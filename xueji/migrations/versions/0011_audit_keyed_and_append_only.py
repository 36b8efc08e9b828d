"""audit chain keyed, append-only, client address and channel

Existing entries stay as they are (key_id NULL: the unkeyed SHA-256 chain, still verified as such); the first
entry written with the key chains to their head, and `xueji init` writes that entry at once (audit_seal).
Triggers then refuse UPDATE and DELETE on audit_log (and TRUNCATE on PostgreSQL), whoever connects.

A later migration that rebuilds audit_log on SQLite (batch "move and copy") drops these triggers with the old
table: it must create them again (tests/integration/test_audit_tamper.py checks them at head).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSAL = "audit_log is append-only: entries cannot be changed or removed"

SQLITE_TRIGGERS = {
    "audit_log_no_update": "BEFORE UPDATE",
    "audit_log_no_delete": "BEFORE DELETE",
}

POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{REFUSAL} (%)', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$
"""

POSTGRES_TRIGGERS = {
    "audit_log_no_update_delete": "BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW",
    "audit_log_no_truncate": "BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT",
}


def upgrade() -> None:
    # Plain ADD COLUMN on both databases: no table rebuild, so no row of the log is rewritten.
    op.add_column("audit_log", sa.Column("key_id", sa.String(length=16), nullable=True))
    op.add_column("audit_log", sa.Column("channel", sa.String(length=10), nullable=True))
    op.add_column("audit_log", sa.Column("client_addr", sa.String(length=45), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        for name, when in SQLITE_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {name} {when} ON audit_log BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
            )
    else:
        op.execute(POSTGRES_FUNCTION)
        for name, when in POSTGRES_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION audit_log_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for name in POSTGRES_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    # Dropping a column rebuilds the table on SQLite (a DELETE-free copy): the triggers are gone by then.
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.drop_column("client_addr")
        batch_op.drop_column("channel")
        batch_op.drop_column("key_id")
