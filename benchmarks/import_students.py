"""Benchmark: xueji's full registry import against the floor of reading and bulk-inserting the same file.

    python benchmarks/import_students.py [--rows 100000 300000] [--postgres URL]

Writes a template of N valid rows once for each N, then on each database (a fresh SQLite file, and PostgreSQL
when a URL is given or XUEJI_TEST_PG_URL is set) measures, in the same run:

  (a) the floor: python-calamine reads the file, one executemany inserts the rows into a bare table of text
      columns (no checks, no audit);
  (b) xueji: check_file + commit_import as the command line runs them (the reading process streams the file,
      every field checked, 查重, class sizes, the rows written chunk by chunk in one transaction, audit).

Each step runs in a fresh interpreter. Peak memory of (b) is the whole process tree's: the step's own
high-water mark (VmHWM) plus the reading process's (VmHWM, reported by the worker as it ends), a sum that can
only overstate the tree's peak, since the two peaks need not coincide; the tree's resident memory sampled
every 20 ms (the step and its children, from /proc) is printed beside it. Each database is measured --repeat
times on fresh databases: the fastest run's seconds and the highest peak count.

Targets (issue 27): peak < 250 MB up to 100,000 rows and < 300 MB up to 300,000 rows; b / a ≤ 1.6. The script
prints each ratio and exits non-zero when one is missed. Rows above the default registry cap (200,000) are
read with XUEJI_IMPORT_MAX_ROWS_REGISTRY and XUEJI_IMPORT_MAX_INFLATED_MB raised for the run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
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
            # the demo county's schools take 267,300 generated rows; a larger file needs each school twice
            rows = int(os.environ.get("BENCH_ROWS", "0"))
            load_demo(session, DemoSpec(seed=1, scale=0.05, copies=1 if rows <= 250_000 else 2))
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
    from xueji.excel.sandbox import last_reading
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
    reading = last_reading.get()
    _EXTRA["reader_peak_mb"] = (reading.child_peak_bytes or 0) / 1048576 if reading else float("nan")
    return elapsed


_EXTRA: dict[str, float] = {}


def _child(step: str, url: str, path: Path) -> dict[str, float]:
    """Run one step in a fresh interpreter: its seconds, its own peak MB (VmHWM), the reading process's peak
    (for the import), and the largest resident memory of the step's process tree seen by sampling."""
    command = [sys.executable, __file__, "--step", step, "--url", url, "--file", str(path)]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, stdout=out, stderr=err)
        sampled = _sample_tree(process)
        if process.returncode:
            err.seek(0)
            raise SystemExit(f"步骤 {step} 失败:\n{err.read().decode(errors='replace')[-5000:]}")
        out.seek(0)
        result = json.loads(out.read().decode().strip().splitlines()[-1])
    return result | {"tree_sampled_mb": sampled}


def _sample_tree(process: subprocess.Popen) -> float:
    """Wait for the process; the largest sum of resident memory of it and its descendants, every 20 ms."""
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss(process.pid))
            stop.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    process.wait()
    stop.set()
    sampler.join()
    return peak / 1048576


def _tree_rss(root: int) -> int:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            pid = int(entry.name)
            children.setdefault(int(fields[1]), []).append(pid)
            rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


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
    before = os.times()
    seconds = STEPS[step](url, path)
    after = os.times()
    cpu = sum(after[:4]) - sum(before[:4])  # user + system of this process and of its reading process
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": _peak_mb(), **_EXTRA}))
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


def memory_target(rows: int) -> int:
    """The issue's bound on the import's peak memory (MB) for a file of this many rows."""
    return 250 if rows <= 100_000 else 300


TIME_TARGET = 1.6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 300_000])
    parser.add_argument("--repeat", type=int, default=2, help="runs per database; the fastest of each counts")
    parser.add_argument("--postgres", default=os.environ.get("XUEJI_TEST_PG_URL"))
    parser.add_argument("--step", choices=list(STEPS), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("XUEJI_TODAY", "2026-11-23")
    if args.step:
        return _run_step(args.step, args.url, args.file)

    missed = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for rows in args.rows:
            os.environ["BENCH_ROWS"] = str(rows)
            if rows >= 200_000:  # above the default caps of a registry upload: raised for this run
                os.environ["XUEJI_IMPORT_MAX_ROWS_REGISTRY"] = str(rows + 1)
                os.environ["XUEJI_IMPORT_MAX_INFLATED_MB"] = "1024"
            path = work / f"template{rows}.xlsx"
            made = _child("template", f"sqlite:///{work / f'schools{rows}.db'}", path)
            size = path.stat().st_size / 1048576
            print(f"模板:{rows:,} 行,{size:.1f} MB,生成 {made['seconds']:.1f} s", flush=True)
            print(
                f"{'数据库':<11}{'(a) 下限 s':>10}{'(b) xueji s':>12}{'b/a':>6}{'CPU b/a':>8}"
                f"{'服务器 MB':>10}{'读取进程 MB':>11}{'合计 MB':>9}{'采样 MB':>9}{'合计/目标':>10}",
                flush=True,
            )
            kinds = {"SQLite": lambda n, r=rows: f"sqlite:///{work / f'bench{r}_{n}.db'}"}
            if args.postgres:
                kinds["PostgreSQL"] = lambda n, r=rows: _fresh_postgres(
                    args.postgres, f"xueji_bench_import_{r}_{n}"
                )
            target = memory_target(rows)
            for label, fresh in kinds.items():
                floors, ours = [], []
                for n in range(args.repeat):
                    url = fresh(n)
                    _child("prepare", url, path)
                    floors.append(_child("floor", url, path))
                    ours.append(_child("xueji", url, path))
                floor = min(f["seconds"] for f in floors)
                best = min(o["seconds"] for o in ours)
                server = max(o["peak_mb"] for o in ours)
                reader = max(o["reader_peak_mb"] for o in ours)
                total = max(o["peak_mb"] + o["reader_peak_mb"] for o in ours)
                sampled = max(o["tree_sampled_mb"] for o in ours)
                ratio, memory_ratio = best / floor, total / target
                cpu_ratio = min(o["cpu"] for o in ours) / min(f["cpu"] for f in floors)
                print(
                    f"{label:<12}{floor:>10.2f}{best:>12.2f}{ratio:>6.2f}{cpu_ratio:>8.2f}{server:>10.0f}"
                    f"{reader:>11.0f}{total:>9.0f}{sampled:>9.0f}{memory_ratio:>10.2f}",
                    flush=True,
                )
                if ratio > TIME_TARGET:
                    missed.append(f"{label} {rows:,} 行:b/a {ratio:.2f} > {TIME_TARGET}")
                if total >= target:
                    missed.append(f"{label} {rows:,} 行:峰值 {total:.0f} MB ≥ {target} MB")
        print(
            f"目标:b/a ≤ {TIME_TARGET};峰值(服务器 + 读取进程)10 万行以内 < 250 MB,30 万行以内 < 300 MB"
            f"(各取 {args.repeat} 次中最快的秒数、最高的峰值)。CPU b/a:两步各自进程及其子进程的 CPU 秒之比"
            "(PostgreSQL 服务器进程的 CPU 不在内),机器繁忙时作对照"
        )
    for line in missed:
        print(f"未达标:{line}")
    print("全部达标" if not missed else f"未达标 {len(missed)} 项")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
