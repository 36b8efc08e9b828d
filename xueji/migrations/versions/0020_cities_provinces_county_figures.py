"""Cities and provinces above the counties, their officers' scopes, and the county figures their pages read

province and city: the divisions above the county (county.city_id, city.province_id; a lone county keeps
city_id NULL). app_user.province_id and city_id: the scope of a province's or city's officer. county_figure:
each county's figures for the city and province pages, refreshed on a schedule (services.overview.summaries).
On SQLite the new foreign-key columns are added with ALTER TABLE ... ADD COLUMN ... REFERENCES (as 0014), and
each bounded text column of a new table carries its length CHECK (as 0017 to 0019).

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-26 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_COLUMNS = (
    ("county", "city_id", "city"),
    ("app_user", "province_id", "province"),
    ("app_user", "city_id", "city"),
)


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


def _division(table: str, *extra: sa.schema.SchemaItem) -> None:
    _create(
        table,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        *extra,
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint("code", name=op.f(f"uq_{table}_code")),
    )


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _division("province")
    _division(
        "city",
        sa.Column("province_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["province_id"], ["province.id"], name=op.f("fk_city_province_id_province")),
    )
    op.create_index(op.f("ix_city_province_id"), "city", ["province_id"], unique=False)
    for table, column, target in NEW_COLUMNS:
        fk = f"fk_{table}_{column}_{target}"
        if sqlite:
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN {column} INTEGER CONSTRAINT {fk} REFERENCES {target} (id)"
            )
        else:
            op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
            op.create_foreign_key(fk, table, target, [column], ["id"])
    op.create_index(op.f("ix_county_city_id"), "county", ["city_id"], unique=False)
    _create(
        "county_figure",
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.Column("figure", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("part", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["county_id"], ["county.id"], name=op.f("fk_county_figure_county_id_county")),
        sa.PrimaryKeyConstraint("county_id", "figure", "part", name=op.f("pk_county_figure")),
    )


def downgrade() -> None:
    op.drop_table("county_figure")
    op.drop_index(op.f("ix_county_city_id"), table_name="county")
    for table, column, target in reversed(NEW_COLUMNS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            if op.get_bind().dialect.name != "sqlite":
                batch_op.drop_constraint(f"fk_{table}_{column}_{target}", type_="foreignkey")
            batch_op.drop_column(column)
    op.drop_index(op.f("ix_city_province_id"), table_name="city")
    op.drop_table("city")
    op.drop_table("province")
