"""部门名单导入 in the app (AppTest, the demo county): the county officer uploads a list, sees its check and a
preview, imports it with a confirmation that says which version it replaces, then sees the versions and what
changed; a list with problems shows them and offers no import."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.app.conftest import sign_in
from tests.integration.test_dept_lists import ids, residents, workbook
from xueji.db import session_scope
from xueji.models import DeptList
from xueji.rules.dept_lists import ListKind
from xueji.ui.widgets import XLSX

PAGE = "pages/comparisons/lists.py"


def versions_of(engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).where(DeptList.kind == "residents")) or 0


def import_button(at):
    return next(b for b in at.button if b.label.startswith("导入 "))


def upload(at, data: bytes, round_: int = 0):
    at.file_uploader(key=f"lists_residents_{round_}_file").set_value(("户籍.xlsx", data, XLSX)).run()
    assert not at.exception
    return at


def test_the_officer_imports_a_list_and_sees_its_versions(demo_sqlite):
    before = versions_of(demo_sqlite)
    at = sign_in("demo_county")
    at.switch_page(PAGE).run()
    assert not at.exception and at.title[0].value == "部门名单导入"
    assert "公安(户籍)" in at.info[0].value
    rows = residents(demo_sqlite, ids(3, start=420))
    upload(at, workbook(ListKind.RESIDENTS, rows))
    assert {m.label: m.value for m in at.metric} == {"可导入的人": "3", "有错误的行": "0"}
    preview = at.dataframe[0].value
    assert list(preview["姓名"]) == [r["姓名"] for r in rows]
    assert "*" in preview["身份证号"].iloc[0]  # masked for the county officer
    assert any(f"第{before + 1}版" in m.value and "重新运行三比对" in m.value for m in at.markdown)
    import_button(at).click().run()  # pressed without the tick: nothing imported
    assert "请先勾选确认" in [e.value for e in at.error] and versions_of(demo_sqlite) == before
    at.checkbox[0].check()
    import_button(at).click().run()
    assert not at.exception, at.exception
    assert versions_of(demo_sqlite) == before + 1
    assert any(f"第{before + 1}版" in s.value and "3 人" in s.value for s in at.success)
    versions = at.dataframe[0].value
    assert versions["版本"].iloc[0] == f"第{before + 1}版" and versions["人数"].iloc[0] == 3
    assert at.file_uploader(key="lists_residents_1_file").value is None  # the file is not offered twice


def test_a_list_with_problems_shows_them_and_offers_no_import(demo_sqlite):
    at = sign_in("demo_county")
    at.switch_page(PAGE).run()
    rows = residents(demo_sqlite, ids(2, start=430))
    rows[1]["性别"] = "男" if rows[1]["性别"] == "女" else "女"
    upload(at, workbook(ListKind.RESIDENTS, rows))
    assert {m.label: m.value for m in at.metric}["有错误的行"] == "1"
    problems = at.dataframe[0].value
    assert list(problems["列"]) == ["性别"] and "身份证号" in problems["原因"].iloc[0]
    assert "有错误的行时不导入任何人" in at.warning[0].value
    assert not at.checkbox and not [b for b in at.button if b.label.startswith("导入 ")]  # no import
