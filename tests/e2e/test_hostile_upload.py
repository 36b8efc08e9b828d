"""The upload that used to take the server down, through the real 学籍导入 page in Chromium: a 1.6 KB xlsx
with two cells, A1 and XFD1048576 (python-calamine would ask for 512 GiB and abort the whole process). The
registrar sees a Chinese refusal; a teacher signed in from another browser context is served before, while
and after; the server process is the same one throughout. Then a file whose parsing the reading process's
memory limit kills (here set to 64 MB): again a refusal, and the server goes on."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.e2e.servers import ARTIFACTS, chromium, demo_database, sign_in, streamlit_server
from tests.hostile_workbooks import memory_bomb, sparse
from xueji.db import session_scope
from xueji.models import AuditLog

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('hostile-e2e') / 'app.db'}"
    engine = demo_database(url)
    with streamlit_server(url, XUEJI_IMPORT_MEMORY_MB="64") as (base, proc), chromium() as browser:
        yield base, proc, engine, browser


def teacher_is_served(page) -> None:  # noqa: ANN001
    """The other user clicks between two pages and gets each one drawn within 20 s."""
    for link in ("我的学生", "家访"):
        page.get_by_role("link", name=link, exact=True).click()
        page.get_by_role("heading", name=link, exact=True).wait_for(timeout=20_000)


def upload(page, path) -> None:  # noqa: ANN001
    """Open 学籍导入 and hand the file to its uploader (the page reads it while the test goes on)."""
    page.get_by_role("link", name="学籍导入").click()
    page.get_by_role("heading", name="学籍导入").wait_for(timeout=30_000)
    page.locator('input[type="file"]').set_input_files(str(path))


def refusals(engine) -> int:  # noqa: ANN001
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).where(AuditLog.outcome == "refused")) or 0


def test_the_two_cell_file_is_refused_and_another_user_is_served_throughout(server, tmp_path):
    url, proc, engine, browser = server
    path = tmp_path / "两个单元格.xlsx"
    path.write_bytes(sparse("XFD1048576"))
    assert len(path.read_bytes()) < 2048
    teacher = sign_in(browser, url, "demo_teacher")
    teacher.get_by_role("heading", name="家访", exact=True).wait_for(timeout=30_000)
    registrar = sign_in(browser, url, "demo_registrar")
    teacher_is_served(teacher)  # before
    before = refusals(engine)

    upload(registrar, path)
    teacher_is_served(teacher)  # while the file is being read
    registrar.get_by_text("有单元格位于 XFD1048576").wait_for(timeout=30_000)
    assert "1,048,576 行 × 16,384 列" in registrar.get_by_text("有单元格位于 XFD1048576").inner_text()
    teacher_is_served(teacher)  # after

    assert proc.poll() is None  # the very same server process
    assert refusals(engine) == before + 1  # audited
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    registrar.screenshot(path=str(ARTIFACTS / "hostile_upload_refused.png"), full_page=True)
    # the registrar's own session goes on too: the page still answers after the refusal
    registrar.get_by_role("link", name="学籍导入").click()
    registrar.get_by_role("heading", name="学籍导入").wait_for(timeout=30_000)
    registrar.close()
    teacher.close()


def test_a_parser_killed_by_the_memory_limit_is_a_refusal_and_the_server_goes_on(server, tmp_path):
    url, proc, engine, browser = server
    path = tmp_path / "全县学籍.xlsx"
    path.write_bytes(memory_bomb())  # the reader streams a 20,000-row file within 64 MB; not these strings
    teacher = sign_in(browser, url, "demo_teacher")
    teacher.get_by_role("heading", name="家访", exact=True).wait_for(timeout=30_000)
    registrar = sign_in(browser, url, "demo_registrar")

    upload(registrar, path)
    teacher_is_served(teacher)
    registrar.get_by_text("读取文件时超出内存上限(64 MB)").wait_for(timeout=60_000)
    teacher_is_served(teacher)
    assert proc.poll() is None
    registrar.close()
    teacher.close()
