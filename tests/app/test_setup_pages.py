"""基础数据导入 and 学期设置 in the app (AppTest, as the first administrator of an empty database): a good workbook
previews its new rows per sheet and imports on confirmation; a bad one shows the problem table and the error
workbook; the terms page lists the terms, adds a school year from pre-filled dates and refuses a holiday."""

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from tests.app.conftest import sign_in
from xueji.db import session_scope
from xueji.excel.setup_template import filled_workbook
from xueji.models import County, Term, Village
from xueji.rules.setup_rows import COUNTY_SHEET, SCHOOL_SHEET, TOWNSHIP_SHEET, VILLAGE_SHEET
from xueji.services.system import accounts
from xueji.ui.widgets import XLSX

FIRST, PASSWORD = "Gugang#2027x", "Liuyang#2028y"
COUNTY = {
    COUNTY_SHEET: [("430181000000", "浏阳市")],
    TOWNSHIP_SHEET: [("430181108000", "古港镇")],
    VILLAGE_SHEET: [("430181108201", "梅田村"), ("430181108202", "沔江村")],
    SCHOOL_SHEET: [("2143016965", "古港镇完全小学", "小学", "430181108000")],
}


@pytest.fixture
def admin_app(app_sqlite):
    """An empty database with its first administrator, whose one-time password has been changed."""
    with session_scope(app_sqlite) as session:
        accounts.create_first_admin(session, password=FIRST)
        admin = accounts.actor_by_username(session, "admin")
        accounts.change_password(session, actor=admin, old_password=FIRST, new_password=PASSWORD)
    return app_sqlite


def page(path: str) -> AppTest:
    at = sign_in("admin", PASSWORD)
    at.switch_page(path).run()
    assert not at.exception
    return at


def upload(at: AppTest, data: bytes) -> AppTest:
    at.file_uploader(key="setup_file").set_value(("上线设置.xlsx", data, XLSX)).run()
    assert not at.exception
    return at


def test_a_good_workbook_previews_its_new_rows_and_imports_on_confirmation(admin_app):
    at = upload(page("pages/setup/import_setup.py"), filled_workbook(COUNTY))
    assert at.title[0].value == "基础数据导入"
    headers = [s.value for s in at.subheader]
    assert "县区:新增 1,修改 0" in headers and "村社区:新增 2,修改 0" in headers
    summary = at.dataframe[0].value
    assert list(summary["工作表"]) == [COUNTY_SHEET, TOWNSHIP_SHEET, VILLAGE_SHEET, SCHOOL_SHEET]
    assert list(summary["新增"]) == [1, 1, 2, 1]
    schools = at.dataframe[-1].value  # a new school shows what it will be, to check before confirming
    assert list(schools["名称"]) == ["古港镇完全小学"] and list(schools["内容或变化"]) == ["小学,古港镇"]
    at.checkbox[0].check()
    next(b for b in at.button if b.label.startswith("确认导入")).click().run()
    assert not at.exception
    assert "导入完成:县区:新增 1" in at.success[0].value
    with session_scope(admin_app) as session:
        assert session.scalar(select(County.name)) == "浏阳市"
        assert session.scalar(select(func.count()).select_from(Village)) == 2


def test_a_bad_workbook_shows_the_problem_table_and_the_error_workbook(admin_app):
    bad = {**COUNTY, SCHOOL_SHEET: [("2143016965", "古港镇完全小学", "高级中学", "430181108000")]}
    at = upload(page("pages/setup/import_setup.py"), filled_workbook(bad))
    assert "有错误的行(1 行)" in [s.value for s in at.subheader]
    problems = at.dataframe[1].value
    assert list(problems.iloc[0]) == [
        SCHOOL_SHEET,
        5,
        "办学类型",
        "高级中学",
        "高级中学不实施义务教育,本系统不登记",
    ]
    assert any(b.proto.label.startswith("下载错误报告") for b in at.get("download_button"))
    assert "不导入任何数据" in at.warning[0].value
    assert not [b for b in at.button if b.label.startswith("确认导入")]


def test_the_terms_page_adds_a_prefilled_school_year_and_refuses_a_holiday(admin_app):
    at = upload(page("pages/setup/import_setup.py"), filled_workbook(COUNTY))
    at.checkbox[0].check()
    next(b for b in at.button if b.label.startswith("确认导入")).click().run()

    at.switch_page("pages/setup/terms.py").run()
    assert not at.exception
    assert at.info[0].value.startswith("尚未设置任何学期")
    assert at.number_input(key="add_year").value == 2026  # today is pinned to 2026-11-23
    dates = {d.label: d.value.isoformat() for d in at.date_input}
    assert dates == {
        "第一学期开学日期": "2026-09-01",
        "第一学期结束日期": "2027-01-20",
        "第二学期开学日期": "2027-02-22",
        "第二学期结束日期": "2027-07-09",
    }
    next(b for b in at.button if b.label == "保存该学年的两个学期").click().run()
    assert not at.exception
    assert at.success[0].value.startswith("已保存:2026-2027学年第一学期 2026-09-01 至 2027-01-20")
    table = at.dataframe[0].value
    assert list(table["学期"]) == ["第一学期", "第二学期"] and list(table["天数"]) == [142, 138]

    at.selectbox(key="change_term").select_index(0).run()
    start = next(d for d in at.date_input if d.label == "开学日期")
    start.set_value("2026-10-01")
    next(b for b in at.button if b.label == "保存修改").click().run()
    assert not at.exception
    assert "开学日期 2026-10-01 是国庆节假期,请改为节后第一个上课日(2026-10-08)" in at.error[0].value
    with session_scope(admin_app) as session:
        assert session.scalar(select(Term.start_date).where(Term.seq == 1)).isoformat() == "2026-09-01"
