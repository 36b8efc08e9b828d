"""divisions and schools closed or merged, and the records a merge moved

Townships, villages and schools get closed_on (None: in use) and merged_into_id (the one that took them over).
On SQLite the columns are added with a plain ALTER TABLE ADD COLUMN (the foreign key as a named column
constraint, which SQLite accepts for a column whose default is NULL), not with batch mode: rebuilding these
tables would drop the length CHECKs migration 0013 gave them. The new table record_move carries its length
CHECKs in its CREATE TABLE on SQLite (0013's rule for a later table); PostgreSQL bounds VARCHAR(n) itself.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-26 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("township", "village", "school")
SUBJECTS = ("student", "class", "case", "school", "village")
LENGTHS = {"kind": 20, "reason": 200}


def _add_columns(sqlite: bool) -> None:
    for table in TABLES:
        fk = f"fk_{table}_merged_into_id_{table}"
        if sqlite:
            op.execute(f"ALTER TABLE {table} ADD COLUMN closed_on DATE")
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN merged_into_id INTEGER CONSTRAINT {fk} REFERENCES {table} (id)"
            )
        else:
            op.add_column(table, sa.Column("closed_on", sa.Date(), nullable=True))
            op.add_column(table, sa.Column("merged_into_id", sa.Integer(), nullable=True))
            op.create_foreign_key(fk, table, table, ["merged_into_id"], ["id"])


def _fk(column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=f"fk_record_move_{column}_{target}")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _add_columns(sqlite)
    one_subject = " + ".join(f"CASE WHEN {s}_id IS NULL THEN 0 ELSE 1 END" for s in SUBJECTS)
    bounds = (
        [
            sa.CheckConstraint(f'length("{column}") <= {length}', name=f"ck_record_move_{column}_length")
            for column, length in LENGTHS.items()
        ]
        if sqlite
        else []
    )
    op.create_table(
        "record_move",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=True),
        sa.Column("class_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("village_id", sa.Integer(), nullable=True),
        sa.Column("from_school_id", sa.Integer(), nullable=True),
        sa.Column("to_school_id", sa.Integer(), nullable=True),
        sa.Column("from_class_id", sa.Integer(), nullable=True),
        sa.Column("to_class_id", sa.Integer(), nullable=True),
        sa.Column("from_village_id", sa.Integer(), nullable=True),
        sa.Column("to_village_id", sa.Integer(), nullable=True),
        sa.Column("from_township_id", sa.Integer(), nullable=True),
        sa.Column("to_township_id", sa.Integer(), nullable=True),
        sa.Column("moved_on", sa.Date(), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"({one_subject}) = 1", name="ck_record_move_one_subject"),
        *bounds,
        _fk("student_id", "student"),
        _fk("class_id", "school_class"),
        _fk("case_id", "child_case"),
        _fk("school_id", "school"),
        _fk("village_id", "village"),
        _fk("from_school_id", "school"),
        _fk("to_school_id", "school"),
        _fk("from_class_id", "school_class"),
        _fk("to_class_id", "school_class"),
        _fk("from_village_id", "village"),
        _fk("to_village_id", "village"),
        _fk("from_township_id", "township"),
        _fk("to_township_id", "township"),
        _fk("by_user_id", "app_user"),
        sa.PrimaryKeyConstraint("id", name="pk_record_move"),
    )
    for column in ("student_id", "class_id", "case_id", "school_id", "from_school_id"):
        op.create_index(f"ix_record_move_{column}", "record_move", [column], unique=False)


def downgrade() -> None:
    op.drop_table("record_move")
    for table in TABLES:
        if op.get_bind().dialect.name == "sqlite":
            # SQLite 3.35+ drops a column that no index or table constraint names (a column constraint is fine)
            op.execute(f"ALTER TABLE {table} DROP COLUMN merged_into_id")
            op.execute(f"ALTER TABLE {table} DROP COLUMN closed_on")
        else:
            op.drop_constraint(f"fk_{table}_merged_into_id_{table}", table, type_="foreignkey")
            op.drop_column(table, "merged_into_id")
            op.drop_column(table, "closed_on")
