"""audit log sealed off the write path: one chain per county, sealed after the write

A writer now inserts its entry with `mac` (the keyed HMAC of its content, chain included) and no hash, without
waiting for anyone; the sealer (xueji.audit.sealer) then gives each entry its place in its county's chain
(`chain`, `seq`), links it (`prev_hash`) and hashes it (`hash`, `sealed_at`). `audit_chain` holds each chain's
head, written by the sealer only. Entries written before this revision keep mac NULL: they are the old global
chain, verified as before, and the first sealed entry of every chain links to its end (the 'audit_tail' setting).

The append-only triggers are replaced so that the one UPDATE allowed is sealing: an entry without a hash gets
seq, prev_hash, hash and sealed_at, nothing else changes; every other UPDATE, every DELETE (and TRUNCATE on
PostgreSQL) is still refused. On PostgreSQL the comparison covers every column (the row as jsonb less the four
sealing columns), so a column added later is covered too. On SQLite the trigger names the columns: a later
migration adding a column to audit_log must recreate it (tests/integration/test_audit_tamper.py tries an update
of every column at head). audit_chain refuses DELETE, and an UPDATE that moves a head back.

SQLite cannot drop a NOT NULL in place: audit_log is rebuilt (create, copy, drop, rename; its length CHECKs and
the bounded-text triggers of 0013 kept), in the migration's transaction. PostgreSQL: ADD COLUMN with a constant
default and DROP NOT NULL rewrite no row.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-27 09:00:00
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSAL = "audit_log is append-only: entries cannot be changed or removed"
SEAL_REFUSAL = "audit_log is append-only: an entry can only be sealed once, nothing else about it changes"
CHAIN_REFUSAL = "audit_chain only moves forward: the head of a chain cannot be removed or moved back"
SEALING = ("seq", "prev_hash", "hash", "sealed_at")

# Every column of audit_log at this revision but the sealing ones: on SQLite the seal trigger compares them.
KEPT = (
    "id", "at", "user_id", "username", "role", "scope", "action", "entity_type", "entity_id", "outcome",
    "before", "after", "detail", "key_id", "channel", "client_addr", "chain", "mac",
)  # fmt: skip

NEW_COLUMNS_SQLITE = "chain INTEGER DEFAULT 0 NOT NULL, mac VARCHAR(64), seq BIGINT, sealed_at DATETIME, \n\t"


def _sqlite_seal_trigger() -> str:
    same = " AND ".join(f'NEW."{c}" IS OLD."{c}"' for c in KEPT)
    return (
        "CREATE TRIGGER audit_log_seal_only BEFORE UPDATE ON audit_log "
        f"WHEN NOT (OLD.hash IS NULL AND NEW.hash IS NOT NULL AND NEW.seq IS NOT NULL AND {same}) "
        f"BEGIN SELECT RAISE(ABORT, '{SEAL_REFUSAL}'); END"
    )


SQLITE_CHAIN_TRIGGERS = (
    "CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain "
    f"BEGIN SELECT RAISE(ABORT, '{CHAIN_REFUSAL}'); END",
    "CREATE TRIGGER audit_chain_forward_only BEFORE UPDATE ON audit_chain "
    "WHEN NOT (NEW.chain IS OLD.chain AND NEW.seq > OLD.seq) "
    f"BEGIN SELECT RAISE(ABORT, '{CHAIN_REFUSAL}'); END",
)

POSTGRES_SEAL_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit_log_seal_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.hash IS NULL AND NEW.hash IS NOT NULL AND NEW.seq IS NOT NULL
       AND (to_jsonb(NEW) - ARRAY{list(SEALING)!r}) = (to_jsonb(OLD) - ARRAY{list(SEALING)!r}) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '{SEAL_REFUSAL} (%)', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$
"""

POSTGRES_CHAIN_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit_chain_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.chain = OLD.chain AND NEW.seq > OLD.seq THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '{CHAIN_REFUSAL} (%)', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def _create_chain_table() -> None:
    op.create_table(
        "audit_chain",
        sa.Column("chain", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_audit_chain")),
        *(
            [sa.CheckConstraint('length("hash") <= 64', name="ck_audit_chain_hash_length")]
            if op.get_bind().dialect.name == "sqlite"
            else []
        ),
    )


def _sqlite_rebuild(bind: sa.Connection) -> None:
    """audit_log again with hash nullable and the four new columns; its rows, CHECKs and 0013's triggers kept."""
    create = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'audit_log'"
    ).scalar()
    saved = [
        sql
        for name, sql in bind.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'audit_log' AND type IN ('index', 'trigger') "
            "AND sql IS NOT NULL"
        )
        if not name.startswith("audit_log_no_")
    ]
    old_columns = [c["name"] for c in sa.inspect(bind).get_columns("audit_log")]
    body, hash_column = re.subn(r"\bhash VARCHAR\(64\) NOT NULL", "hash VARCHAR(64)", create)
    body, columns = re.subn(r"(CONSTRAINT pk_audit_log PRIMARY KEY)", NEW_COLUMNS_SQLITE + r"\1", body)
    if hash_column != 1 or columns != 1:
        raise RuntimeError(f"audit_log's schema is not the one 0021 expects: {create}")
    head, _, rest = body.rpartition(")")
    constraints = ",\n\tCONSTRAINT uq_audit_log_chain_seq UNIQUE (chain, seq)"
    if "ck_audit_log_hash_length" in create:  # 0013 bounded the table with CHECKs (not with triggers)
        constraints += ',\n\tCONSTRAINT ck_audit_log_mac_length CHECK (length("mac") <= 64)'
    head = re.sub(r'^CREATE TABLE\s+"?audit_log"?', 'CREATE TABLE "_audit_log_0021"', head.rstrip())
    bind.exec_driver_sql(f"{head}{constraints}\n){rest}")
    listed = ", ".join(f'"{c}"' for c in old_columns)
    bind.exec_driver_sql(f'INSERT INTO "_audit_log_0021" ({listed}) SELECT {listed} FROM audit_log')  # noqa: S608
    bind.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_update")
    bind.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_delete")
    bind.exec_driver_sql("DROP TABLE audit_log")
    bind.exec_driver_sql('ALTER TABLE "_audit_log_0021" RENAME TO audit_log')
    for sql in saved:
        bind.exec_driver_sql(sql)


