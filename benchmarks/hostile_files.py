"""Benchmark: each hostile upload against checking a normal 1,000-row registry file, in the same run.

    python benchmarks/hostile_files.py [--repeat 3] [--postgres URL]

Every case runs check_file (the 学籍导入 service, as the registrar) in a fresh interpreter that plays the
server: it has imported the app, holds a database session, and reads the file through the reading process
(xueji.excel.sandbox). For each file it prints the time to the answer, the server process's peak resident
memory (VmHWM) and the reading process's own peak, each also as a ratio against the normal file. Targets
(the issue's): every hostile file refused, within 5 s, with less than 500 MB in either process.

It also measures what starting the reading process costs, and what the alternatives would: forking the
server-sized process (fork), a forkserver, or a fresh interpreter (what xueji does).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MB = 1024 * 1024


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) * 1024
    return 0


def step_check(url: str, path: Path) -> dict:
    """(in the fresh interpreter) check_file as the demo registrar; time, peaks, outcome."""
    from sqlalchemy import select
    from sqlmodel import Session

    from xueji.db import make_engine
    from xueji.excel.limits import TemplateError
    from xueji.excel.sandbox import last_reading
    from xueji.models import AppUser
    from xueji.services.registry.file_import import check_file
    from xueji.services.system.accounts import actor_of

    data = path.read_bytes()
    engine = make_engine(url)
    with Session(engine) as session:
        actor = actor_of(session.scalar(select(AppUser).where(AppUser.username == "demo_registrar")))
        session.commit()
        Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) counts from here
        before = _status("VmRSS:")
        started = time.perf_counter()
        try:
            sheet = check_file(session, actor=actor, data=data, file_name=path.name)
            outcome = f"接受 {len(sheet.rows):,} 行"
        except TemplateError as error:
            outcome = f"拒绝:{str(error)[:60]}"
        seconds = time.perf_counter() - started
    reading = last_reading.get()
    return {
        "seconds": seconds,
        "server_peak": _status("VmHWM:"),
        "server_before": before,
        "child_peak": reading.child_peak_bytes if reading else None,
        "child_exit": reading.exit_code if reading else None,
        "outcome": outcome,
    }


def step_prepare(url: str, path: Path) -> dict:
    from xueji.db import make_engine, migrate, session_scope
    from xueji.demo import DemoSpec, load_demo

    engine = make_engine(url)
    migrate(engine)
    with session_scope(engine) as session:
        load_demo(session, DemoSpec(seed=7, scale=0.3))
    return {}


def step_files(url: str, path: Path) -> dict:
    """Write the normal file and every hostile one into the directory `path`."""
    from tests.hostile_workbooks import HOSTILE
    from xueji.demo.registry_file import template_rows, template_workbook

    (path / "00 normal 1,000 rows.xlsx").write_bytes(
        template_workbook(list(template_rows([("2143016965", "primary")], 1000, school_year=2026, seed=2)))
    )
    for i, (name, make) in enumerate(HOSTILE.items(), 1):
        (path / f"{i:02d} {name}.xlsx").write_bytes(make())
    return {}


def step_start(url: str, path: Path) -> dict:
    """What starting a child costs from a server-sized process (the app imported), per method."""
    import multiprocessing

    import streamlit  # noqa: F401  the server has these loaded

    import xueji.services.registry.file_import  # noqa: F401
    from xueji.excel import worker  # noqa: F401
    from xueji.excel.limits import ImportKind, TemplateError
    from xueji.excel.sandbox import read_sheet

    def fresh() -> None:  # a round trip through the reading process with a file refused at once
        try:
            read_sheet(b"not an xlsx", ImportKind.REGISTRY)
        except TemplateError:
            pass

    results = {"rss": _status("VmRSS:")}
    results["fresh interpreter (xueji)"] = _fastest(fresh)
    for method in ("fork", "forkserver"):
        context = multiprocessing.get_context(method)
        if method == "forkserver":
            context.set_forkserver_preload(["xueji.excel.worker"])

        def start(context=context) -> None:  # noqa: ANN001
            process = context.Process(target=_nothing)
            process.start()
            process.join()

        start()  # a forkserver starts its server on first use
        results[method] = _fastest(start)
    return results


def _nothing() -> None:
    pass


def _fastest(run, repeat: int = 5) -> float:  # noqa: ANN001
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


STEPS = {"check": step_check, "prepare": step_prepare, "files": step_files, "start": step_start}


def _child(step: str, url: str, path: Path) -> dict:
    command = [sys.executable, __file__, "--step", step, "--url", url, "--file", str(path)]
    out = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        raise SystemExit(f"步骤 {step} 失败:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _fresh_postgres(url: str, name: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _report(label: str, url: str, files: list[Path], repeat: int) -> bool:
    _child("prepare", url, files[0])
    runs = {
        f: min((_child("check", url, f) for _ in range(repeat)), key=lambda r: r["seconds"]) for f in files
    }
    normal = runs[files[0]]
    print(
        f"\n{label}:正常文件 {normal['outcome']},用时 {normal['seconds']:.2f} s,"
        f"服务进程峰值 {normal['server_peak'] / MB:.0f} MB,读取进程峰值 {normal['child_peak'] / MB:.0f} MB"
    )
    print(
        f"  {'文件':<40}{'大小':>8}{'用时 s':>8}{'×正常':>7}{'服务峰值MB':>11}{'×正常':>7}"
        f"{'服务增长MB':>11}{'读取峰值MB':>11}{'×正常':>7}  结果"
    )
    ok = True
    for path in files[1:]:
        r = runs[path]
        child = r["child_peak"]
        growth = r["server_peak"] - r["server_before"]
        child_text = (
            f"{child / MB:>11.0f}{child / normal['child_peak']:>7.2f}" if child else f"{'(未报)':>11}{'':>7}"
        )
        ok &= (
            r["outcome"].startswith("拒绝")
            and r["seconds"] < 5
            and growth < 500 * MB
            and (child or 0) < 500 * MB
        )
        print(
            f"  {path.stem[3:]:<40}{path.stat().st_size / 1024:>7.0f}K{r['seconds']:>8.2f}"
            f"{r['seconds'] / normal['seconds']:>7.2f}{r['server_peak'] / MB:>11.0f}"
            f"{r['server_peak'] / normal['server_peak']:>7.2f}{growth / MB:>11.0f}{child_text}  {r['outcome']}"
        )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per file; the fastest counts")
    parser.add_argument("--postgres", default=os.environ.get("XUEJI_TEST_PG_URL"))
    parser.add_argument("--step", choices=list(STEPS), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("XUEJI_TODAY", "2026-11-23")
    os.environ.setdefault("XUEJI_AUDIT_KEY", secrets.token_hex(32))  # a throwaway database's throwaway key
    if args.step:
        print(json.dumps(STEPS[args.step](args.url, args.file)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        _child("files", "", work)
        files = sorted(work.glob("*.xlsx"))
        start = _child("start", "", work)
        print(
            f"启动读取进程(从已载入应用的进程,RSS {start.pop('rss') / MB:.0f} MB):"
            + ",".join(f"{k} {v * 1000:.0f} ms" for k, v in start.items())
        )
        ok = _report("SQLite", f"sqlite:///{work / 'bench.db'}", files, args.repeat)
        if args.postgres:
            ok &= _report(
                "PostgreSQL", _fresh_postgres(args.postgres, "xueji_bench_hostile"), files, args.repeat
            )
    print(
        "\n目标:每个恶意文件都被拒绝,用时 < 5 s,服务进程增长与读取进程峰值都 < 500 MB:"
        + ("达到" if ok else "未达到")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
