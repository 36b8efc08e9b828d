"""四查三比对: other departments' lists and what the comparison makes of them

dept_list / dept_person: each version of a county's 户籍, 民政, 残联 and 乡村振兴 list and its rows.
match_candidate / match_decision: registry records that may be a listed child, and the decisions on them,
remembered by person_key across versions. comparison_run / school_age_child: each run of the comparison and the
ledger of all school-age children it rebuilds. verification_task: children to verify (or assess for 送教上门).
child_group: the special groups a child belongs to by a department's list. student gains indexes on birth_date
and name, which the candidate search looks records up by.
On SQLite each bounded text column carries its length CHECK in its CREATE TABLE (as 0017); PostgreSQL bounds
VARCHAR(n) itself.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-26 13:02:47.729744
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
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
    with op.batch_alter_table("student", schema=None) as batch_op:  # the candidate search's lookups
        batch_op.create_index("ix_student_birth_date", ["birth_date"], unique=False)
        batch_op.create_index("ix_student_name", ["name"], unique=False)

    _create(
        "comparison_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.Column("reference_date", sa.Date(), nullable=False),
        sa.Column("lists", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("ran_by", sa.Integer(), nullable=True),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["county_id"], ["county.id"], name=op.f("fk_comparison_run_county_id_county")
        ),
        sa.ForeignKeyConstraint(["ran_by"], ["app_user.id"], name=op.f("fk_comparison_run_ran_by_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comparison_run")),
    )
    with op.batch_alter_table("comparison_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_comparison_run_county_id"), ["county_id"], unique=False)

    _create(
        "dept_list",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("list_date", sa.Date(), nullable=False),
        sa.Column("file_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.Integer(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["county_id"], ["county.id"], name=op.f("fk_dept_list_county_id_county")),
        sa.ForeignKeyConstraint(
            ["imported_by"], ["app_user.id"], name=op.f("fk_dept_list_imported_by_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dept_list")),
        sa.UniqueConstraint("county_id", "kind", "version", name="uq_dept_list_county_id"),
    )
    with op.batch_alter_table("dept_list", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dept_list_county_id"), ["county_id"], unique=False)

    _create(
        "dept_person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("person_key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("sex", sqlmodel.sql.sqltypes.AutoString(length=1), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("id_number", sqlmodel.sql.sqltypes.AutoString(length=18), nullable=True),
        sa.Column("village_id", sa.Integer(), nullable=True),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("guardian_name", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("guardian_phone", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["list_id"], ["dept_list.id"], name=op.f("fk_dept_person_list_id_dept_list")),
        sa.ForeignKeyConstraint(
            ["village_id"], ["village.id"], name=op.f("fk_dept_person_village_id_village")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dept_person")),
    )
    with op.batch_alter_table("dept_person", schema=None) as batch_op:
        batch_op.create_index("ix_dept_person_birth_date", ["birth_date"], unique=False)
        batch_op.create_index("ix_dept_person_id_number", ["id_number"], unique=False)
        batch_op.create_index("ix_dept_person_list_id_person_key", ["list_id", "person_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_dept_person_village_id"), ["village_id"], unique=False)

    _create(
        "match_candidate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["dept_person.id"], name=op.f("fk_match_candidate_person_id_dept_person")
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["student.id"], name=op.f("fk_match_candidate_student_id_student")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_candidate")),
        sa.UniqueConstraint("person_id", "student_id", name="uq_match_candidate_person_id"),
    )
    with op.batch_alter_table("match_candidate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_match_candidate_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_match_candidate_student_id"), ["student_id"], unique=False)

    _create(
        "match_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.Column("person_key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["county_id"], ["county.id"], name=op.f("fk_match_decision_county_id_county")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["app_user.id"], name=op.f("fk_match_decision_decided_by_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["student.id"], name=op.f("fk_match_decision_student_id_student")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_decision")),
        sa.UniqueConstraint("county_id", "person_key", "student_id", name="uq_match_decision_county_id"),
    )
    with op.batch_alter_table("match_decision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_match_decision_person_key"), ["person_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_match_decision_student_id"), ["student_id"], unique=False)

    _create(
        "school_age_child",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.Column("township_id", sa.Integer(), nullable=True),
        sa.Column("village_id", sa.Integer(), nullable=True),
        sa.Column("person_key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("sex", sqlmodel.sql.sqltypes.AutoString(length=1), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("id_number", sqlmodel.sql.sqltypes.AutoString(length=18), nullable=True),
        sa.Column("student_id", sa.Integer(), nullable=True),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("sources", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("standing", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
        sa.Column("priority", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("groups", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["county_id"], ["county.id"], name=op.f("fk_school_age_child_county_id_county")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_school_age_child_school_id_school")
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["student.id"], name=op.f("fk_school_age_child_student_id_student")
        ),
        sa.ForeignKeyConstraint(
            ["township_id"], ["township.id"], name=op.f("fk_school_age_child_township_id_township")
        ),
        sa.ForeignKeyConstraint(
            ["village_id"], ["village.id"], name=op.f("fk_school_age_child_village_id_village")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_age_child")),
    )
    with op.batch_alter_table("school_age_child", schema=None) as batch_op:
        batch_op.create_index("ix_school_age_child_outcome", ["county_id", "outcome"], unique=False)
        batch_op.create_index("ix_school_age_child_id_number", ["county_id", "id_number"], unique=False)
        batch_op.create_index("ix_school_age_child_person_key", ["county_id", "person_key"], unique=False)
        batch_op.create_index(
            "ix_school_age_child_place", ["county_id", "township_id", "village_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_school_age_child_student_id"), ["student_id"], unique=False)

    _create(
        "child_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"], name=op.f("fk_child_group_child_id_child")),
        sa.ForeignKeyConstraint(["list_id"], ["dept_list.id"], name=op.f("fk_child_group_list_id_dept_list")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_child_group")),
        sa.UniqueConstraint("child_id", "category", "source", name="uq_child_group_child_id"),
    )
    with op.batch_alter_table("child_group", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_child_group_child_id"), ["child_id"], unique=False)

    _create(
        "verification_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("person_key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("sex", sqlmodel.sql.sqltypes.AutoString(length=1), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("id_number", sqlmodel.sql.sqltypes.AutoString(length=18), nullable=True),
        sa.Column("township_id", sa.Integer(), nullable=False),
        sa.Column("village_id", sa.Integer(), nullable=True),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("guardian_name", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("guardian_phone", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
        sa.Column("outcome_detail", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("closed_reason", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("child_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["child_case.id"], name=op.f("fk_verification_task_case_id_child_case")
        ),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"], name=op.f("fk_verification_task_child_id_child")),
        sa.ForeignKeyConstraint(
            ["county_id"], ["county.id"], name=op.f("fk_verification_task_county_id_county")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["dept_person.id"], name=op.f("fk_verification_task_person_id_dept_person")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["app_user.id"], name=op.f("fk_verification_task_recorded_by_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["township_id"], ["township.id"], name=op.f("fk_verification_task_township_id_township")
        ),
        sa.ForeignKeyConstraint(
            ["village_id"], ["village.id"], name=op.f("fk_verification_task_village_id_village")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_task")),
    )
    with op.batch_alter_table("verification_task", schema=None) as batch_op:
        batch_op.create_index(
            "ix_verification_task_place", ["township_id", "village_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_verification_task_person", ["county_id", "person_key", "kind"], unique=False
        )
        batch_op.create_index(
            "uq_verification_task_open",
            ["county_id", "kind", "person_key"],
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("student", schema=None) as batch_op:
        batch_op.drop_index("ix_student_name")
        batch_op.drop_index("ix_student_birth_date")

    with op.batch_alter_table("verification_task", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_verification_task_open",
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )
        batch_op.drop_index("ix_verification_task_person")
        batch_op.drop_index("ix_verification_task_place")

    op.drop_table("verification_task")
    with op.batch_alter_table("child_group", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_child_group_child_id"))

    op.drop_table("child_group")
    with op.batch_alter_table("school_age_child", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_school_age_child_student_id"))
        batch_op.drop_index("ix_school_age_child_place")
        batch_op.drop_index("ix_school_age_child_person_key")
        batch_op.drop_index("ix_school_age_child_id_number")
        batch_op.drop_index("ix_school_age_child_outcome")

    op.drop_table("school_age_child")
    with op.batch_alter_table("match_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_match_decision_student_id"))
        batch_op.drop_index(batch_op.f("ix_match_decision_person_key"))

    op.drop_table("match_decision")
    with op.batch_alter_table("match_candidate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_match_candidate_student_id"))
        batch_op.drop_index(batch_op.f("ix_match_candidate_person_id"))

    op.drop_table("match_candidate")
    with op.batch_alter_table("dept_person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dept_person_village_id"))
        batch_op.drop_index("ix_dept_person_list_id_person_key")
        batch_op.drop_index("ix_dept_person_id_number")
        batch_op.drop_index("ix_dept_person_birth_date")

    op.drop_table("dept_person")
    with op.batch_alter_table("dept_list", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dept_list_county_id"))

    op.drop_table("dept_list")
    with op.batch_alter_table("comparison_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comparison_run_county_id"))

    op.drop_table("comparison_run")
