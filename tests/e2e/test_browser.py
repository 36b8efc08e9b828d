"""Key journeys in a real browser: Debian's chromium driven by playwright against `streamlit run`."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select, text

from tests.e2e.servers import ARTIFACTS, chromium, demo_database, sign_in, streamlit_server
from xueji.db import session_scope
from xueji.demo.registry_file import template_rows, template_workbook
from xueji.models import AppUser
from xueji.services.home_teaching import board, records
from xueji.services.system.accounts import actor_of

pytestmark = pytest.mark.e2e


def nav(page, name: str):  # noqa: ANN001, ANN201
    """The menu's link to a page: a landing page may link to the same page in its own words."""
    return page.get_by_test_id("stSidebarNavItems").get_by_role("link", name=name, exact=True)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'app.db'}"
    engine = demo_database(url)
    with streamlit_server(url) as (base, _):
        yield base, engine


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def _shot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(1500)  # let charts and tables draw before the screenshot
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_the_county_officer_sees_chinese_and_the_enrolled_count(app_url, browser):
    url, engine = app_url
    with session_scope(engine) as session:
        enrolled = session.execute(
            text("SELECT count(*) FROM student WHERE status = 'enrolled'")
        ).scalar_one()
    page = sign_in(browser, url, "demo_county")
    page.get_by_role("heading", name="县域概况").wait_for(timeout=30_000)
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="在读学生")
    metric.wait_for(timeout=30_000)
    assert f"{enrolled:,}" in metric.inner_text()
    page.get_by_text("各学校").first.wait_for(timeout=30_000)
    _shot(page, "county_overview.png")
    page.close()


def test_a_teacher_sees_only_their_students_and_logs_out(app_url, browser):
    url, engine = app_url
    with session_scope(engine) as session:
        own = session.execute(
            text(
                "SELECT count(*) FROM (SELECT s.id FROM student s JOIN school_class k ON k.id = s.class_id "
                "JOIN app_user u ON u.id = k.head_teacher_id WHERE u.username = 'demo_teacher' "
                "UNION SELECT a.student_id FROM teacher_assignment a JOIN app_user u ON u.id = a.user_id "
                "WHERE u.username = 'demo_teacher' AND a.student_id IS NOT NULL) mine "
                "JOIN student s ON s.id = mine.id WHERE s.status = 'enrolled'"  # the list opens on 在读
            )
        ).scalar_one()
        school = session.execute(
            text(
                "SELECT count(*) FROM student s JOIN school c ON c.id = s.school_id WHERE c.code = '2143016965'"
            )
        ).scalar_one()
    assert 0 < own < school
    page = sign_in(browser, url, "demo_teacher")
    page.get_by_role("heading", name="家访", exact=True).wait_for(timeout=30_000)  # a teacher's home page
    nav(page, "我的学生").click()
    page.get_by_role("heading", name="我的学生").wait_for(timeout=30_000)
    page.get_by_text(f"共 {own} 名学生").wait_for(timeout=30_000)
    assert page.get_by_role("link", name="审计日志").count() == 0
    assert page.get_by_role("link", name="概况").count() == 0
    _shot(page, "teacher_students.png")
    page.get_by_role("button", name="退出登录").click()
    page.get_by_role("link", name="重新登录").wait_for(timeout=30_000)
    page.get_by_role("heading", name="我的学生").wait_for(state="detached", timeout=30_000)
    # A page's address without a session leads to the sign-in page, never to the page itself.
    page.goto(f"{url}/audit_log")
    page.get_by_role("button", name="登录").wait_for(timeout=30_000)
    page.wait_for_timeout(1000)
    assert page.get_by_role("heading", name="审计日志").count() == 0
    assert page.get_by_role("heading", name="学籍 · 控辍保学").is_visible()
    page.close()


