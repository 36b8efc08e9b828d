"""Hostile uploads, through the services and the command line, on SQLite and PostgreSQL: each is refused
within 5 s, the server process grows by less than 500 MB and so does the reading process, the refusal is
audited (who, the file's SHA-256 and name, why), and a reading process that a file kills or that runs too
long ends in a Chinese refusal while the server process goes on serving."""

from __future__ import annotations

import functools
import hashlib
import re
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from tests.conftest import DEMO_TODAY, SMALL_DEMO, _postgres_database
from tests.hostile_workbooks import HOSTILE, many_rows, memory_bomb
from xueji.cli import main as xueji_main
from xueji.config import get_settings
from xueji.db import make_engine, migrate, session_scope
from xueji.demo import load_demo
from xueji.demo.registry_file import template_rows, template_workbook
from xueji.excel.limits import TemplateError
from xueji.excel.sandbox import last_reading
from xueji.models import AppUser, AuditLog, School, SweepVillage, Township, Village
from xueji.rules.sweeps import VillageStatus
from xueji.services.cases import visit_import
from xueji.services.home_teaching import visit_import as home_visit_import
from xueji.services.registry import checks, file_import
from xueji.services.sweeps import sheet_import
from xueji.services.system import holidays
from xueji.services.system.accounts import actor_of

pytestmark = pytest.mark.usefixtures("fixed_today")
MB = 1024 * 1024
SECONDS, GROWTH = 5.0, 500 * MB
DEMO_SCHOOL = "2143016965"


@functools.cache
def hostile(name: str) -> bytes:
    return HOSTILE[name]()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def county(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One demo county per database kind for the whole module (the refusals write nothing but audit)."""
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'xueji.db'}"])
    else:
        urls = _postgres_database()
    url = next(urls)
    engine = make_engine(url)
    migrate(engine)
    with pytest.MonkeyPatch.context() as patch, session_scope(engine) as session:
        patch.setenv("XUEJI_TODAY", DEMO_TODAY)
        get_settings.cache_clear()
        load_demo(session, SMALL_DEMO)
    get_settings.cache_clear()
    yield engine
    next(urls, None)  # drops the PostgreSQL database


def actor(engine: Engine, username: str):
    with session_scope(engine) as session:
        return actor_of(session.scalar(select(AppUser).where(AppUser.username == username)))


def _status(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith(field))


def refused_in_bounds(call: Callable[[], object]) -> str:
    """Run a call that must refuse the file; check the time, the server process's growth (its peak resident
    memory during the call above what it held before) and the reading process's peak; return the reason."""
    before = _status("VmRSS:")
    with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
        clear.write("5")  # the peak (VmHWM) starts again from now
    last_reading.set(None)
    started = time.perf_counter()
    with pytest.raises(TemplateError) as refusal:
        call()
    elapsed = time.perf_counter() - started
    growth = _status("VmHWM:") - before
    reading = last_reading.get()
    assert elapsed < SECONDS, f"{elapsed:.1f} s"
    assert growth < GROWTH, f"server process grew by {growth / MB:.0f} MB"
    if reading is not None and reading.child_peak_bytes is not None:
        assert reading.child_peak_bytes < GROWTH, (
            f"reading process peaked at {reading.child_peak_bytes / MB:.0f} MB"
        )
    return str(refusal.value)


def last_refusal(engine: Engine, data: bytes) -> AuditLog:
    digest = hashlib.sha256(data).hexdigest()
    with Session(engine) as session:
        entry = session.scalar(
            select(AuditLog)
            .where(AuditLog.outcome == "refused", AuditLog.entity_id == digest[:40])
            .order_by(AuditLog.id.desc())
        )
        assert entry is not None, "the refusal was not audited"
        session.expunge(entry)
        return entry


