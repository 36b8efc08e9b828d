"""The SQL of the scope filters and of long lookups: a predicate SQLite serves with an index (not `(… IN …) = 1`,
which reads the whole table), and `among` finds the same rows as IN on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlmodel import col

from xueji.db import session_scope
from xueji.models import Child, Student
from xueji.services.common.access import child_condition, student_condition
from xueji.sql import among


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("table", "condition"), [(Student, student_condition), (Child, child_condition)])
def test_a_county_scope_filter_is_served_by_an_index_on_sqlite(demo_engine, actors, table, condition):
    query = select(table.id).where(condition(actors["demo_county"]))
    with demo_engine.connect() as connection:
        sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
        plan = " ".join(row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    assert ") = 1" not in sql
    assert plan.startswith(f"SEARCH {table.__tablename__} "), plan  # looked up by index, not a SCAN of it


def test_among_finds_what_in_finds(demo_engine, database_url):
    with session_scope(demo_engine) as session:
        dialect = session.get_bind().dialect.name
        numbers = list(session.scalars(select(Student.id_number).where(col(Student.id_number).is_not(None))))
        wanted = [*numbers[::7], "110101201001010000"]  # and one nobody has
        found = set(session.scalars(select(Student.id).where(among(col(Student.id_number), wanted, dialect))))
        expected = set(session.scalars(select(Student.id).where(col(Student.id_number).in_(wanted))))
    assert found == expected and len(found) == len(numbers[::7])