def test_a_registrar_uploads_a_template_with_one_bad_row_and_sees_the_reason(app_url, browser, tmp_path):
    url, _ = app_url
    rows = list(template_rows([("2143016965", "primary")], 6, school_year=2026, seed=11))
    rows[3]["name"] = "王 小明"
    upload = tmp_path / "新生名单.xlsx"
    upload.write_bytes(template_workbook(rows))
    page = sign_in(browser, url, "demo_registrar")
    nav(page, "学籍导入").click()
    page.get_by_role("heading", name="学籍导入").wait_for(timeout=30_000)
    page.locator('input[type="file"]').set_input_files(str(upload))
    page.get_by_text("有错误的行(1 行)").wait_for(timeout=60_000)
    table = page.locator('[data-testid="stDataFrame"]').first
    table.wait_for(timeout=30_000)
    # The data grid draws on a canvas; its accessible copy holds the cells.
    page.get_by_text("姓名中间不能有空格").first.wait_for(state="attached", timeout=30_000)
    assert page.get_by_role("button", name="确认导入:新增 5 人,更新 0 人").is_disabled()
    _shot(page, "registrar_import_error.png")
    page.close()


def test_a_registrar_searches_opens_the_record_and_requests_a_transfer_out(app_url, browser):
    url, engine = app_url
    with session_scope(engine) as session:
        student_id, name, initials = session.execute(
            text(
                "SELECT s.id, s.name, s.name_initials FROM student s JOIN school c ON c.id = s.school_id"
                " JOIN school_class k ON k.id = s.class_id WHERE c.code = '2143016965'"
                " AND s.status = 'enrolled' AND k.code LIKE '20241%' ORDER BY s.id LIMIT 1"
            )
        ).one()
    page = sign_in(browser, url, "demo_registrar")
    nav(page, "学生名册").click()
    page.get_by_role("heading", name="学生名册").wait_for(timeout=30_000)
    page.get_by_label("搜索").fill(name)
    page.get_by_label("搜索").press("Enter")
    page.get_by_text("共 ").filter(has_text="名学生").first.wait_for(timeout=30_000)
    page.get_by_role("button", name="打开档案").click()
    page.get_by_role("heading", name="学生档案").wait_for(timeout=30_000)
    page.get_by_role("heading", name=name).first.wait_for(timeout=30_000)
    page.get_by_text("提交学籍异动申请").click()
    page.get_by_label("原因 *", exact=True).fill("随父母迁往广东东莞")
    page.get_by_label("转往(转出时填写)").fill("广东省东莞市长安镇中心小学")
    page.get_by_text("已过本学期转学窗口").wait_for(timeout=30_000)  # the demo's today: said before submit
    page.get_by_label("特殊情况说明", exact=False).fill("父母11月调动工作")
    page.get_by_role("button", name="提交申请").click()
    page.get_by_text("已提交,审批期限 2026-12-02").wait_for(timeout=30_000)
    _shot(page, "registrar_transfer_request.png")
    page.close()
    with session_scope(engine) as session:
        kind, state, destination = session.execute(
            text("SELECT kind, state, destination FROM status_change WHERE student_id = :i"),
            {"i": student_id},
        ).one()
    assert (kind, state, destination) == ("transfer_out", "submitted", "广东省东莞市长安镇中心小学")
    assert initials  # the record carries its pinyin initials for the list's search


def test_a_teacher_logs_a_visit_on_a_phone_and_sees_it_in_the_timeline(app_url, browser):
    url, engine = app_url
    page = sign_in(browser, url, "demo_teacher", viewport={"width": 390, "height": 844})
    page.get_by_role("heading", name="家访", exact=True).wait_for(timeout=30_000)
    page.get_by_role("button", name="家访", exact=True).first.click()  # one tap from the due list
    heading = page.get_by_role("heading", name=re.compile("登记家访:"))
    heading.wait_for(timeout=30_000)
    name = heading.inner_text().split(":", 1)[1].strip()
    assert page.get_by_label("家访人(多人用顿号分隔)").input_value() == "周老师"  # prefilled
    page.get_by_label("见到/联系上的人").fill("祖母")
    page.get_by_label("孩子情况").fill("手机端登记:孩子按时到校")
    page.get_by_role("button", name="保存家访记录").click()
    page.get_by_text(f"已保存 {name} 的家访记录").first.wait_for(timeout=30_000)  # the toast and the note
    _shot(page, "teacher_visit_phone.png")
    page.get_by_role("link", name="查看该儿童的个案与时间线").click()
    page.get_by_role("heading", name="个案详情").wait_for(timeout=30_000)
    page.get_by_text("手机端登记:孩子按时到校").wait_for(timeout=30_000)
    page.close()
    with session_scope(engine) as session:
        visitors, situation = session.execute(
            text("SELECT visitors, child_situation FROM home_visit ORDER BY id DESC LIMIT 1")
        ).one()
    assert (visitors, situation) == ("周老师", "手机端登记:孩子按时到校")


