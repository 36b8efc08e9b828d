"""user text bounded in the database

PostgreSQL already refuses a text longer than its VARCHAR(n) column; SQLite ignores the declared length. Here
every SQLite table with bounded text is rebuilt (SQLite's documented create-copy-drop-rename procedure, its own
indexes and triggers recreated from their saved SQL) with a CHECK (length(col) <= n) per bounded column, the
length read from the column's declared type as it stands at this revision (so the columns 0011 and 0012 add are
covered). CHECK constraints rather than triggers: a BEFORE INSERT trigger, even one that tests nothing, doubled
the time of a bulk insert into student (1.5 s → 3.1 s for 100,000 rows); the constraints cost nothing measurable.

A table holding rows written before this revision with a value longer than its column (SQLite let them in) cannot
take the constraint without losing text; it gets triggers instead, which check an UPDATE only on the columns it
changes, so those rows keep their text and still take unrelated updates; the migration logs such tables.

The two JSON columns holding user text (a plan's goals, a visit's progress) are bounded on their stored JSON
text on both databases.

A later migration that adds a text column, or rebuilds one of these tables with Alembic's batch mode, must bound it
again (`sqlite_bounds(bind, [table])`, copied from here); tests/integration/test_bounded_text.py checks every
bounded column at head.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26 00:30:00
"""

import re
from collections.abc import Iterable, Sequence
from logging import getLogger

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGER = "bounded_text_"
# goal area → text, as JSON text (Chinese escaped as \uXXXX): six areas of 500 characters fit
JSON_LIMITS = {("home_plan", "goals"): 40_000, ("home_teaching_visit", "progress"): 40_000}
_CHECK = re.compile(r',\s*CONSTRAINT "?ck_\w+_length"? CHECK \(length\("\w+"\) <= \d+\)')
_log = getLogger("alembic.runtime.migration")


def _bounds(bind: sa.Connection, table: str) -> list[tuple[str, int]]:
    """(column, most characters) for each bounded text column of the table."""
    found = []
    for column in sa.inspect(bind).get_columns(table):
        length = getattr(column["type"], "length", None)
        if isinstance(column["type"], sa.String) and isinstance(length, int) and length > 0:
            found.append((column["name"], length))
        elif (table, column["name"]) in JSON_LIMITS:
            found.append((column["name"], JSON_LIMITS[(table, column["name"])]))
    return found


def _too_long(column: str, length: int, row: str = "NEW") -> str:
    return f'length({row}."{column}") > {length}'


def _rebuild(bind: sa.Connection, table: str, checks: Iterable[tuple[str, int]]) -> None:
    """Recreate the table with these length checks (and no others), its rows, indexes and triggers unchanged."""
    create = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar()
    parts = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') AND sql IS NOT NULL",
        (table,),
    ).scalars()
    saved = list(parts)
    body, _, rest = _CHECK.sub("", create).rpartition(")")
    body = body.rstrip()
    constraints = "".join(
        f',\n\tCONSTRAINT ck_{table}_{column}_length CHECK (length("{column}") <= {length})'
        for column, length in checks
    )
    temporary = f"_bounded_{table}"
    head = re.sub(rf'^CREATE TABLE\s+"?{re.escape(table)}"?', f'CREATE TABLE "{temporary}"', body)
    bind.exec_driver_sql(f"{head}{constraints}\n){rest}")
    bind.exec_driver_sql(f'INSERT INTO "{temporary}" SELECT * FROM "{table}"')  # noqa: S608
    bind.exec_driver_sql(f'DROP TABLE "{table}"')
    bind.exec_driver_sql(f'ALTER TABLE "{temporary}" RENAME TO "{table}"')
    for sql in saved:
        bind.exec_driver_sql(sql)


def _triggers(bind: sa.Connection, table: str, bounds: list[tuple[str, int]]) -> None:
    """Length triggers for a table whose old rows would break a CHECK: an update is held to the bound only on
    the columns it changes."""

    def changed(column: str, length: int) -> str:
        return f'({_too_long(column, length)} AND NEW."{column}" IS NOT OLD."{column}")'

    for event, test in (("insert", _too_long), ("update", changed)):
        refusals = " ".join(
            f"SELECT RAISE(ABORT, '{table}.{column}: text longer than {length} characters') "
            f"WHERE {test(column, length)};"
            for column, length in bounds
        )
        when = " OR ".join(test(column, length) for column, length in bounds)
        bind.exec_driver_sql(
            f'CREATE TRIGGER {TRIGGER}{table}_{event} BEFORE {event.upper()} ON "{table}" '
            f"WHEN {when} BEGIN {refusals} END"
        )


def sqlite_bounds(bind: sa.Connection, tables: Iterable[str] | None = None) -> None:
    """Bound the text of these tables (all tables but Alembic's when None): CHECK constraints, or triggers
    where rows already hold longer text."""
    names = [t for t in (tables or sa.inspect(bind).get_table_names()) if t != "alembic_version"]
    for table in names:
        for event in ("insert", "update"):
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {TRIGGER}{table}_{event}")
        bounds = _bounds(bind, table)
        if not bounds:
            continue
        over = " OR ".join(_too_long(column, length, row=f'"{table}"') for column, length in bounds)
        legacy = bind.exec_driver_sql(f'SELECT count(*) FROM "{table}" WHERE {over}').scalar()  # noqa: S608
        if legacy:
            _log.warning("%s:%s 行有超长文字(升级前写入),保留原值,改用触发器限制新写入的长度", table, legacy)
            _triggers(bind, table, bounds)
        else:
            _rebuild(bind, table, bounds)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        sqlite_bounds(bind)
    else:
        for (table, column), length in JSON_LIMITS.items():
            op.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT ck_{table}_{column}_length "
                f"CHECK (length(CAST({column} AS TEXT)) <= {length})"
            )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for table in sa.inspect(bind).get_table_names():
            create = bind.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).scalar()
            for event in ("insert", "update"):
                bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {TRIGGER}{table}_{event}")
            if create and _CHECK.search(create):
                _rebuild(bind, table, [])
    else:
        for table, column in JSON_LIMITS:
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS ck_{table}_{column}_length")
