"""The account pages as their users see them: the administrator asks, the county officer finds the request in the
sidebar and approves it on 账号审批 and is shown the one-time password; wrong old passwords end the session."""

import re

from sqlalchemy import text

from tests.app.conftest import sign_in
from tests.factories import new_teacher
from xueji.db import session_scope
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.system import accounts


def _button(at, label):
    return next(b for b in at.button if b.label == label)


def _text(at, label_start):
    return next(t for t in at.text_input if t.label.startswith(label_start))


def _ask_for_teacher(admin, username, name):
    _text(admin, "账号(").input(username)
    _text(admin, "姓名").input(name)
    next(s for s in admin.selectbox if s.label == "角色").set_value(Role.TEACHER)
    next(s for s in admin.selectbox if s.label == "管辖范围").set_value(ScopeKind.SCHOOL)
    _text(admin, "范围代码(").input("2143016965")
    _button(admin, "提交申请").click().run()


def test_the_admin_asks_and_the_county_officer_approves_and_hands_over_the_password(demo_sqlite):
    admin = sign_in("demo_admin")
    admin.switch_page("pages/system/users.py").run()
    _ask_for_teacher(admin, "zhou_new", "周新")
    assert not admin.exception
    assert "待本校学籍管理员或本县县教育局" in admin.success[0].value
    assert "一次性密码:`" not in admin.success[0].value  # the administrator is never shown a password
    admin.run()
    pending = admin.dataframe[1].value
    assert list(pending["账号"]) == ["zhou_new"] and list(pending["由谁批准"]) == [
        "本校学籍管理员或本县县教育局"
    ]

    county = sign_in("demo_county")
    assert any("1 条账号申请待您审批" in w.value for w in county.sidebar.warning)
    county.switch_page("pages/system/approvals.py").run()
    assert not county.exception
    row = county.dataframe[0].value.iloc[0]
    assert (row["申请"], row["账号"], row["申请的角色"], row["申请的管辖范围"]) == (
        "新建账号",
        "zhou_new",
        "班主任/教师",
        "古港镇完全小学",
    )
    _button(county, "批准").click().run()
    assert not county.exception
    message = county.success[0].value
    password = re.search(r"一次性密码:`([^`]+)`", message).group(1)
    assert "当面交给本人" in message
    assert not county.sidebar.warning  # nothing waits any more

    new = sign_in("zhou_new", password)
    assert new.title[0].value == "修改密码"


def test_a_rejection_needs_a_reason_and_the_admin_reads_it(demo_sqlite):
    admin = sign_in("demo_admin")
    admin.switch_page("pages/system/users.py").run()
    _ask_for_teacher(admin, "li_new", "李新")
    registrar = sign_in("demo_registrar")
    registrar.switch_page("pages/system/approvals.py").run()
    _button(registrar, "驳回").click().run()
    assert "请填写驳回原因" in registrar.error[0].value
    _text(registrar, "驳回原因").input("本校无此人")
    _button(registrar, "驳回").click().run()
    assert "已驳回" in registrar.success[0].value
    admin.run()
    decided = admin.dataframe[-1].value
    assert (decided.iloc[0]["结果"], decided.iloc[0]["驳回原因"]) == ("已驳回", "本校无此人")


def test_wrong_old_passwords_on_the_change_form_lock_the_account_and_end_the_session(demo_sqlite):
    with session_scope(demo_sqlite) as session:
        admin = accounts.actor_by_username(session, "demo_admin")
        _, password = new_teacher(session, admin, "lock_t")
    at = sign_in("lock_t", password)
    assert at.title[0].value == "修改密码"
    for attempt in range(5):
        at.text_input(key="pw_old").input(f"Guess#{attempt}pw")
        at.text_input(key="pw_new").input("Gugang#2027")
        at.text_input(key="pw_again").input("Gugang#2027")
        at.button[0].click().run()
        assert not at.exception
    assert at.title[0].value == "学籍 · 控辍保学"
    assert "已锁定 10 分钟" in at.warning[0].value
    with demo_sqlite.connect() as conn:
        locked = conn.execute(
            text("SELECT locked_until FROM app_user WHERE username = 'lock_t'")
        ).scalar_one()
    assert locked is not None
