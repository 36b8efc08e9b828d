"""sessions that survive a reload, and drafts of long forms

web_session: the server side of the sign-in cookie (the token's SHA-256, the user, when it began, the last
activity, when and why it ended). form_draft: one half-filled form per user and form (家访, 送教, 入户登记).
On SQLite each table carries its length CHECKs in its CREATE TABLE (as 0015's role_grant_class); PostgreSQL
bounds VARCHAR(n) itself.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-26 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(name: str, length: int, **kwargs: object) -> sa.Column:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), **kwargs)  # type: ignore[arg-type]


def _bounds(table: str, *columns: tuple[str, int]) -> list[sa.CheckConstraint]:
    if op.get_bind().dialect.name != "sqlite":
        return []
    return [
        sa.CheckConstraint(f'length("{column}") <= {length}', name=f"ck_{table}_{column}_length")
        for column, length in columns
    ]


def upgrade() -> None:
    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("token_hash", 64, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        _text("end_reason", 100, nullable=True),
        _text("client_addr", 45, nullable=True),
        *_bounds("web_session", ("token_hash", 64), ("end_reason", 100), ("client_addr", 45)),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_web_session_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_session_token_hash")),
    )
    op.create_index(op.f("ix_web_session_user_id"), "web_session", ["user_id"])
    op.create_table(
        "form_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _text("form", 40, nullable=False),
        _text("payload", 20000, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        *_bounds("form_draft", ("form", 40), ("payload", 20000)),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_form_draft_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_draft")),
        sa.UniqueConstraint("user_id", "form", name=op.f("uq_form_draft_user_id")),
    )


def downgrade() -> None:
    op.drop_table("form_draft")
    op.drop_index(op.f("ix_web_session_user_id"), table_name="web_session")
    op.drop_table("web_session")
