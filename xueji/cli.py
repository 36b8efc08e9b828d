"""The `xueji` command: every batch job (init, demo, and later import, export, backup, users)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sqlalchemy import Engine, func, select

from xueji import __version__
from xueji.config import SettingsError, get_settings
from xueji.db import current_revision, get_engine, head_revision, migrate, session_scope
from xueji.demo import DemoSpec, load_demo
from xueji.demo.build import DemoError
from xueji.models import County, School, Student


def _safe_url(url: str) -> str:
    """Hide the password of a database URL before printing it."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _is_empty(engine: Engine) -> bool:
    with session_scope(engine) as session:
        return not session.scalar(select(func.count()).select_from(County))


def cmd_init(args: argparse.Namespace) -> int:
    engine = get_engine()
    before = current_revision(engine)
    migrate(engine)
    after = current_revision(engine)
    where = _safe_url(get_settings().database_url)
    if before == after:
        print(f"数据库已是最新版本 ({after}):{where}")
    elif before is None:
        print(f"已创建数据库 (版本 {after}):{where}")
    else:
        print(f"已将数据库从版本 {before} 升级到 {after},原有数据保留:{where}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    engine = get_engine()
    migrate(engine)
    if args.if_empty and not _is_empty(engine):
        print("数据库中已有数据,跳过演示数据。")
        return 0
    spec = DemoSpec(seed=args.seed, scale=args.scale)
    with session_scope(engine) as session:
        try:
            summary = load_demo(session, spec)
        except DemoError as exc:
            print(f"错误:{exc}", file=sys.stderr)
            return 1
    print(
        f"已载入演示县区:{summary.townships} 个乡镇,{summary.villages} 个村/社区,{summary.schools} 所学校,"
        f"{summary.classes} 个班级,{summary.students} 名学生,{summary.family_members} 名家庭成员。"
    )
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    engine = get_engine()
    print(f"数据库:{_safe_url(get_settings().database_url)}")
    current, head = current_revision(engine), head_revision(engine)
    print(f"结构版本:{current or '未初始化'}(最新 {head})")
    if current is None:
        print("请先运行 xueji init。")
        return 1
    with session_scope(engine) as session:
        for label, model in (("县区", County), ("学校", School), ("学生", Student)):
            print(f"{label}:{session.scalar(select(func.count()).select_from(model))}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xueji",
        description="学籍 · 控辍保学个案管理 (xueji: dropout-prevention case tracker).\n"
        "数据库由环境变量 XUEJI_DATABASE_URL 指定,默认为 data/xueji.db。",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"xueji {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="命令 command")

    p = sub.add_parser("init", help="创建或升级数据库结构,保留原有数据 (create or upgrade the database)")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("demo", help="载入演示县区数据 (load the demo county into an empty database)")
    p.add_argument("--seed", type=int, default=2026, help="随机种子,相同种子生成相同数据 (default 2026)")
    p.add_argument("--scale", type=float, default=1.0, help="规模系数,1.0 约 8000 名学生 (default 1.0)")
    p.add_argument("--if-empty", action="store_true", help="数据库已有数据时跳过 (skip if data exists)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("info", help="显示数据库位置、版本和数据量 (show database, revision and counts)")
    p.set_defaults(func=cmd_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args))
    except SettingsError as exc:
        print(f"配置错误:{exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
