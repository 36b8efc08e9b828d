"""账号导入 and 账号审批 in the app (AppTest, an empty SQLite database with a county made directly): the
administrator uploads a workbook, sees the plan or the rows with problems, files a batch; the county officer
sees the batch on 账号审批, approves it with one confirmation and gets the passwords file to download once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from tests.app.conftest import sign_in
from tests.factories import SMALL_COUNTY, small_county
from xueji.db import session_scope
from xueji.excel.account_template import AccountLine, ClassLine, filled_workbook
from xueji.models import AppUser, RoleGrant, SchoolClass
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.system import accounts
from xueji.ui.widgets import XLSX

PASSWORD = "Qk7#mPz2Lw"  # noqa: S105 - the test accounts' password
GUGANG = "2143016965"
ACCOUNTS = [
    AccountLine("t.gugang", "古老师", Role.TEACHER, GUGANG, "13800001111"),
    AccountLine("town1", "刘专干", Role.TOWNSHIP_OFFICIAL, "430181108000"),
]
CLASSES = [ClassLine("t.gugang", GUGANG, "2026101", True)]


@pytest.fixture
def county_app(app_sqlite):
    """The county and an administrator and a county officer who need not change their password."""
    with session_scope(app_sqlite) as session:
        small_county(session)
        system = accounts.system_actor(session)
        for username, role in (("admin1", Role.ADMIN), ("county1", Role.COUNTY_OFFICER)):
            accounts.create_user(
                session, actor=system, username=username, display_name=username, role=role,
                scope_kind=ScopeKind.COUNTY, scope_code=SMALL_COUNTY, password=PASSWORD,
            )  # fmt: skip
        session.execute(update(AppUser).values(must_change_password=False))
        session.commit()
    return app_sqlite


def count(engine, model, *where) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def upload(at, data: bytes):
    at.switch_page("pages/setup/import_accounts.py").run()
    assert not at.exception
    at.file_uploader(key="accounts_import_0_file").set_value(("账号.xlsx", data, XLSX)).run()
    assert not at.exception
    return at


def test_a_good_file_is_previewed_and_filed_as_a_batch(county_app):
    at = upload(sign_in("admin1", PASSWORD), filled_workbook(ACCOUNTS, CLASSES))
    assert {m.label: m.value for m in at.metric}["新建账号"] == "2"
    plan = at.dataframe[0].value
    assert set(plan["角色"]) == {"班主任/教师", "乡镇干部"}
    submit = at.button(key="accounts_import_0_submit")
    assert submit.disabled  # not before the list is confirmed
    at.checkbox(key="accounts_import_0_sure").check().run()
    at.button(key="accounts_import_0_submit").click().run()
    assert not at.exception
    assert "已提交批次" in at.success[0].value
    assert count(county_app, RoleGrant, RoleGrant.batch.is_not(None), RoleGrant.status == "pending") == 2
    assert count(county_app, AppUser, AppUser.username == "t.gugang") == 0
    assert "待批准" in at.dataframe[-1].value.columns  # the batch listed among those filed


def test_a_bad_file_shows_its_problems_and_the_error_workbook_and_cannot_be_filed(county_app):
    bad = [
        AccountLine("张三", "张三", Role.TEACHER, GUGANG),
        AccountLine("admin2", "管理", Role.ADMIN, SMALL_COUNTY),
    ]
    at = upload(sign_in("admin1", PASSWORD), filled_workbook(bad))
    problems = at.dataframe[0].value
    assert list(problems.columns) == ["工作表", "行号", "列", "填写内容", "原因"]
    assert any("只能由运维在服务器命令行上逐个创建" in r for r in problems["原因"])
    assert at.get("download_button")  # the template and the error workbook
    assert at.button(key="accounts_import_0_submit").disabled
    assert count(county_app, RoleGrant) == 0


def test_the_county_officer_approves_the_batch_on_the_approvals_page_and_gets_the_passwords(county_app):
    at = upload(sign_in("admin1", PASSWORD), filled_workbook(ACCOUNTS, CLASSES))
    at.checkbox(key="accounts_import_0_sure").check().run()
    at.button(key="accounts_import_0_submit").click().run()

    officer = sign_in("county1", PASSWORD)
    officer.switch_page("pages/system/approvals.py").run()
    assert not officer.exception
    assert "您可批准 2 个账号" in officer.selectbox(key="batch_pick").value.label
    officer.button(key="batch_approve").click().run()  # not confirmed: refused, nothing created
    assert "请先勾选" in officer.error[0].value
    assert count(county_app, AppUser, AppUser.username == "t.gugang") == 0
    officer.checkbox(key="batch_sure").check()
    officer.button(key="batch_approve").click().run()
    assert not officer.exception
    assert "已批准批次" in officer.success[0].value
    downloads = [d for d in officer.get("download_button") if "一次性密码" in d.proto.label]
    assert len(downloads) == 1
    assert count(county_app, AppUser, AppUser.username.in_(["t.gugang", "town1"])) == 2
    assert (
        count(
            county_app, SchoolClass, SchoolClass.code == "2026101", SchoolClass.head_teacher_id.is_not(None)
        )
        == 1
    )
    assert "目前没有待您审批的申请" not in [i.value for i in officer.info]
