"""Engines (one per database URL), sessions, units of work and schema migrations."""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache, wraps
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Dialect, Engine, Table, create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from xueji import writer_queue
from xueji.config import get_settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _normalise_url(url: str) -> str:
    """Use psycopg 3 for a bare postgresql:// URL."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


# The execution option a unit of work opens its SQLite transaction with: BEGIN IMMEDIATE takes the write lock
# first, so a writer waits its turn (busy_timeout) instead of failing when its read snapshot has gone stale.
WRITE_OPTION = "xueji_write"


def _configure_sqlite(engine: Engine, busy_timeout_ms: int, synchronous: str) -> None:
    # pysqlite opens transactions lazily and ignores BEGIN for savepoints; SQLAlchemy's documented fix is to
    # turn that off and emit BEGIN ourselves, so every transaction (and every import commit) is atomic.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.close()

    writer_queue.install(engine, busy_timeout_ms / 1000)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(WRITE_OPTION):
            writer_queue.wait_in_line(conn)
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


# Connections per server process (SQLite files and PostgreSQL): Streamlit runs each browser session in its own
# thread, and 50 users writing at once in one process (benchmarks/load.py) waited past the pool's 30 s timeout
# with SQLAlchemy's 5 + 10. 20 stay open, up to 30 more while a peak lasts: 50 a process, so 4 PostgreSQL
# replicas need max_connections above 200.
POOL_SIZE, POOL_OVERFLOW = 20, 30


@lru_cache(maxsize=8)
def make_engine(url: str) -> Engine:
    """Return the engine for a database URL, created once per URL."""
    url = _normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False}, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW
        )
        settings = get_settings()
        _configure_sqlite(engine, settings.sqlite_busy_timeout_ms, settings.sqlite_synchronous)
        return engine
    engine = create_engine(
        url,
        pool_pre_ping=True,
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
        connect_args={"prepare_threshold": None},  # see _planned_as_asked
    )
    event.listen(engine, "connect", _planned_as_asked)
    return engine


def _planned_as_asked(dbapi_conn: Any, _record: Any) -> None:
    """Each query planned for the values it is run with, and not compiled first. psycopg would prepare a statement
    run five times on a connection, and PostgreSQL may then reuse a generic plan made without the values: for a
    county's 巩固率 inside a city of ten counties that plan read the whole city's students (3.5 times as long as
    the same county alone; 1.2 times with plans for the values). So make_engine turns psycopg's prepared
    statements off (prepare_threshold None: every query is planned with its values, and PgBouncer in
    transaction mode needs nothing more). Not plan_cache_mode = force_custom_plan: that re-plans the foreign-key
    checks PostgreSQL runs for every inserted row too, and made a 100,000-row registry import's COPY 1.8 times
    as long. And a query whose estimated cost passes jit_above_cost is compiled to machine code first: some
    200 ms a page's query never wins back (benchmarks/dashboard.py --city measures both)."""
    with dbapi_conn.cursor() as cursor:
        cursor.execute("SET jit = off")
    dbapi_conn.commit()


def get_engine() -> Engine:
    """Return the engine of the configured database."""
    return make_engine(get_settings().database_url)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """Open a session; roll back on error, always close. Services commit their own transaction."""
    session = Session(engine or get_engine(), expire_on_commit=False)
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


P = ParamSpec("P")
R = TypeVar("R")
_IN_UNIT = "xueji_unit_of_work"
# PostgreSQL: serialization_failure, deadlock_detected. SQLite: "database is locked" / "database is busy".
_RETRY_SQLSTATES = frozenset({"40001", "40P01"})
RETRIES = 10


def _busy(exc: DBAPIError) -> bool:
    if isinstance(exc.orig, sqlite3.OperationalError):
        return "locked" in str(exc.orig) or "busy" in str(exc.orig)
    return getattr(exc.orig, "sqlstate", None) in _RETRY_SQLSTATES


