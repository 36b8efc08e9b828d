"""Alembic environment: runs against the engine xueji.db hands over (or XUEJI_DATABASE_URL)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import xueji.models  # noqa: F401  (registers every table on the metadata)

target_metadata = SQLModel.metadata


def _engine():  # type: ignore[no-untyped-def]
    engine = context.config.attributes.get("engine")
    if engine is None:
        from xueji.db import get_engine

        engine = get_engine()
    return engine


def run_migrations_online() -> None:
    engine = _engine()
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        raw = connection.connection.dbapi_connection
        if sqlite:
            # SQLite alters a table by copying it and dropping the old one, which foreign keys pointing at it
            # refuse while rows exist; SQLite's documented procedure is to switch them off (outside any
            # transaction), alter, then check every key before committing.
            raw.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=sqlite,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
                if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").all()):
                    raise RuntimeError(f"迁移后外键不一致,已回滚:{broken[:5]}")
            connection.commit()
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


run_migrations_online()
