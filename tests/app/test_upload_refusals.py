"""A refused upload on the import pages (AppTest): the Chinese reason stays on screen across reruns, the file
is read and the refusal audited once; the table imports show theirs the same way."""

from __future__ import annotations

from sqlalchemy import text

from tests.app.conftest import sign_in
from tests.hostile_workbooks import sparse
from xueji.ui.widgets import XLSX


def _refusals(engine) -> int:  # noqa: ANN001
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM audit_log WHERE outcome = 'refused'")).scalar_one()


def test_a_refused_registry_file_keeps_its_reason_on_screen_and_is_audited_once(demo_sqlite):
    before = _refusals(demo_sqlite)
    at = sign_in("demo_registrar")
    at.switch_page("pages/registry/import_students.py").run()
    at.file_uploader(key="import_file").set_value(("两个单元格.xlsx", sparse("XFD1048576"), XLSX)).run()
    assert not at.exception
    assert "有单元格位于 XFD1048576" in at.error[0].value
    at.selectbox(key="import_school").select_index(0).run()  # any rerun
    assert not at.exception
    assert "有单元格位于 XFD1048576" in at.error[0].value
    assert _refusals(demo_sqlite) == before + 1
    with demo_sqlite.connect() as conn:
        detail = conn.execute(
            text("SELECT detail FROM audit_log WHERE outcome = 'refused' ORDER BY id DESC LIMIT 1")
        ).scalar_one()
    assert detail.startswith("学籍导入被拒绝:两个单元格.xlsx:工作表“Sheet1”有单元格位于 XFD1048576")


def test_the_visit_import_page_refuses_a_hostile_file_with_its_reason(demo_sqlite):
    at = sign_in("demo_teacher")
    at.switch_page("pages/cases/import_visits.py").run()
    at.file_uploader(key="visits_file").set_value(("家访.xlsx", sparse("ZZ200000"), XLSX)).run()
    assert not at.exception
    assert "家访导入允许的 20,000 行 × 200 列" in at.error[0].value
