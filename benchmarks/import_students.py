"""Benchmark: xueji's full registry import against the floor of reading and bulk-inserting the same file.

    python benchmarks/import_students.py [--rows 100000] [--postgres URL]

Writes a template of N valid rows once, then on each database (a fresh SQLite file, and PostgreSQL when a
URL is given or XUEJI_TEST_PG_URL is set) measures, in the same run:

  (a) the floor: python-calamine reads the file, one executemany inserts the rows into a bare table;
  (b) xueji: check_file + commit_import (parse, validate every field, 查重, class sizes, write, audit).

Each step runs in a child process so its peak memory (VmHWM) is its own; each database is measured
--repeat times on fresh databases and the fastest run counts. Prints seconds, the ratio
b / a (target ≤ 2.0) and the peak memory of (b) (target < 600 MB).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# Benchmark databases are throwaway: a fixed key signs their audit log unless the operator gives one.
os.environ.setdefault("XUEJI_AUDIT_KEY", "be" * 32)


def _prepare_database(url: str) -> list[tuple[str, str]]:
    """Migrate a fresh database and load a small demo county: the schools the template's rows go to."""
    from sqlmodel import Session, select

    from xueji.db import make_engine, migrate
    from xueji.demo.build import DemoSpec, load_demo
    from xueji.models import School

    engine = make_engine(url)
    migrate(engine)
    with Session(engine) as session:
        if not session.scalars(select(School)).first():
            load_demo(session, DemoSpec(seed=1, scale=0.05))
        return [(s.code, s.kind) for s in session.scalars(select(School).order_by(School.code))]


def step_floor(url: str, path: Path) -> float:
    """(a): calamine read + one executemany into a bare table of text columns."""
    from python_calamine import CalamineWorkbook
    from sqlalchemy import Column, MetaData, Table, Text, create_engine, insert

    from xueji.db import make_engine
    from xueji.rules.registry_record import COLUMNS

    engine = make_engine(url) if url.startswith("sqlite") else create_engine(url)
    table = Table("bench_floor", MetaData(), *(Column(c.key, Text) for c in COLUMNS))
    table.drop(engine, checkfirst=True)
    table.create(engine)
    started = time.perf_counter()
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    keys = [c.key for c in COLUMNS]
    with engine.begin() as connection:
        connection.execute(insert(table), [dict(zip(keys, map(str, r), strict=False)) for r in rows[1:]])
    elapsed = time.perf_counter() - started
    table.drop(engine)
    return elapsed


def step_xueji(url: str, path: Path) -> float:
    """(b): the import as the CLI runs it."""
    from sqlmodel import Session

    from xueji.db import make_engine
    from xueji.services.registry.file_import import import_file
    from xueji.services.system.accounts import system_actor

    engine = make_engine(url)
    with Session(engine) as session:
        actor = system_actor(session)
        session.commit()
        started = time.perf_counter()
        result = import_file(session, actor=actor, data=path.read_bytes(), school_code=None)
        elapsed = time.perf_counter() - started
    if result.created == 0:
        raise SystemExit("导入没有新增任何学生:基准无效")
    return elapsed


def _child(step: str, url: str, path: Path) -> tuple[float, float]:
    """Run one step in a fresh interpreter; return (seconds, peak MB of that interpreter)."""
    command = [sys.executable, __file__, "--step", step, "--url", url, "--file", str(path)]
    out = subprocess.run(command, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"步骤 {step} 失败:\n{out.stderr}")
    seconds, peak = json.loads(out.stdout.strip().splitlines()[-1])
    return seconds, peak


def _peak_mb() -> float:
    """VmHWM: the high-water mark of this process image (ru_maxrss would include the forking parent's)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def step_template(url: str, path: Path) -> float:
    """Write the template for the schools of the prepared database (in a child: the parent stays small)."""
    from xueji.demo.registry_file import template_rows, template_workbook

    started = time.perf_counter()
    rows = template_rows(_prepare_database(url), int(os.environ["BENCH_ROWS"]), school_year=2026)
    path.write_bytes(template_workbook(rows))
    return time.perf_counter() - started


def step_prepare(url: str, path: Path) -> float:
    started = time.perf_counter()
    _prepare_database(url)
    return time.perf_counter() - started


STEPS = {"template": step_template, "prepare": step_prepare, "floor": step_floor, "xueji": step_xueji}


def _run_step(step: str, url: str, path: Path) -> int:
    seconds = STEPS[step](url, path)
    print(json.dumps([seconds, _peak_mb()]))
    return 0


def _fresh_postgres(url: str, name: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2, help="runs per database; the fastest of each counts")
    parser.add_argument("--postgres", default=os.environ.get("XUEJI_TEST_PG_URL"))
    parser.add_argument("--step", choices=list(STEPS), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("XUEJI_TODAY", "2026-11-23")
    os.environ["BENCH_ROWS"] = str(args.rows)
    if args.step:
        return _run_step(args.step, args.url, args.file)

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path = work / "template.xlsx"
        seconds, _ = _child("template", f"sqlite:///{work / 'schools.db'}", path)
        print(f"模板:{args.rows} 行,{path.stat().st_size / 1048576:.1f} MB,生成 {seconds:.1f} s", flush=True)
        print(
            f"{'数据库':<12}{'(a) 下限 s':>12}{'(b) xueji s':>13}{'b/a':>7}{'(b) 峰值内存 MB':>18}",
            flush=True,
        )
        kinds = {"SQLite": lambda n: f"sqlite:///{work / f'bench{n}.db'}"}
        if args.postgres:
            kinds["PostgreSQL"] = lambda n: _fresh_postgres(args.postgres, f"xueji_bench_import_{n}")
        worst, heaviest = 0.0, 0.0
        for label, fresh in kinds.items():
            floors, ours, peaks = [], [], []
            for n in range(args.repeat):
                url = fresh(n)
                _child("prepare", url, path)
                floors.append(_child("floor", url, path)[0])
                seconds, peak = _child("xueji", url, path)
                ours.append(seconds)
                peaks.append(peak)
            ratio = min(ours) / min(floors)
            worst, heaviest = max(worst, ratio), max(heaviest, *peaks)
            print(
                f"{label:<12}{min(floors):>12.2f}{min(ours):>13.2f}{ratio:>7.2f}{max(peaks):>18.0f}",
                flush=True,
            )
        print(
            f"目标:b/a ≤ 2.0,峰值内存 < 600 MB;最差比值 {worst:.2f},最高峰值 {heaviest:.0f} MB(各取 {args.repeat} 次中最快)"
        )
    return 0 if worst <= 2.0 and heaviest < 600 else 1


if __name__ == "__main__":
    raise SystemExit(main())