EXPECTED = {  # a word of the Chinese reason each file must be refused with
    "A1 + XFD1048576": "XFD1048576(即至少 1,048,576 行 × 16,384 列)",
    "A1 + ZZ200000": "ZZ200000(即至少 200,000 行 × 702 列)",
    "declared A1:XFD1048576": "声明的数据范围为 A1:XFD1048576",
    "1,048,575 rows (Excel style)": "1,048,575 行",
    "1,048,575 rows, no r=, no dimension": "至少有 200,001 行",
    "16,384 columns": "16,384 列",
    "5,000 sheets": "个部件",
    "60 sheets": "60 个工作表",
    "6,000,000 shared strings": "共享字符串超过 5,000,000 个",
    "100,000 styles": "单元格格式超过 65,536 个",
    "entities in the sheet": "XML 实体",
    "entities in the workbook": "XML 实体",
    "entities in shared strings": "XML 实体",
    "entities in content types": "XML 实体",
    "entities in UTF-16": "不是 UTF-8 编码",
    "zip bomb, honest directory": "压缩炸弹",
    "zip bomb, lying directory": "文件已损坏",
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_each_hostile_file_is_refused_quickly_in_bounded_memory_and_audited(county, name):
    data = hostile(name)
    registrar = actor(county, "demo_registrar")

    def check() -> None:
        with session_scope(county) as session:
            file_import.check_file(session, actor=registrar, data=data, file_name=f"{name}.xlsx")

    reason = refused_in_bounds(check)
    assert EXPECTED[name] in reason
    entry = last_refusal(county, data)
    assert (entry.username, entry.action, entry.entity_type) == ("demo_registrar", "import", "upload")
    assert entry.after == {
        "import": "学籍导入",
        "file_name": f"{name}.xlsx",
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
    }
    assert EXPECTED[name][:8] in entry.detail and f"{name}.xlsx" in entry.detail


def _sweep_village(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(
            select(SweepVillage.id)
            .join(Village, SweepVillage.village_id == Village.id)
            .join(Township, Village.township_id == Township.id)
            .where(Township.code == "430181108000", SweepVillage.status == VillageStatus.IN_PROGRESS.value)
            .order_by(Village.code)
        )


IMPORTS = {  # every other upload of the product: who uploads, and the service call
    "家访导入": (
        "demo_teacher",
        lambda s, a, d, f, e: visit_import.check_visits(s, actor=a, data=d, file_name=f),
    ),
    "送教导入": (
        "demo_teacher",
        lambda s, a, d, f, e: home_visit_import.check_home_visits(s, actor=a, data=d, file_name=f),
    ),
    "排查导入": (
        "demo_township",
        lambda s, a, d, f, e: sheet_import.check_sweep(
            s, actor=a, sweep_village_id=_sweep_village(e), data=d, file_name=f
        ),
    ),
    "点名册上传": (
        "demo_registrar",
        lambda s, a, d, f, e: checks.attendance_upload(s, actor=a, data=d, file_name=f),
    ),
    "节假日安排导入": (
        "demo_admin",
        lambda s, a, d, f, e: holidays.import_days(s, actor=a, data=d, file_name=f),
    ),
}


@pytest.mark.parametrize("upload", list(IMPORTS))
@pytest.mark.parametrize(
    "name",
    [
        "A1 + XFD1048576",
        "entities in UTF-16",
        "zip bomb, lying directory",
        "1,048,575 rows, no r=, no dimension",
    ],
)
def test_every_other_upload_refuses_them_too(county, upload, name):
    username, call = IMPORTS[upload]
    data = hostile(name)
    who = actor(county, username)

    def check() -> None:
        with session_scope(county) as session:
            call(session, who, data, "hostile.xlsx", county)

    reason = refused_in_bounds(check)
    entry = last_refusal(county, data)
    assert entry.username == username and entry.after["import"] == upload
    if name.startswith("1,048,575"):  # the small imports have small caps
        limit = (
            get_settings().uploads.rows_lists
            if upload in ("点名册上传", "节假日安排导入")
            else get_settings().uploads.rows_records
        )
        assert f"至少有 {limit + 1:,} 行" in reason and f"允许的 {limit:,} 行" in reason


@pytest.mark.parametrize("name", ["A1 + XFD1048576", "zip bomb, lying directory"])
def test_the_command_line_import_refuses_them_and_audits(county, name, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XUEJI_DATABASE_URL", county.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    path = tmp_path / "县学籍.xlsx"
    path.write_bytes(hostile(name))
    started = time.perf_counter()
    assert xueji_main(["import", "students", str(path), "--as", "demo_registrar"]) == 1
    assert time.perf_counter() - started < SECONDS
    assert EXPECTED[name] in capsys.readouterr().err
    entry = last_refusal(county, hostile(name))
    assert entry.username == "demo_registrar" and entry.after["file_name"] == "县学籍.xlsx"
    get_settings.cache_clear()


def registry_file(rows: int, schools: int = 1) -> bytes:
    codes = [(DEMO_SCHOOL, "primary"), *((f"21439{i:05d}", "primary") for i in range(1, schools))]
    return template_workbook(list(template_rows(codes, rows, school_year=2026, seed=3)))


def test_a_reading_out_of_memory_is_a_refusal_and_the_server_goes_on(county, monkeypatch):
    data = memory_bomb()
    registrar = actor(county, "demo_registrar")
    monkeypatch.setenv("XUEJI_IMPORT_MEMORY_MB", "64")
    get_settings.cache_clear()
    with (
        session_scope(county) as session,
        pytest.raises(TemplateError, match=re.escape("超出内存上限(64 MB)")),
    ):
        file_import.check_file(session, actor=registrar, data=data, file_name="学籍.xlsx")
    reading = last_reading.get()
    assert reading is not None and reading.outcome == "memory"  # the reading process ran out, not the server
    assert "内存上限" in last_refusal(county, data).detail
    # a 20,000-row file streams through the same 64 MB allowance (calamine needed about 80 MB a 20,000 rows)
    normal = registry_file(20_000, schools=3)
    with session_scope(county) as session:  # this process is still here, and reads the next file
        sheet = file_import.check_file(session, actor=registrar, data=normal, file_name="学籍.xlsx")
    assert len(sheet.rows) == 20_000 and last_reading.get().outcome == "end"
    monkeypatch.delenv("XUEJI_IMPORT_MEMORY_MB")
    get_settings.cache_clear()


def test_a_reading_that_runs_too_long_is_stopped_and_refused(county, monkeypatch):
    data = registry_file(60_000, schools=3)  # about 2.5 s to read
    monkeypatch.setenv("XUEJI_IMPORT_SECONDS", "1")
    get_settings.cache_clear()
    started = time.perf_counter()
    with session_scope(county) as session, pytest.raises(TemplateError, match="用时超过 1 秒"):
        file_import.check_file(session, actor=actor(county, "demo_registrar"), data=data, file_name="慢.xlsx")
    assert time.perf_counter() - started < 3
    assert last_reading.get().outcome == "timeout"
    get_settings.cache_clear()


def test_each_import_has_its_own_row_cap_from_the_settings(county, monkeypatch):
    monkeypatch.setenv("XUEJI_IMPORT_MAX_ROWS_LISTS", "5")
    get_settings.cache_clear()
    data = many_rows(6, dimension=False)
    with (
        session_scope(county) as session,
        pytest.raises(TemplateError, match="节假日安排导入允许的 5 行 × 200 列"),
    ):
        holidays.import_days(session, actor=actor(county, "demo_admin"), data=data, file_name="假期.xlsx")
    get_settings.cache_clear()


def test_an_ordinary_file_still_imports(county):
    registrar = actor(county, "demo_registrar")
    data = registry_file(50)
    with session_scope(county) as session:
        result = file_import.import_file(
            session, actor=registrar, data=data, school_code=DEMO_SCHOOL, file_name="新生.xlsx"
        )
    assert result.created == 50
    with Session(county) as session:
        assert session.scalar(select(School.name).where(School.code == DEMO_SCHOOL))
