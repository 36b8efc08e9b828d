"""separation of duties, role grants, one-time password expiry

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 00:30:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_table(
        "role_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=50), nullable=False),
        sa.Column("display_name", sa.String(length=50), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("scope_kind", sa.String(length=20), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=True),
        sa.Column("township_id", sa.Integer(), nullable=True),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["county_id"], ["county.id"], name=op.f("fk_role_grant_county_id_county")),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["app_user.id"], name=op.f("fk_role_grant_decided_by_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["app_user.id"], name=op.f("fk_role_grant_requested_by_app_user")
        ),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], name=op.f("fk_role_grant_school_id_school")),
        sa.ForeignKeyConstraint(
            ["township_id"], ["township.id"], name=op.f("fk_role_grant_township_id_township")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_role_grant_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_grant")),
    )
    with op.batch_alter_table("role_grant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_role_grant_user_id"), ["user_id"], unique=False)
        batch_op.create_index("ix_role_grant_status_requested_at", ["status", "requested_at"], unique=False)
        batch_op.create_index(
            "uq_role_grant_pending_username",
            ["username"],
            unique=True,
            sqlite_where=PENDING,
            postgresql_where=PENDING,
        )

    # One-time passwords now expire, counted from when they were issued: give those already out (issued before
    # their time was kept) a full period from now rather than refusing them at once.
    app_user = sa.table(
        "app_user",
        sa.column("must_change_password", sa.Boolean()),
        sa.column("password_changed_at", sa.DateTime(timezone=True)),
    )
    op.execute(
        app_user.update()
        .where(app_user.c.must_change_password == sa.true(), app_user.c.password_changed_at.is_(None))
        .values(password_changed_at=datetime.now(UTC))
    )


def downgrade() -> None:
    with op.batch_alter_table("role_grant", schema=None) as batch_op:
        batch_op.drop_index("uq_role_grant_pending_username", sqlite_where=PENDING, postgresql_where=PENDING)
        batch_op.drop_index("ix_role_grant_status_requested_at")
        batch_op.drop_index(batch_op.f("ix_role_grant_user_id"))
    op.drop_table("role_grant")
