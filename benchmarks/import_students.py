"""Benchmark: xueji's full registry import against the floor of reading and bulk-inserting the same file.

    python benchmarks/import_students.py [--rows 100000] [--postgres URL]

Writes a template of N valid rows once, then on each database (a fresh SQLite file, and PostgreSQL when a
URL is given or XUEJI_TEST_PG_URL is set) measures, in the same run:

  (a) the floor: python-calamine reads the file, one executemany inserts the rows into a bare table;
  (b) xueji: check_file + commit_import (parse, validate every field, 查重, class sizes, write, audit).

Each step runs in a child process so its peak memory (ru_maxrss) is its own. Prints seconds, the ratio
b / a (target ≤ 2.0) and the peak memory of (b) (target < 600 MB).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def write_xlsx(path: Path, header: list[str], rows: list[list[str]]) -> None:
    """A minimal valid xlsx with inline-string cells: openpyxl takes ~40 s for 100k rows, this ~2 s."""

    def cells(values: list[str]) -> str:
        return "".join(f'<c t="inlineStr"><is><t>{escape(v)}</t></is></c>' if v else "<c/>" for v in values)

    sheet = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>']  # fmt: skip
    sheet.append(f'<row r="1">{cells(header)}</row>')
    sheet.extend(f'<row r="{i}">{cells(row)}</row>' for i, row in enumerate(rows, start=2))
    sheet.append("</sheetData></worksheet>")
    ns = "http://schemas.openxmlformats.org"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{ns}/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType='
            '"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{ns}/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{ns}/spreadsheetml/2006/main" '
            f'xmlns:r="{ns}/officeDocument/2006/relationships"><sheets>'
            '<sheet name="学生信息" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{ns}/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>',
        )
        z.writestr("xl/worksheets/sheet1.xml", "".join(sheet))


def _prepare_database(url: str, *, demo: bool) -> list[tuple[str, str]]:
    from sqlmodel import Session, select

    from xueji.db import make_engine, migrate
    from xueji.demo.build import DemoSpec, load_demo
    from xueji.models import School

    engine = make_engine(url)
    migrate(engine)
    with Session(engine) as session:
        if demo:
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
    from xueji.services.accounts import system_actor
    from xueji.services.registry_import import import_file

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
    """Run one step in a fresh interpreter; return (seconds, peak MB)."""
    command = [sys.executable, __file__, "--step", step, "--url", url, "--file", str(path)]
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    seconds, peak = json.loads(out.stdout.strip().splitlines()[-1])
    return seconds, peak


def _run_step(step: str, url: str, path: Path) -> int:
    seconds = {"floor": step_floor, "xueji": step_xueji}[step](url, path)
    print(json.dumps([seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024]))
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
    parser.add_argument("--postgres", default=os.environ.get("XUEJI_TEST_PG_URL"))
    parser.add_argument("--step", choices=["floor", "xueji"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("XUEJI_TODAY", "2026-11-23")
    if args.step:
        return _run_step(args.step, args.url, args.file)

    from xueji.demo.registry_file import template_rows
    from xueji.rules.registry_record import COLUMNS

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        databases = {"SQLite": f"sqlite:///{work / 'bench.db'}"}
        if args.postgres:
            databases["PostgreSQL"] = _fresh_postgres(args.postgres, "xueji_bench_import")
        schools = _prepare_database(databases["SQLite"], demo=True)
        for url in list(databases.values())[1:]:
            _prepare_database(url, demo=True)
        path = work / "template.xlsx"
        started = time.perf_counter()
        rows = template_rows(schools, args.rows, school_year=2026)
        write_xlsx(path, [c.header for c in COLUMNS], [[r[c.key] for c in COLUMNS] for r in rows])
        print(
            f"模板:{args.rows} 行,{path.stat().st_size / 1048576:.1f} MB,生成 {time.perf_counter() - started:.1f} s"
        )
        print(f"{'数据库':<12}{'(a) 下限 s':>12}{'(b) xueji s':>13}{'b/a':>7}{'(b) 峰值内存 MB':>18}")
        worst = 0.0
        for label, url in databases.items():
            floor, _ = _child("floor", url, path)
            ours, peak = _child("xueji", url, path)
            ratio = ours / floor
            worst = max(worst, ratio)
            print(f"{label:<12}{floor:>12.2f}{ours:>13.2f}{ratio:>7.2f}{peak:>18.0f}")
        print(f"目标:b/a ≤ 2.0,峰值内存 < 600 MB;最差比值 {worst:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