def unit_of_work(service: Callable[Concatenate[Session, P], R]) -> Callable[Concatenate[Session, P], R]:
    """Run a writing service as one transaction, started afresh when the database reports contention.

    On SQLite the transaction begins IMMEDIATE (writers queue on busy_timeout rather than fail); a transaction
    that still meets "database is locked" (a read snapshot gone stale, a checkpoint) or, on PostgreSQL, a
    deadlock or serialization failure, is rolled back and the service run again from the start, with jittered
    exponential backoff, so the error never reaches a user. Nothing was committed by the failed attempt. A unit
    of work called inside another runs in the caller's transaction; the outermost retries.
    """

    @wraps(service)
    def run(session: Session, /, *args: P.args, **kwargs: P.kwargs) -> R:
        if session.info.get(_IN_UNIT):
            return service(session, *args, **kwargs)
        session.info[_IN_UNIT] = True
        try:
            for attempt in range(RETRIES + 1):
                owned = not session.in_transaction()
                try:
                    if owned and session.get_bind().dialect.name == "sqlite":
                        session.connection(execution_options={WRITE_OPTION: True})
                    return service(session, *args, **kwargs)
                except DBAPIError as exc:
                    if not _busy(exc) or attempt == RETRIES:
                        raise
                    session.rollback()
                    time.sleep(min(1.0, 0.005 * 2**attempt) * random.uniform(0.5, 1.5))  # noqa: S311
                except BaseException:
                    if owned:
                        session.rollback()  # release the write lock now, not when the page ends
                    raise
            raise AssertionError("unreachable")
        finally:
            session.info.pop(_IN_UNIT, None)

    return run


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the schema to the given revision; rows are kept."""
    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def allocate_ids(session: Session, table: Table, count: int) -> list[int]:
    """Reserve count primary keys for a bulk insert without RETURNING (much faster for many rows).

    PostgreSQL hands them out from the table's sequence, safe under concurrency. On SQLite the caller
    must already hold the write lock (any write in the transaction takes it), so max(id) cannot move.
    """
    if count == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        query = text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)")
        return list(session.scalars(query, {"table": table.name, "n": count}))
    start = session.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0
    return list(range(start + 1, start + 1 + count))


def insert_rows(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    chunk: int = 5000,
) -> int:
    """Insert many rows (tuples in the order of columns) with one DBAPI executemany per chunk.

    The statement is compiled once, positionally, and only the values whose column type has a bind
    processor go through it, as SQLAlchemy would do, without building per-row parameter objects: a third
    of the time of Core's executemany for 100,000 rows.
    """
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name == "postgresql":
        return _copy_rows(connection, table, columns, rows)
    iterator = iter(rows)
    part = list(islice(iterator, chunk))
    if not part:
        return 0
    compiled = table.insert().compile(dialect=_positional(dialect), column_keys=list(columns))
    order = list(compiled.positiontup or [])
    if sorted(order) != sorted(columns):
        raise ValueError(f"批量插入须给出 {table.name} 的全部列:{sorted(set(order) - set(columns))}")
    take = itemgetter(*(columns.index(key) for key in order))
    # (position, processor, the values it has processed): dates, flags and timestamps repeat a great deal.
    processors = [table.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in order]
    fixes: list[tuple[int, Callable[[Any], Any], dict[Any, Any]]] = [
        (i, p, {}) for i, p in enumerate(processors) if p is not None
    ]
    total = 0
    while part:
        params = []
        for row in part:
            values = take(row)
            if fixes:
                values = list(values)
                for i, fix, seen in fixes:
                    value = values[i]
                    try:
                        values[i] = seen[value]
                    except KeyError:
                        if len(seen) > 10_000:
                            seen.clear()
                        values[i] = seen[value] = fix(value)
                    except TypeError:  # an unhashable value (JSON): process it every time
                        values[i] = fix(value)
            params.append(tuple(values))
        connection.exec_driver_sql(compiled.string, params)
        total += len(part)
        part = list(islice(iterator, chunk))
    return total


def _copy_rows(
    connection: Connection, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """PostgreSQL: COPY FROM STDIN in the caller's transaction; psycopg adapts each Python value itself."""
    from psycopg import sql

    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    total = 0
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
            total += 1
    return total


@lru_cache(maxsize=8)
def _positional(dialect: Dialect) -> Dialect:
    """The dialect itself if its driver takes positional parameters, else a twin that compiles to %s."""
    if dialect.positional:
        return dialect
    return type(dialect)(paramstyle="format")  # type: ignore[call-arg]


def table_grown(session: Session, table: Table) -> None:
    """Tell PostgreSQL a table has grown within the caller's transaction (ANALYZE of that table, which also
    counts the transaction's own new rows): the foreign-key checks of later inserts keep the plan made when
    the table was small, and a fresh county's first registry import, creating 2,000 classes while it
    inserts 100,000 students, checked each student's class by reading the whole class table (its COPY grew
    from 0.2 to 1 s a chunk). Nothing to do on SQLite, whose foreign-key checks go straight to the parent's
    primary key, with no plan to keep."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"ANALYZE {table.name}"))


def refresh_statistics(session: Session) -> None:
    """ANALYZE after a bulk load, so the planner sees the new row counts at once instead of after the next
    autovacuum (PostgreSQL) or never (SQLite): without it, a freshly loaded 300,000-student county lists at
    0.9 s on PostgreSQL instead of 2 ms."""
    session.execute(text("ANALYZE"))
    session.commit()
