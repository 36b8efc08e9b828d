"""The return ladder, official notices, 四个一 monthly reports and group robots

ladder_step: each step of an out-of-school case's return ladder (school and family, the township's written order,
the county's measures, the return, the follow-ups, the 销号 request), one open step per case. notice: the
documents generated for a case, with the township's 文号 sequence and the file as generated. monthly_report: each
school's submitted 月报 per month, a frozen copy in versions. robot_hook: a school's or township's WeCom/DingTalk
group robot. job_lease: the one sender of a scheduled job among several replicas.
On SQLite each bounded text column carries its length CHECK in its CREATE TABLE (as 0017 and 0018).

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-26 16:29:17.441926
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _create(table: str, *items: sa.schema.SchemaItem) -> None:
    """op.create_table, with a length CHECK per bounded text column on SQLite."""
    checks = []
    if op.get_bind().dialect.name == "sqlite":
        for c in items:
            length = getattr(c.type, "length", None) if isinstance(c, sa.Column) else None
            if isinstance(length, int) and length > 0:
                checks.append(
                    sa.CheckConstraint(f'length("{c.name}") <= {length}', name=f"ck_{table}_{c.name}_length")
                )
    op.create_table(table, *items, *checks)


def upgrade() -> None:
    _create(
        "job_lease",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("holder", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_lease")),
    )
    _create(
        "monthly_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("month", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("correction_reason", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("submitted_by", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_monthly_report_school_id_school")
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by"], ["app_user.id"], name=op.f("fk_monthly_report_submitted_by_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monthly_report")),
        sa.UniqueConstraint("school_id", "month", "version", name="uq_monthly_report_school_id"),
    )
    _create(
        "robot_hook",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("township_id", sa.Integer(), nullable=True),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("webhook", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("secret", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_result", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.CheckConstraint(
            "(school_id IS NULL) <> (township_id IS NULL)", name=op.f("ck_robot_hook_one_scope")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["app_user.id"], name=op.f("fk_robot_hook_created_by_app_user")
        ),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], name=op.f("fk_robot_hook_school_id_school")),
        sa.ForeignKeyConstraint(
            ["township_id"], ["township.id"], name=op.f("fk_robot_hook_township_id_township")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_robot_hook")),
    )
    with op.batch_alter_table("robot_hook", schema=None) as batch_op:
        batch_op.create_index(
            "ix_robot_hook_school_id_township_id", ["school_id", "township_id"], unique=False
        )

    _create(
        "ladder_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("step", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("ended_by", sa.Integer(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("served_on", sa.Date(), nullable=True),
        sa.Column("served_to", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("comply_by", sa.Date(), nullable=True),
        sa.Column("measure", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("in_school", sa.Boolean(), nullable=True),
        sa.Column("status_change_id", sa.Integer(), nullable=True),
        sa.Column("close_reason", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["child_case.id"], name=op.f("fk_ladder_step_case_id_child_case")
        ),
        sa.ForeignKeyConstraint(["ended_by"], ["app_user.id"], name=op.f("fk_ladder_step_ended_by_app_user")),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["app_user.id"], name=op.f("fk_ladder_step_requested_by_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["status_change_id"],
            ["status_change.id"],
            name=op.f("fk_ladder_step_status_change_id_status_change"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ladder_step")),
    )
    with op.batch_alter_table("ladder_step", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ladder_step_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_ladder_step_state_due_on", ["state", "due_on"], unique=False)
        batch_op.create_index(
            "uq_ladder_step_open",
            ["case_id"],
            unique=True,
            sqlite_where=sa.text("state = 'open'"),
            postgresql_where=sa.text("state = 'open'"),
        )

    _create(
        "notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.Integer(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("township_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=True),
        sa.Column("template", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["child_case.id"], name=op.f("fk_notice_case_id_child_case")),
        sa.ForeignKeyConstraint(["issued_by"], ["app_user.id"], name=op.f("fk_notice_issued_by_app_user")),
        sa.ForeignKeyConstraint(["step_id"], ["ladder_step.id"], name=op.f("fk_notice_step_id_ladder_step")),
        sa.ForeignKeyConstraint(
            ["township_id"], ["township.id"], name=op.f("fk_notice_township_id_township")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice")),
        sa.UniqueConstraint("township_id", "year", "seq", name="uq_notice_township_id"),
    )
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notice_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notice_case_id"))

    op.drop_table("notice")
    with op.batch_alter_table("ladder_step", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_ladder_step_open",
            sqlite_where=sa.text("state = 'open'"),
            postgresql_where=sa.text("state = 'open'"),
        )
        batch_op.drop_index("ix_ladder_step_state_due_on")
        batch_op.drop_index(batch_op.f("ix_ladder_step_case_id"))

    op.drop_table("ladder_step")
    with op.batch_alter_table("robot_hook", schema=None) as batch_op:
        batch_op.drop_index("ix_robot_hook_school_id_township_id")

    op.drop_table("robot_hook")
    op.drop_table("monthly_report")
    op.drop_table("job_lease")