def test_a_township_official_reviews_and_approves_a_submitted_village(app_url, browser):
    url, engine = app_url
    page = sign_in(browser, url, "demo_township")
    nav(page, "排查审核").click()
    page.get_by_role("heading", name="排查审核").wait_for(timeout=30_000)
    heading = page.get_by_role("heading", name=re.compile(" · 已提交待审核"))
    heading.wait_for(timeout=30_000)
    village = heading.inner_text().split(" · ")[0].strip()
    page.get_by_role("heading", name="三比对名单").wait_for(timeout=30_000)
    page.get_by_text("已核对本村覆盖情况和名单").click()
    page.get_by_role("button", name="审核通过").click()
    page.get_by_text(f"{village}排查已审核通过。").wait_for(timeout=30_000)
    _shot(page, "township_review_village.png")
    page.close()
    with session_scope(engine) as session:
        status = session.execute(
            text(
                "SELECT sv.status FROM sweep_village sv JOIN village v ON v.id = sv.village_id "
                "JOIN sweep s ON s.id = sv.sweep_id JOIN township t ON t.id = s.township_id "
                "WHERE v.name = :name AND t.code = '430181108000'"
            ),
            {"name": village},
        ).scalar_one()
        entry = session.execute(
            text("SELECT username FROM audit_log WHERE action = 'approve' AND entity_type = 'sweep_village'")
        ).scalar_one()
    assert (status, entry) == ("reviewed", "demo_township")


def test_a_coordinator_logs_a_visit_that_turns_a_child_from_red_to_green(app_url, browser, fixed_today):
    url, engine = app_url
    with session_scope(engine) as session:
        actor = actor_of(session.scalars(select(AppUser).where(AppUser.username == "demo_coordinator")).one())
        first = board.board(session, actor=actor, term=records.current_term(session))[0]
    assert first.compliance.state.light == "red" and len(first.compliance.missed) == 1  # worst first
    year, month = first.compliance.missed[0].first.year, first.compliance.missed[0].first.month
    page = sign_in(browser, url, "demo_coordinator")
    nav(page, "送教登记").click()
    page.get_by_role("heading", name="送教登记").wait_for(timeout=30_000)
    page.get_by_text(re.compile("当前状态 ● 已落后")).wait_for(timeout=30_000)
    for part, value in (("year", f"{year}"), ("month", f"{month:02d}"), ("day", "12")):  # a segmented input
        page.get_by_role("spinbutton", name=f"{part}, 送教日期 *", exact=True).click()
        page.keyboard.type(value)
    page.get_by_label("送教内容").fill("浏览器登记:认识颜色,串珠练习")
    page.get_by_role("button", name="保存送教记录").click()
    page.get_by_text(f"已保存 {first.label} {month:02d}-12 的送教记录").first.wait_for(
        timeout=30_000
    )  # toast, note
    page.get_by_text(re.compile("当前状态 ● (进度正常|已达标)")).wait_for(timeout=30_000)
    _shot(page, "coordinator_home_visit_green.png")
    page.close()
    with session_scope(engine) as session:
        after = board.board(session, actor=actor, term=records.current_term(session), child_id=first.child_id)
        content = session.execute(
            text("SELECT content FROM home_teaching_visit WHERE plan_id = :p AND visit_date = :d"),
            {"p": first.plan_id, "d": date(year, month, 12)},
        ).scalar_one()
    assert (after[0].compliance.state.light, content) == ("green", "浏览器登记:认识颜色,串珠练习")


def test_the_county_dashboard_draws_retention_with_chinese_labels(app_url, browser):
    url, _ = app_url
    page = sign_in(browser, url, "demo_county")
    nav(page, "巩固率").click()
    page.get_by_role("heading", name="巩固率", exact=True).wait_for(timeout=30_000)
    page.get_by_text("巩固率 = (年初在籍 − 转出 − 死亡 − 辍学未返)").first.wait_for(timeout=30_000)
    # Each chart draws on its own time: wait for the grade chart's own labels, in Chinese, not for any chart.
    page.locator(".js-plotly-plot .legendtext", has_text="巩固(含休学、劝返)").first.wait_for(timeout=30_000)
    page.locator(".js-plotly-plot .xtick", has_text="一年级").first.wait_for(timeout=30_000)
    _shot(page, "county_retention.png")
    page.close()
