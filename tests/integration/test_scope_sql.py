"""The SQL of the scope filters, of 巩固率 and of long lookups: what SQLite serves with an index (not `(… IN …) = 1`,
which reads the whole table, nor a subquery read once per student), and `among` finds the same rows as IN on both
databases."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select
from sqlmodel import col

from xueji.db import session_scope
from xueji.models import Child, Student
from xueji.services.common.access import child_condition, student_condition
from xueji.services.dashboards.retention import grade_flows
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


_COUNTY_OF_300_000 = [  # sqlite_stat1 of benchmarks/dashboard.py's 300,000-student county
    ("student", "ix_student_school_id_status", "300629 660 307"),
    ("student", "ix_student_school_id_class_id_name", "300629 660 44 1"),
    ("student", "ix_student_class_id", "300629 44"),
    ("status_change", "ix_status_change_student_id", "5109 2"),
    ("status_change", "ix_status_change_school_id", "5109 12"),
    ("status_change", "ix_status_change_to_school_id", "5109 13"),
    ("status_change", "ix_status_change_state_due_date", "5109 5109 13"),
]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_retention_looks_each_students_changes_up_by_index_on_sqlite(demo_engine, actors):
    """巩固率's one statement joins each student to the first change and the first move after each day: SQLite
    must look those up by an (automatic) index, not read them once per student (90 s at 300,000 students)."""
    with demo_engine.begin() as connection:  # the planner sees a 300,000-student county's statistics
        connection.exec_driver_sql("ANALYZE")
        for stat in ("sqlite_stat1", "sqlite_stat4"):  # stat4 only where SQLite was built with it
            exists = connection.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = ?", (stat,)).first()
            if exists:
                connection.exec_driver_sql(f"DELETE FROM {stat} WHERE tbl IN ('student', 'status_change')")  # noqa: S608 - our names
        for table, index, stat in _COUNTY_OF_300_000:
            connection.exec_driver_sql("INSERT INTO sqlite_stat1 VALUES (?, ?, ?)", (table, index, stat))
    demo_engine.dispose()  # new connections load them
    statements: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ANN202, PLR0913
        if "GROUP BY" in statement and "row_number()" in statement:
            statements.append((statement, parameters))

    event.listen(demo_engine, "before_cursor_execute", keep)
    try:
        with session_scope(demo_engine) as session:
            grade_flows(session, actor=actors["demo_county"], school_year=2026)
    finally:
        event.remove(demo_engine, "before_cursor_execute", keep)
    ((statement, parameters),) = statements
    with demo_engine.connect() as connection:
        plan = [row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]
    joined = [line for line in plan if line.endswith("LEFT-JOIN")]
    assert len(joined) == 4 and all(line.startswith("SEARCH ") for line in joined), joined
