"""Shared fixtures: a real SQLite file and a real PostgreSQL database per test, and the demo county."""

from __future__ import annotations

import atexit
import os
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import TypeVar, cast

import pytest
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url

from xueji.auth import Actor
from xueji.config import get_settings
from xueji.db import make_engine, migrate, session_scope
from xueji.demo import DemoSpec, load_demo
from xueji.models import AppUser
from xueji.services.system.accounts import actor_of

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "streamlit_app.py")
PG_ENV = "XUEJI_TEST_PG_URL"
IN_CI = os.environ.get("CI", "").lower() == "true"
# The audit chain's key for every test (and every server a test starts): tests never touch data/audit.key.
TEST_AUDIT_KEY = "5e" * 32
os.environ["XUEJI_AUDIT_KEY"] = TEST_AUDIT_KEY


def require(part: str, available: bool, how: str) -> None:
    """Skip a test whose part is missing, naming it; under CI=true a missing part fails instead."""
    if available:
        return
    message = f"缺少 {part}:{how}"
    if IN_CI:
        pytest.fail(f"CI 环境必须具备全部测试条件。{message}")
    pytest.skip(message)


def _postgres_database() -> Iterator[str]:
    admin_url = os.environ.get(PG_ENV, "")
    require("PostgreSQL", bool(admin_url), f"未设置 {PG_ENV}(scripts/test.sh 会自动安装并启动一个临时服务器)")
    name = f"xueji_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        make_engine(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(autouse=True)
