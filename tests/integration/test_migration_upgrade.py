"""Every migration, first to head, on a database that holds data: the demo county is fed in table by table as
each table appears (with the columns it has at that revision), the schema is then upgraded step by step, and
at head every row is still there with every value it was given, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, bindparam, func, inspect, select, text

from xueji.db import alembic_config, make_engine, migrate

pytestmark = pytest.mark.usefixtures("fixed_today")


def revisions(engine: Engine) -> list[str]:
    """Base to head."""
    script = ScriptDirectory.from_config(alembic_config(engine))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def feed(source: Engine, target: Engine, filled: dict[str, list[str]], pending: set[tuple[str, str]]) -> None:
    """Copy the source's rows of every table the target has and has not been fed yet, its columns only. A column
    pointing at a table that does not exist yet (a class's head teacher before accounts) is left empty, as it
    was in a database of that time, and filled in (pending) once the table it points at has its rows."""
    meta = MetaData()
    meta.reflect(target)
    source_meta = MetaData()
    source_meta.reflect(source)
    with source.connect() as read, target.begin() as write:
        for table in meta.sorted_tables:
            if table.name in filled or table.name == "alembic_version":
                continue
            origin = source_meta.tables[table.name]
            columns = [c.name for c in table.columns if c.name in origin.columns]
            later = {
                c
                for c in columns
                for fk in origin.c[c].foreign_keys
                if fk.column.table.name not in meta.tables
            }
            rows = [dict(r._mapping) for r in read.execute(select(*(origin.c[c] for c in columns)))]
            if rows:
                write.execute(table.insert(), [r | dict.fromkeys(later) for r in rows])
            filled[table.name] = columns
            pending |= {(table.name, c) for c in later}
            if target.dialect.name == "postgresql" and "id" in columns and rows:
                write.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), :n)"),  # noqa: S608
                    {"n": max(r["id"] for r in rows)},
                )
        for name, column in sorted(pending):
            origin = source_meta.tables[name]
            (fk,) = origin.c[column].foreign_keys
            if fk.column.table.name in filled:
                key = origin.primary_key.columns.keys()[0]
                values = read.execute(
                    select(origin.c[key], origin.c[column]).where(origin.c[column].is_not(None))
                )
                update = meta.tables[name].update().where(meta.tables[name].c[key] == bindparam("k"))
                params = [{"k": k, column: v} for k, v in values]
                if params:
                    write.execute(update.values({column: bindparam(column)}), params)
                pending.discard((name, column))


def test_every_migration_keeps_the_rows_of_a_database_in_use(demo_engine, other_database_url):
    old = make_engine(other_database_url)
    filled: dict[str, list[str]] = {}
    pending: set[tuple[str, str]] = set()
    steps = revisions(old)
    assert len(steps) >= 10
    for revision in steps:
        migrate(old, revision)
        feed(demo_engine, old, filled, pending)
    assert pending == set()
    assert inspect(old).get_table_names() and set(filled) >= set(inspect(demo_engine).get_table_names()) - {
        "alembic_version"
    }
    source, upgraded = MetaData(), MetaData()
    source.reflect(demo_engine)
    upgraded.reflect(old)
    fed_rows = 0
    with demo_engine.connect() as a, old.connect() as b:
        for name, columns in filled.items():
            key = [c.name for c in source.tables[name].primary_key.columns]
            want = a.execute(select(*(source.tables[name].c[c] for c in columns)).order_by(*key)).all()
            have = b.execute(select(*(upgraded.tables[name].c[c] for c in columns)).order_by(*key)).all()
            assert have == want, f"{name}: 升级后数据不一致"
            fed_rows += len(want)
        assert b.scalar(text("SELECT version_num FROM alembic_version")) == steps[-1]
        assert b.scalar(select(func.count()).select_from(upgraded.tables["student"])) > 0
    assert fed_rows > 1000