def upgrade() -> None:
    bind = op.get_bind()
    # The old global chain's end, '' when it has no entry: verify then refuses entries of the old chain that
    # were not there (and every county's chain starts from this value).
    op.execute(
        "INSERT INTO app_setting (key, value) SELECT 'audit_tail', '' WHERE NOT EXISTS "
        "(SELECT 1 FROM app_setting WHERE key = 'audit_tail')"
    )
    _create_chain_table()
    if bind.dialect.name == "sqlite":
        _sqlite_rebuild(bind)
        op.execute(_sqlite_seal_trigger())
        op.execute(
            f"CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
        )
        for sql in SQLITE_CHAIN_TRIGGERS:
            op.execute(sql)
    else:
        op.add_column("audit_log", sa.Column("chain", sa.Integer(), server_default="0", nullable=False))
        op.add_column("audit_log", sa.Column("mac", sa.String(length=64), nullable=True))
        op.add_column("audit_log", sa.Column("seq", sa.BigInteger(), nullable=True))
        op.add_column("audit_log", sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=True))
        op.alter_column("audit_log", "hash", existing_type=sa.String(length=64), nullable=True)
        op.create_unique_constraint("uq_audit_log_chain_seq", "audit_log", ["chain", "seq"])
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update_delete ON audit_log")
        op.execute(POSTGRES_SEAL_FUNCTION)
        op.execute(
            "CREATE TRIGGER audit_log_seal_only BEFORE UPDATE ON audit_log FOR EACH ROW "
            "EXECUTE FUNCTION audit_log_seal_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log FOR EACH ROW "
            "EXECUTE FUNCTION audit_log_append_only()"
        )  # audit_log_no_truncate (0011) stays
        op.execute(POSTGRES_CHAIN_FUNCTION)
        op.execute(
            "CREATE TRIGGER audit_chain_forward_only BEFORE UPDATE OR DELETE ON audit_chain FOR EACH ROW "
            "EXECUTE FUNCTION audit_chain_forward_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain FOR EACH STATEMENT "
            "EXECUTE FUNCTION audit_chain_forward_only()"
        )
    op.create_index(
        "ix_audit_log_unsealed",
        "audit_log",
        ["id"],
        unique=False,
        sqlite_where=sa.text("hash IS NULL"),
        postgresql_where=sa.text("hash IS NULL"),
    )


def downgrade() -> None:
    """Only a log that was never sealed into chains goes back (entries with a mac would not verify at 0020)."""
    bind = op.get_bind()
    if bind.exec_driver_sql("SELECT count(*) FROM audit_log WHERE mac IS NOT NULL").scalar():
        raise RuntimeError("audit_log holds entries sealed into county chains: 0021 cannot be undone")
    op.drop_index("ix_audit_log_unsealed", table_name="audit_log")
    if bind.dialect.name == "sqlite":
        for name in ("audit_log_seal_only", "audit_log_no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        with op.batch_alter_table("audit_log") as batch_op:
            batch_op.drop_constraint("uq_audit_log_chain_seq", type_="unique")
            for column in ("sealed_at", "seq", "mac", "chain"):
                batch_op.drop_column(column)
            batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        for name, when in (
            ("audit_log_no_update", "BEFORE UPDATE"),
            ("audit_log_no_delete", "BEFORE DELETE"),
        ):
            op.execute(
                f"CREATE TRIGGER {name} {when} ON audit_log BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
            )
    else:
        for name in ("audit_log_seal_only", "audit_log_no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_seal_only()")
        op.drop_constraint("uq_audit_log_chain_seq", "audit_log", type_="unique")
        for column in ("sealed_at", "seq", "mac", "chain"):
            op.drop_column("audit_log", column)
        op.alter_column("audit_log", "hash", existing_type=sa.String(length=64), nullable=False)
        op.execute(
            "CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW "
            "EXECUTE FUNCTION audit_log_append_only()"
        )
    op.drop_table("audit_chain")
    if bind.dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_chain_forward_only()")
