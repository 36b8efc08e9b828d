"""accounts requested in a batch (账号导入) and the classes they teach

role_grant gets batch (the requests of one 账号导入 file) and phone (the new account's 手机号), app_user gets phone,
and the new table role_grant_class holds the classes each batch request's teacher will teach, assigned on
approval. On SQLite the columns are added with a plain ALTER TABLE ADD COLUMN carrying its length CHECK as a column
constraint, not with batch mode (rebuilding these tables would drop the CHECKs migration 0013 gave them), and the
new table carries its length CHECK in its CREATE TABLE; PostgreSQL bounds VARCHAR(n) itself.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-26 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (("app_user", "phone", 20), ("role_grant", "batch", 32), ("role_grant", "phone", 20))


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, column, length in COLUMNS:
        if sqlite:
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN {column} VARCHAR({length}) "
                f'CONSTRAINT ck_{table}_{column}_length CHECK (length("{column}") <= {length})'
            )
        else:
            op.add_column(table, sa.Column(column, sqlmodel.sql.sqltypes.AutoString(length=length)))
    op.create_index("ix_role_grant_batch", "role_grant", ["batch"], unique=False)
    bounds = (
        [sa.CheckConstraint('length("class_code") <= 7', name="ck_role_grant_class_class_code_length")]
        if sqlite
        else []
    )
    op.create_table(
        "role_grant_class",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("class_code", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("head_teacher", sa.Boolean(), nullable=False),
        *bounds,
        sa.ForeignKeyConstraint(
            ["grant_id"], ["role_grant.id"], name="fk_role_grant_class_grant_id_role_grant"
        ),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], name="fk_role_grant_class_school_id_school"),
        sa.PrimaryKeyConstraint("id", name="pk_role_grant_class"),
    )
    op.create_index("ix_role_grant_class_grant_id", "role_grant_class", ["grant_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_role_grant_class_grant_id", table_name="role_grant_class")
    op.drop_table("role_grant_class")
    op.drop_index("ix_role_grant_batch", table_name="role_grant")
    for table, column, _ in reversed(COLUMNS):
        # SQLite 3.35+ drops a column that no index or table constraint names (a column constraint is fine)
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
