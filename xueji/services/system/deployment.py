"""The demo county and a real county never share a database: `xueji serve` refuses a database that holds the demo
unless told it is a demo, and `xueji demo` refuses a database that a deployment uses."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import make_url
from sqlmodel import Session, col

from xueji.auth import SYSTEM_USERNAME
from xueji.config import PROJECT_ROOT, SettingsError, default_database_url
from xueji.models import AppUser, County
from xueji.services.system.accounts import is_demo_database

DEMO_ENV = "XUEJI_DEMO"  # 1: this server is a demo server (the same as `xueji serve --demo`)
APP_SCRIPT = PROJECT_ROOT / "xueji_server.py"  # Streamlit's app behind the sign-in routes


def _demo_usernames() -> tuple[str, ...]:
    from xueji.demo.build import DEMO_ACCOUNTS

    return tuple(a[0] for a in DEMO_ACCOUNTS)


def _has_schema(session: Session) -> bool:
    return inspect(session.connection()).has_table(AppUser.__tablename__)


def holds_demo(session: Session) -> bool:
    """Tell whether the database holds the demo: marked as built by it, or with any of its role accounts."""
    if not _has_schema(session):
        return False
    if is_demo_database(session):
        return True
    return (
        session.scalar(select(AppUser.id).where(col(AppUser.username).in_(_demo_usernames())).limit(1))
        is not None
    )


def is_blank(session: Session) -> bool:
    """Nothing in it yet: no schema, or no county and no account but the built-in operator."""
    if not _has_schema(session):
        return True
    if session.scalar(select(func.count()).select_from(County)):
        return False
    return not session.scalar(
        select(func.count()).select_from(AppUser).where(AppUser.username != SYSTEM_USERNAME)
    )


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database).resolve()


def is_default_database(url: str) -> bool:
    """Whether url names the deployment's default database file, data/xueji.db (however it is spelt)."""
    path = _sqlite_path(url)
    return path is not None and path == _sqlite_path(default_database_url())


def database_file_missing(url: str) -> bool:
    """A SQLite file that does not exist yet (looking must not create it)."""
    path = _sqlite_path(url)
    return path is not None and not path.exists()


def wants_demo(flag: bool, env: Mapping[str, str]) -> bool:
    """--demo, or XUEJI_DEMO=1 in the environment."""
    return flag or env.get(DEMO_ENV, "") == "1"


def serve_refusal(session: Session, *, demo: bool) -> str | None:
    """Why `xueji serve` must not start over this database, or None: the demo only when told it is a demo, and
    the demo flag never over a real county's data."""
    if holds_demo(session):
        if demo:
            return None
        return (
            "拒绝启动:这个数据库里是演示数据(虚构的县区、学生和公开密码的演示账号),不能作为正式系统使用。\n"
            "· 正式上线:换一个空数据库(默认 data/xueji.db,或设置 XUEJI_DATABASE_URL),再运行 make serve;\n"
            "· 旧版 make run 曾把演示数据放在 data/xueji.db:把它改名或移走即可,现在的演示库在 data/demo/;\n"
            "· 只想看演示:运行 make run;确知这是演示服务器时,才可加 --demo(或 XUEJI_DEMO=1)启动。"
        )
    if demo and not is_blank(session):
        return (
            "拒绝启动:指定了 --demo(或 XUEJI_DEMO=1),但这个数据库不是演示库,里面是真实数据。"
            "请检查 XUEJI_DATABASE_URL / XUEJI_DEMO_DATABASE_URL;正式系统请不加 --demo 启动(make serve)。"
        )
    return None


def default_database_refusal(url: str, *, into_default: bool) -> str | None:
    """Why the demo must not go into this database: the deployment's default file takes it only when told
    (--into-default). Whether the database is blank is checked apart (`xueji demo --if-empty` skips instead)."""
    if not is_default_database(url) or into_default:
        return None
    return (
        f"{_sqlite_path(url)} 是正式部署的默认数据库,演示数据不载入这里。"
        "快速体验请运行 make run(演示库在 data/demo/xueji.db),或用 XUEJI_DATABASE_URL 指定另一个库;"
        "确需载入默认库时加 --into-default。"
    )


NOT_BLANK = (
    "数据库中已有数据(县区,或 xueji init 创建的系统管理员等账号),演示数据只能载入全新的空数据库。"
    "快速体验请运行 make run(演示库在 data/demo/xueji.db)。"
)


@dataclass(frozen=True)
class ServeTarget:
    """Where the server listens: XUEJI_ADDRESS (default loopback: nginx in front) and XUEJI_PORT."""

    address: str
    port: int


def serve_target(env: Mapping[str, str]) -> ServeTarget:
    raw = env.get("XUEJI_PORT") or "8501"
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise SettingsError(f"XUEJI_PORT 应为 1–65535 的端口号,实际为 {raw!r}")
    return ServeTarget(address=env.get("XUEJI_ADDRESS") or "127.0.0.1", port=int(raw))


def streamlit_command(target: ServeTarget, extra: Sequence[str] = ()) -> list[str]:
    """The command `xueji serve` becomes: this interpreter's streamlit over the app, run from the project root
    (so that .streamlit/config.toml, with its security settings, applies)."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_SCRIPT),
        "--server.address",
        target.address,
        "--server.port",
        str(target.port),
        *extra,
    ]