def audit_anchor_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test's own anchor file (never data/audit-anchors.log), with the test key of TEST_AUDIT_KEY."""
    path = tmp_path / "audit-anchors.log"
    monkeypatch.setenv("XUEJI_AUDIT_ANCHOR_FILE", str(path))
    monkeypatch.setenv("XUEJI_AUDIT_KEY", TEST_AUDIT_KEY)
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty database: a fresh SQLite file, or a fresh database on the test PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'xueji.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def other_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second, empty database of the same kind (to restore or upgrade into)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'other.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def use_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the app's settings at the test database, as XUEJI_DATABASE_URL would."""
    monkeypatch.setenv("XUEJI_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


@pytest.fixture
def engine(database_url: str) -> Engine:
    """The test database, migrated to head (a copy of a database migrated once: see migrated_into)."""
    return migrated_into(database_url)


SMALL_DEMO = DemoSpec(seed=7, scale=0.3)


# A database migrated to head, and one with the small demo county, are each built once per database kind and
# settings, then copied into each test's database: a copy is 20–50 ms where migrating an empty database is
# 0.7–1.5 s (SQLite) and 1.2–2.5 s (PostgreSQL), and building the demo 1.2 s and 2.4 s more, for some 1,100 tests.
# A template is a file under a temporary folder (SQLite, copied with the backup API) or a database on the test
# server (PostgreSQL, copied by CREATE DATABASE … TEMPLATE); all are removed when the session (or the process, for
# a benchmark that uses tests.e2e.servers.demo_database) ends.
_TEMPLATES: dict[tuple, str] = {}
T = TypeVar("T")
_BUILT: dict[tuple, object] = {}  # what each template's build returned (see built_once)
_NOT_SETTINGS = ("XUEJI_AUDIT_ANCHOR_FILE", "XUEJI_DATABASE_URL", PG_ENV)
_template_folder: list[Path] = []


def _template_key(what: str, database_url: str) -> tuple:
    """What the template holds, the database kind and every XUEJI_ setting in force: a test that changes a
    setting the migrations or the build read gets its own template."""
    settings = sorted(
        (k, v) for k, v in os.environ.items() if k.startswith("XUEJI_") and k not in _NOT_SETTINGS
    )
    return (what, make_url(database_url).get_backend_name(), tuple(settings))


def _sqlite_copy(source: str, target: str) -> None:
    """Copy one SQLite database file into another through SQLite's backup API (consistent, WAL included)."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _pg_clone(admin_url: str, source: str, target: str, *, replace: bool) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if replace:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target}" TEMPLATE "{source}"'))
    admin.dispose()


def _keep_template(key: tuple, engine: Engine, database_url: str) -> None:
    engine.dispose()
    url = make_url(database_url)
    if not _template_folder:
        _template_folder.append(Path(tempfile.mkdtemp(prefix="xueji-test-templates-")))
        atexit.register(drop_templates)
    if url.get_backend_name() == "sqlite":
        template = str(_template_folder[0] / f"{uuid.uuid4().hex[:12]}.db")
        _sqlite_copy(str(url.database), template)
    else:
        template = f"xueji_template_{uuid.uuid4().hex[:12]}"
        _pg_clone(os.environ[PG_ENV], str(url.database), template, replace=False)
    _TEMPLATES[key] = template


def _restore_template(engine: Engine, database_url: str, template: str) -> None:
    engine.dispose()
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        _sqlite_copy(template, str(url.database))
    else:
        _pg_clone(os.environ[PG_ENV], template, str(url.database), replace=True)


def drop_templates() -> None:
    """Remove every template (the PostgreSQL databases and the folder of SQLite files); safe to call twice."""
    admin_url = os.environ.get(PG_ENV)
    pg = [name for (_, kind, _), name in _TEMPLATES.items() if kind == "postgresql"]
    _TEMPLATES.clear()
    _BUILT.clear()
    if admin_url and pg:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in pg:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    while _template_folder:
        shutil.rmtree(_template_folder.pop(), ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def _drop_templates() -> Iterator[None]:
    yield
    drop_templates()


def migrated_into(database_url: str) -> Engine:
    """The database at database_url (empty, or a SQLite file not there yet) migrated to head: a copy of the
    template migrated the first time it is asked for with these settings."""
    engine = make_engine(database_url)
    key = _template_key("migrated", database_url)
    template = _TEMPLATES.get(key)
    if template is not None:
        _restore_template(engine, database_url, template)
        return engine
    migrate(engine)
    _keep_template(key, engine, database_url)
    return engine


@pytest.fixture
def demo_engine(engine: Engine, database_url: str) -> Engine:
    """The test database with a small demo county (one class per grade per school)."""
    return demo_into(engine, database_url)


def demo_into(
    engine: Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory | None = None
) -> Engine:
    """Fill this migrated, empty database with the small demo county: a copy of its template, built the first
    time it is asked for with these settings. (tmp_path_factory is no longer needed: kept for callers.)"""

    def small_demo(engine: Engine) -> None:
        with session_scope(engine) as session:
            load_demo(session, SMALL_DEMO)

    built_once("demo", engine, database_url, small_demo)
    return engine


def built_once(what: str, engine: Engine, database_url: str, build: Callable[[Engine], T]) -> T:
    """Fill this migrated, empty database with what `build` makes: a copy of the template named `what`, built
    the first time it is asked for with these settings; build's result is kept with the template."""
    key = _template_key(what, database_url)
    template = _TEMPLATES.get(key)
    if template is not None:
        _restore_template(engine, database_url, template)
        return cast(T, _BUILT[key])
    result = build(engine)
    _keep_template(key, engine, database_url)
    _BUILT[key] = result
    return result


def demo_database(database_url: str) -> Engine:
    """The database at database_url (empty, or a SQLite file not there yet) migrated, with the small demo county:
    a copy of the demo's template when there is one, without migrating first."""
    key = _template_key("demo", database_url)
    template = _TEMPLATES.get(key)
    if template is None:
        return demo_into(migrated_into(database_url), database_url)
    engine = make_engine(database_url)
    _restore_template(engine, database_url, template)
    return engine


@pytest.fixture
def actors(demo_engine: Engine) -> dict[str, Actor]:
    """The demo accounts as acting users, by username (demo_county, demo_teacher, ...)."""
    with session_scope(demo_engine) as session:
        users = session.scalars(select(AppUser)).all()
        return {u.username: actor_of(u) for u in users}


DEMO_TODAY = "2026-11-23"  # the demo county's today: school year 2026–2027, first term


@pytest.fixture
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Pin the app's clock (XUEJI_TODAY) to the demo's today, so grades and deadlines are stable."""
    monkeypatch.setenv("XUEJI_TODAY", DEMO_TODAY)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
