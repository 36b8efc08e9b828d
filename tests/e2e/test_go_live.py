"""Going live from an empty database in a real browser, with no demo code involved: `xueji init` prints the first
administrator's one-time password; the administrator signs in, changes it, lands on 上线清单, imports the set-up
workbook and sees the terms; the first county officer is made on the command line; the administrator imports the
accounts as a batch, the county officer approves it and downloads the one-time passwords; the registrar imports the
school's first registry file; the teacher sees exactly the students of their class. Screenshots go to
artifacts/e2e/go_live_*.png."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from tests.e2e.servers import ARTIFACTS, ROOT, chromium, shots_on_failure, streamlit_server
from xueji.db import make_engine, session_scope
from xueji.excel import account_template, setup_template
from xueji.excel.account_template import AccountLine, ClassLine
from xueji.models import Student
from xueji.rules.id_number import build_id_number
from xueji.rules.registry_record import COLUMNS, example_cells
from xueji.rules.setup_rows import COUNTY_SHEET, SCHOOL_SHEET, TERM_SHEET, TOWNSHIP_SHEET, VILLAGE_SHEET
from xueji.rules.term_calendar import TERM_NAMES
from xueji.rules.vocab import Role, SchoolKind
from xueji.services.system import deployment

pytestmark = pytest.mark.e2e

TODAY = "2026-11-23"  # a Monday of the first term of 2026-2027
WAIT = 60_000  # ms: a page's first run imports the app on a slow shared machine
COUNTY = ("430626000000", "平江县")
TOWNSHIPS = [("430626100000", "汉昌镇"), ("430626101000", "安定镇")]
VILLAGES = [("430626100201", "天岳村"), ("430626100202", "城北社区"), ("430626101201", "安定村")]
SCHOOL = ("4306260001", "汉昌镇中心小学")
SCHOOLS = [
    (*SCHOOL, SchoolKind.PRIMARY.label, TOWNSHIPS[0][0]),
    ("4306260002", "安定镇中学", SchoolKind.JUNIOR.label, TOWNSHIPS[1][0]),
]
# This school year's two terms, every date a working day clear of the public holidays and the Spring Festival.
TERMS = [
    ("2026-2027", TERM_NAMES[1], date(2026, 9, 1), date(2027, 1, 22)),
    ("2026-2027", TERM_NAMES[2], date(2027, 2, 22), date(2027, 7, 9)),
]
CLASS_CODE = "2026101"  # 小学2026级(01)班: grade 1 this school year
REGISTRAR = AccountLine("hc.xuji", "周晓梅", Role.REGISTRAR, SCHOOL[0], "13907300001")
TEACHER = AccountLine("hc.liu", "刘静", Role.TEACHER, SCHOOL[0], "13907300002")
STUDENTS = ["陈子涵", "彭雨桐", "黄俊熙", "吴可欣"]
NEW_PASSWORDS = {  # what each person chooses at their first sign-in
    "admin": "Pingjiang#2026a",
    "pj.county": "Pingjiang#2026c",
    REGISTRAR.username: "Pingjiang#2026r",
    TEACHER.username: "Pingjiang#2026t",
}


def setup_workbook() -> bytes:
    return setup_template.filled_workbook(
        {
            COUNTY_SHEET: [COUNTY],
            TOWNSHIP_SHEET: TOWNSHIPS,
            VILLAGE_SHEET: VILLAGES,
            SCHOOL_SHEET: SCHOOLS,
            TERM_SHEET: TERMS,
        }
    )


def accounts_workbook() -> bytes:
    return account_template.filled_workbook(
        [REGISTRAR, TEACHER], [ClassLine(TEACHER.username, SCHOOL[0], CLASS_CODE, head_teacher=True)]
    )


def registry_workbook() -> bytes:
    """The national template's columns (by their headers) with one row per student of the teacher's class:
    first-graders born in 2020, living in the county's villages, with valid ID numbers."""
    wb = Workbook()
    ws = wb.active
    ws.append([c.header for c in COLUMNS])
    for n, name in enumerate(STUDENTS):
        birth = date(2020, 3 + n, 10 + n)
        male = n % 2 == 0
        village = VILLAGES[n % 2][0]
        address = f"平江县汉昌镇{VILLAGES[n % 2][1]}{n + 1}组"
        cells = {
            **example_cells(),
            "school_code": SCHOOL[0],
            "name": name,
            "sex": "男" if male else "女",
            "birth_date": f"{birth:%Y%m%d}",
            "birthplace_code": TOWNSHIPS[0][0],
            "native_place": "湖南平江",
            "id_number": build_id_number("430626", birth, 10 + n, male=male),
            "household_code": village,
            "class_code": CLASS_CODE,
            "entry_month": "202609",
            "current_address": address,
            "mailing_address": address,
            "home_address": address,
            "m1_name": f"{name[0]}国强",
            "m1_household_code": village,
            "m1_phone": f"1390730{1000 + n}",
            "m1_workplace": "平江县",
            "m2_name": "",
            "m2_relation": "",
            "m2_household_code": "",
            "m2_is_guardian": "",
        }
        ws.append([cells[c.key] for c in COLUMNS])
    for row in ws.iter_rows():
        for cell in row:
            cell.number_format = "@"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def xueji(*args: str, env: dict[str, str]) -> str:
    """Run the command line as an operator would; its printed output."""
    done = subprocess.run(
        [sys.executable, "-m", "xueji.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def shot(page, name: str) -> None:  # noqa: ANN001
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(800)  # let tables draw before the screenshot
    page.screenshot(path=str(ARTIFACTS / f"go_live_{name}.png"), full_page=True)


def sign_in_first_time(browser, url: str, username: str, one_time: str):  # noqa: ANN001, ANN201
    """Sign in with a one-time password: the app allows nothing but the change; the user's pages come after."""
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page.goto(url)
    page.get_by_label("账号").fill(username)
    page.get_by_label("密码").fill(one_time)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("heading", name="修改密码").wait_for(timeout=WAIT)
    assert page.get_by_role("button", name="退出登录").count() == 0  # no menu, no page before the change
    page.get_by_label("原密码").fill(one_time)
    page.get_by_label("新密码", exact=True).fill(NEW_PASSWORDS[username])
    page.get_by_label("再次输入新密码").fill(NEW_PASSWORDS[username])
    page.get_by_role("button", name="保存").click()
    page.get_by_role("button", name="退出登录").wait_for(timeout=WAIT)  # the menu of a signed-in user
    return page


def open_page(page, title: str) -> None:  # noqa: ANN001
    page.get_by_role("link", name=title, exact=True).click()
    page.get_by_role("heading", name=title, exact=True).wait_for(timeout=WAIT)


def upload(page, data: bytes, name: str, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / name
    path.write_bytes(data)
    page.locator('input[type="file"]').set_input_files(str(path))


def test_a_county_goes_live_from_an_empty_database(database_url, tmp_path):
    """On a fresh SQLite file, and on a fresh PostgreSQL database (its screenshots named go_live_pg_*)."""
    url = database_url
    kind = "" if url.startswith("sqlite") else "pg_"
    env = {
        **os.environ,
        "XUEJI_DATABASE_URL": url,
        "XUEJI_TODAY": TODAY,
        "XUEJI_AUDIT_ANCHOR_FILE": str(tmp_path / "audit-anchors.log"),
    }
    env.pop("XUEJI_ADMIN_PASSWORD", None)  # the password is made and printed, as on a real server

    # a. `xueji init` on an empty database prints the first administrator's one-time password.
    printed = xueji("init", env=env)
    found = re.search(r"首个系统管理员账号:(\S+)\s+一次性密码:(\S+)", printed)
    assert found, printed
    admin, admin_once = found.groups()
    assert admin == "admin"

    with (
        streamlit_server(url, XUEJI_TODAY=TODAY) as (base, _),
        chromium() as browser,
        shots_on_failure(browser, "go_live"),
    ):
        # b. The administrator: the forced change, the checklist, the set-up workbook, the terms.
        page = sign_in_first_time(browser, base, admin, admin_once)
        page.get_by_role("heading", name="上线清单").wait_for(timeout=WAIT)
        page.get_by_text("县区").first.wait_for(timeout=WAIT)
        shot(page, kind + "1_checklist")

        open_page(page, "基础数据导入")
        upload(page, setup_workbook(), "平江县上线设置.xlsx", tmp_path)
        page.get_by_role("heading", name="检查结果").wait_for(timeout=WAIT)
        page.get_by_role("heading", name="学校:新增 2,修改 0").wait_for(timeout=WAIT)
        page.get_by_text("我已核对上面的新增和修改内容").click()
        page.get_by_role("button", name="确认导入:新增 10 条,修改 0 条").click()
        page.get_by_text("导入完成").wait_for(timeout=WAIT)
        shot(page, kind + "2_setup_imported")

        open_page(page, "学期设置")
        page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=WAIT)
        for term in ("2026-09-01", "2027-02-22"):
            page.get_by_text(term).first.wait_for(state="attached", timeout=WAIT)
        shot(page, kind + "3_terms")

        # c. The first county officer, made on the command line.
        printed = xueji(
            "user", "add", "pj.county", "--name", "彭建华", "--role", Role.COUNTY_OFFICER.value,
            "--scope-kind", "county", "--scope", COUNTY[0], env=env,
        )  # fmt: skip
        found = re.search(r"一次性密码:(\S+?)\(首次登录须修改\)", printed)
        assert found, printed
        county_once = found.group(1)

        # d. The administrator files the accounts as one batch of requests.
        open_page(page, "账号导入")
        upload(page, accounts_workbook(), "汉昌镇中心小学账号.xlsx", tmp_path)
        page.get_by_role("heading", name="将申请新建的账号").wait_for(timeout=WAIT)
        page.get_by_text("我已核对名单").click()
        page.get_by_role("button", name="提交批量申请(2 个账号)").click()
        page.get_by_text("申请新建账号 2 个").wait_for(timeout=WAIT)
        shot(page, kind + "4_accounts_filed")
        page.close()

        # e. The county officer approves the batch and downloads the one-time passwords.
        page = sign_in_first_time(browser, base, "pj.county", county_once)
        open_page(page, "账号审批")
        page.get_by_role("heading", name="批量申请(账号导入)").wait_for(timeout=WAIT)
        page.get_by_text("我已与学校或本人核实这 2 个账号").click()
        page.get_by_role("button", name="批准这 2 个账号").click()
        page.get_by_text("中的 2 个账号(新建班级 1 个)").wait_for(timeout=WAIT)
        shot(page, kind + "5_batch_approved")
        with page.expect_download(timeout=WAIT) as download:
            page.get_by_role("button", name="下载一次性密码(xlsx)").click()
        sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
        rows = list(sheet.iter_rows(values_only=True))
        header = list(rows[0])
        once = {r[header.index("账号")]: r[header.index("一次性密码")] for r in rows[1:]}
        assert set(once) == {REGISTRAR.username, TEACHER.username}
        # the file is gone from the page, and the page says where it went
        page.get_by_text("已下载一次性密码文件").wait_for(timeout=WAIT)
        page.get_by_role("button", name="下载一次性密码(xlsx)").wait_for(state="detached", timeout=WAIT)
        page.close()

        # f. The registrar imports the school's first registry file.
        page = sign_in_first_time(browser, base, REGISTRAR.username, once[REGISTRAR.username])
        open_page(page, "学籍导入")
        upload(page, registry_workbook(), "汉昌镇中心小学学籍.xlsx", tmp_path)
        commit = page.get_by_role("button", name=f"确认导入:新增 {len(STUDENTS)} 人,更新 0 人")
        commit.wait_for(timeout=WAIT)
        commit.click()
        page.get_by_text("导入完成").wait_for(timeout=WAIT)
        shot(page, kind + "6_registry_imported")
        page.close()

        # g. The teacher sees exactly the students of their class.
        page = sign_in_first_time(browser, base, TEACHER.username, once[TEACHER.username])
        open_page(page, "我的学生")
        page.get_by_text(f"共 {len(STUDENTS)} 名学生").wait_for(timeout=WAIT)
        for name in STUDENTS:
            page.get_by_text(name).first.wait_for(state="attached", timeout=WAIT)
        shot(page, kind + "7_teacher_students")
        page.close()

    engine = make_engine(url)
    with session_scope(engine) as session:
        assert sorted(session.scalars(select(Student.name))) == sorted(STUDENTS)
        assert not deployment.holds_demo(session)  # nothing of the demo came in on the way
    engine.dispose()
