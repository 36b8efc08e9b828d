"""The app as each role sees it: pages registered by role, counts from the database, masking, timeouts."""

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from streamlit.testing.v1 import AppTest

from tests.app.conftest import sign_in
from tests.conftest import APP
from tests.factories import new_teacher
from xueji.auth import PERMISSIONS
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.demo.build import DEMO_ACCOUNTS
from xueji.demo.registry_file import template_rows, template_workbook
from xueji.models import County, Rollover, WebSession
from xueji.rules.status_changes import ChangeKind
from xueji.ui.navigation import PAGES
from xueji.ui.widgets import XLSX


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_without_a_session_the_app_offers_the_sign_in_page_and_no_page(demo_sqlite):
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert at.title[0].value == "学籍 · 控辍保学"
    assert at.warning[0].value == "请先登录"
    with pytest.raises(ValueError):
        at.switch_page("pages/overview/home.py").run()


def _session_began(engine, **ago):
    """Move the one web session's clock back: its start and last activity `ago` earlier."""
    with session_scope(engine) as session:
        web = session.scalars(select(WebSession)).one()
        web.created_at = web.created_at - timedelta(**ago)
        web.last_seen_at = web.last_seen_at - timedelta(**ago)
        session.commit()


@pytest.mark.parametrize(("username", "role"), [(a[0], a[2]) for a in DEMO_ACCOUNTS])
def test_each_role_gets_exactly_its_pages(demo_sqlite, username, role):
    at = sign_in(username)
    allowed = {p.path for p in PAGES if p.action in PERMISSIONS[role]}
    assert allowed or role.value in {"admin", "auditor"}
    for page in PAGES:
        if page.path in allowed:
            at.switch_page(page.path).run()
            assert not at.exception, (username, page.path, at.exception)
        else:
            with pytest.raises(ValueError):
                at.switch_page(page.path).run()


def test_the_county_officer_sees_the_database_counts(demo_sqlite):
    with demo_sqlite.connect() as conn:
        enrolled = conn.execute(text("SELECT count(*) FROM student WHERE status = 'enrolled'")).scalar_one()
        schools = conn.execute(text("SELECT count(*) FROM school")).scalar_one()
    at = sign_in("demo_county")
    assert at.title[0].value == "县域概况"
    assert _metric(at, "在读学生") == f"{enrolled:,}"
    assert _metric(at, "学校") == str(schools)
    assert "2026-2027学年" in at.caption[0].value
    schools_table = next(
        d.value for d in at.dataframe if "在读学生" in d.value.columns and "学校" in d.value.columns
    )
    assert schools_table["在读学生"].sum() == enrolled


def test_the_township_official_sees_only_their_township(demo_sqlite):
    with demo_sqlite.connect() as conn:
        enrolled = conn.execute(
            text(
                "SELECT count(*) FROM student s JOIN school c ON c.id = s.school_id JOIN township t "
                "ON t.id = c.township_id WHERE t.code = '430181108000' AND s.status = 'enrolled'"
            )
        ).scalar_one()
    at = sign_in("demo_township")
    assert at.title[0].value == "乡镇概况"
    at.segmented_control(key="overview_section").set_value("学生").run()  # it opens on what to act on
    assert _metric(at, "在读学生") == f"{enrolled:,}"
    assert set(at.dataframe[0].value["乡镇"]) == {"古港镇"}


def _roster_ids(at):
    return list(at.dataframe[0].value["身份证号"].dropna())


def test_id_numbers_are_masked_for_the_county_but_not_for_the_registrar(demo_sqlite):
    county = sign_in("demo_county")
    county.switch_page("pages/registry/students.py").run()
    masked = _roster_ids(county)
    assert masked and all("********" in v for v in masked)
    assert all("****" in p for p in county.dataframe[0].value["监护人电话"].dropna())
    registrar = sign_in("demo_registrar")
    registrar.switch_page("pages/registry/students.py").run()
    full = _roster_ids(registrar)
    assert full and all("*" not in v and len(v) == 18 for v in full)


def test_a_reveal_from_the_page_is_audited(demo_sqlite):
    at = sign_in("demo_county")
    at.switch_page("pages/registry/students.py").run()
    at.text_input(key="student_search").input("").run()
    form_inputs = [t for t in at.text_input if t.label == "事由"]
    form_inputs[0].input("核实辍学儿童身份")
    next(b for b in at.button if b.label == "查看").click().run()
    assert not at.exception
    assert any("身份证号:" in m.value for m in at.markdown)
    with demo_sqlite.connect() as conn:
        detail = conn.execute(text("SELECT detail FROM audit_log WHERE action = 'reveal'")).scalar_one()
    assert detail == "事由:核实辍学儿童身份"


def test_thirty_idle_minutes_sign_the_user_out(demo_sqlite):
    at = sign_in("demo_teacher")
    assert at.title[0].value == "家访"  # a teacher's home page: the visits due
    _session_began(demo_sqlite, minutes=get_settings().idle_timeout_minutes)
    at.run()
    assert at.title[0].value == "学籍 · 控辍保学"
    assert "未操作" in at.warning[0].value
    with demo_sqlite.connect() as conn:
        detail = conn.execute(text("SELECT detail FROM audit_log WHERE action = 'logout'")).scalar_one()
    assert "未操作" in detail
    at.run()  # ended for good: the next run stays signed out
    assert at.title[0].value == "学籍 · 控辍保学"


def test_twelve_hours_end_even_an_active_session(demo_sqlite):
    at = sign_in("demo_teacher")
    with session_scope(demo_sqlite) as session:  # signed in 12 hours ago, active a minute ago
        web = session.scalars(select(WebSession)).one()
        web.created_at = web.created_at - timedelta(hours=12)
        session.commit()
    at.run()
    assert "12 小时" in at.warning[0].value


def test_a_new_account_is_sent_to_change_its_password_first(demo_sqlite):
    from xueji.db import session_scope
    from xueji.services.system import accounts

    with session_scope(demo_sqlite) as session:
        admin = accounts.actor_by_username(session, "demo_admin")
        _, password = new_teacher(session, admin, "new_teacher")
    at = sign_in("new_teacher", password)
    assert at.title[0].value == "修改密码"
    with pytest.raises(ValueError):
        at.switch_page("pages/registry/students.py").run()
    at.text_input(key="pw_old").input(password)
    at.text_input(key="pw_new").input("Gugang#2027")
    at.text_input(key="pw_again").input("Gugang#2027")
    at.button[0].click().run()
    assert not at.exception
    assert at.title[0].value == "家访"  # a teacher's home page: the visits due


def test_logout_returns_to_the_login_page(demo_sqlite):
    at = sign_in("demo_auditor")
    assert at.title[0].value == "审计日志"
    at.button(key="logout").click().run()
    assert at.title[0].value == "学籍 · 控辍保学"


def test_an_uninitialised_database_gets_a_chinese_message_not_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("XUEJI_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    at = AppTest.from_file(APP, default_timeout=30).run()
    get_settings.cache_clear()
    assert not at.exception
    assert "xueji init" in at.error[0].value


def test_a_database_that_is_not_a_demo_shows_no_demo_passwords(tmp_path, monkeypatch):
    from xueji.db import make_engine, migrate, session_scope
    from xueji.services.system import accounts

    url = f"sqlite:///{tmp_path / 'real.db'}"
    monkeypatch.setenv("XUEJI_DATABASE_URL", url)
    get_settings.cache_clear()
    engine = make_engine(url)
    migrate(engine)
    with session_scope(engine) as session:
        accounts.create_first_admin(session)
    at = AppTest.from_file(APP, default_timeout=30).run()
    get_settings.cache_clear()
    assert not at.exception
    assert len(at.table) == 0 and not at.expander


def test_the_registrar_assigns_one_student_to_the_teacher(demo_sqlite):
    with demo_sqlite.connect() as conn:
        name = conn.execute(
            text(
                "SELECT s.name FROM student s JOIN school_class k ON k.id = s.class_id JOIN school c ON c.id = s.school_id "
                "WHERE c.code = '2143016965' AND k.head_teacher_id IS NULL ORDER BY s.id LIMIT 1"
            )
        ).scalar_one()
        teacher_id = conn.execute(
            text("SELECT id FROM app_user WHERE username = 'demo_teacher'")
        ).scalar_one()
    at = sign_in("demo_registrar")
    at.switch_page("pages/registry/assignments.py").run()
    at.text_input(key="assign_search").input(name).run()
    pick = at.selectbox(key="t_one")
    pick.set_value((teacher_id, "周老师", "demo_teacher"))
    next(b for b in at.button if b.label == "分配该学生").click().run()
    assert not at.exception
    assert at.success[0].value == f"已将 {name} 分配给 周老师"
    teacher = sign_in("demo_teacher")
    teacher.switch_page("pages/registry/students.py").run()
    teacher.text_input(key="student_search").input(name).run()
    assert name in list(teacher.dataframe[0].value["姓名"])


def _template(n: int, *, bad_row: int | None = None) -> bytes:
    data = list(template_rows([("2143016965", "primary")], n, school_year=2026, seed=3))
    if bad_row is not None:
        data[bad_row]["name"] = "张 三"
    return template_workbook(data)


def _count_students(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM student")).scalar_one()


def test_the_registrar_uploads_previews_and_commits_a_template(demo_sqlite):
    before = _count_students(demo_sqlite)
    at = sign_in("demo_registrar")
    at.switch_page("pages/registry/import_students.py").run()
    assert not at.exception
    at.file_uploader(key="import_file").set_value(("新生.xlsx", _template(12), XLSX)).run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric} == {
        "新增": "12",
        "更新": "0",
        "无变化": "0",
        "有错误": "0",
        "其中临时学籍": "0",
    }
    assert list(at.dataframe[0].value["班号"]) == ["2026110"]  # the class the import will create
    assert _count_students(demo_sqlite) == before  # a preview writes nothing
    at.button(key="commit_import").click().run()
    assert not at.exception
    assert at.success[0].value.startswith("导入完成:新增 12 人")
    assert _count_students(demo_sqlite) == before + 12


def test_one_bad_row_blocks_the_import_until_the_user_chooses_to_skip_it(demo_sqlite):
    before = _count_students(demo_sqlite)
    at = sign_in("demo_registrar")
    at.switch_page("pages/registry/import_students.py").run()
    at.file_uploader(key="import_file").set_value(("名册.xlsx", _template(5, bad_row=2), XLSX)).run()
    assert not at.exception
    problems = next(d.value for d in at.dataframe if "原因" in d.value.columns)
    assert list(problems.iloc[0][["行号", "列", "填写内容", "原因"]]) == [
        4,
        "姓名",
        "张 三",
        "姓名中间不能有空格",
    ]
    assert at.button(key="commit_import").disabled
    at.checkbox(key="only_valid").check().run()
    at.button(key="commit_import").click().run()
    assert not at.exception
    assert "跳过有错误的 1 行" in at.success[0].value
    assert _count_students(demo_sqlite) == before + 4


def test_a_file_that_is_not_an_xlsx_gets_a_chinese_message(demo_sqlite):
    at = sign_in("demo_registrar")
    at.switch_page("pages/registry/import_students.py").run()
    at.file_uploader(key="import_file").set_value(("名册.xlsx", b"name,id\n", XLSX)).run()
    assert not at.exception
    assert "只接受 .xlsx 文件" in at.error[0].value


def test_the_county_prints_a_masked_roster_and_the_export_is_audited(demo_sqlite):
    at = sign_in("demo_county")
    at.switch_page("pages/registry/rosters.py").run()
    assert not at.exception
    first = at.dataframe[0].value
    assert list(first.columns)[:3] == ["序号", "学籍号", "姓名"]
    assert all("*" in value for value in first["身份证件号"] if value)
    at.button(key=next(b.key for b in at.button if b.label.startswith("导出"))).click().run()
    assert not at.exception
    with demo_sqlite.connect() as conn:
        detail = conn.execute(
            text("SELECT detail FROM audit_log WHERE action = 'export' ORDER BY id DESC LIMIT 1")
        ).scalar_one()
    assert detail.startswith("在校生名册") and "已脱敏" in detail


def test_a_registrar_requests_a_dropout_and_the_county_approves_it(demo_sqlite):
    with demo_sqlite.connect() as conn:
        student_id, name = conn.execute(
            text(
                "SELECT s.id, s.name FROM student s JOIN school c ON c.id = s.school_id "
                "WHERE c.code = '2143016965' AND s.status = 'enrolled' ORDER BY s.id LIMIT 1"
            )
        ).one()
    at = sign_in("demo_registrar")
    at.switch_page("pages/registry/status_changes.py").run()
    at.text_input(key="change_search").input(name).run()
    form = {t.label: t for t in at.text_area}
    form["原因 *"].input("外出务工,多次劝返未果")
    at.selectbox[1].select(ChangeKind.DROPOUT)
    next(b for b in at.button if b.label == "提交申请").click().run()
    assert not at.exception
    assert at.success[0].value == "已提交,审批期限 2026-12-02"
    county = sign_in("demo_county")
    county.switch_page("pages/registry/status_changes.py").run()
    assert _metric(county, "待审批") == "1"
    next(b for b in county.button if b.label == "批准").click().run()
    assert not county.exception
    assert county.success[0].value == "已批准"
    with demo_sqlite.connect() as conn:
        status = conn.execute(
            text("SELECT status FROM student WHERE id = :id"), {"id": student_id}
        ).scalar_one()
    assert status == "dropped_out"


def _first_pupil(engine):
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT s.id, s.name, s.name_initials, s.id_number FROM student s JOIN school c ON c.id = s.school_id"
                " WHERE c.code = '2143016965' AND s.status = 'enrolled' AND s.id_number IS NOT NULL"
                " ORDER BY s.id LIMIT 1"
            )
        ).one()


def test_the_registrar_filters_opens_a_record_and_corrects_it(demo_sqlite):
    student_id, name, initials, id_number = _first_pupil(demo_sqlite)
    at = sign_in("demo_registrar")
    at.switch_page("pages/registry/students.py").run()
    at.text_input(key="student_search").input(initials).run()
    assert not at.exception
    assert name in at.dataframe[0].value["姓名"].tolist()
    pick = at.selectbox(key="open_pick")
    pick.select(next(o for o in pick.options if o.startswith(name))).run()
    at.button(key="open_record").click().run()
    assert not at.exception
    assert at.session_state["student_detail_id"] == student_id
    # AppTest keeps its own idea of the current page across st.switch_page; the browser test follows the real one
    at.switch_page("pages/registry/student_detail.py").run()
    assert at.subheader[0].value.startswith(name)
    record = at.dataframe[0].value
    assert id_number in record["内容"].tolist()  # the registrar's job needs the full number
    at.text_input(key=f"edit_{student_id}_name").input("曾更正")
    next(t for t in at.text_input if t.label.startswith("更正原因")).input("依据户口簿更正姓名")
    next(b for b in at.button if b.label == "保存更正").click().run()
    assert not at.exception
    assert not at.error, at.error[0].value
    assert at.success[0].value == "已更正:姓名"
    with demo_sqlite.connect() as conn:
        assert (
            conn.execute(text("SELECT name FROM student WHERE id = :i"), {"i": student_id}).scalar()
            == "曾更正"
        )
        action = conn.execute(text("SELECT action FROM audit_log ORDER BY id DESC LIMIT 1")).scalar()
    assert action == "correct"


def test_a_bad_correction_shows_the_column_and_reason_and_saves_nothing(demo_sqlite):
    student_id, name, initials, _ = _first_pupil(demo_sqlite)
    at = sign_in("demo_registrar")
    at.session_state["student_detail_id"] = student_id
    at.switch_page("pages/registry/student_detail.py").run()
    at.text_input(key=f"edit_{student_id}_birth_date").input("20191399")
    next(t for t in at.text_input if t.label.startswith("更正原因")).input("核对")
    next(b for b in at.button if b.label == "保存更正").click().run()
    assert not at.exception
    assert "出生日期“20191399”" in at.error[0].value
    with demo_sqlite.connect() as conn:
        assert (
            conn.execute(text("SELECT name FROM student WHERE id = :i"), {"i": student_id}).scalar() == name
        )


def test_the_county_sees_a_masked_record_without_edit_forms(demo_sqlite):
    student_id, name, _, id_number = _first_pupil(demo_sqlite)
    at = sign_in("demo_county")
    at.session_state["student_detail_id"] = student_id
    at.switch_page("pages/registry/student_detail.py").run()
    assert not at.exception
    shown = at.dataframe[0].value["内容"].tolist()
    assert id_number not in shown and any(str(v).startswith(id_number[:6]) for v in shown)
    assert not [b for b in at.button if b.label == "保存更正"]


def test_the_admin_fills_in_2027_and_the_warning_goes_once_the_year_is_confirmed(demo_sqlite):
    at = sign_in("demo_admin")
    at.switch_page("pages/system/holidays.py").run()
    assert [w.value for w in at.warning] == ["2027年的节假日安排尚未录入:期限暂按周一至周五计算。"]
    next(t for t in at.text_input if t.label == "名称").input("元旦")
    next(b for b in at.button if b.label == "保存").click().run()
    assert not at.exception
    assert at.success[0].value == "已保存 2027-01-01 放假;待审批学籍异动的审批期限已按新安排重算"
    # One day is not the year: the warning stays until the administrator confirms the year complete.
    assert [w.value for w in at.warning] == [
        "2027年的节假日安排尚未确认完整(表中已有 1 天):期限暂按周一至周五计算。"
    ]
    registrar = sign_in("demo_registrar")
    registrar.switch_page("pages/registry/status_changes.py").run()
    assert "2027年的节假日安排尚不完整" in registrar.warning[0].value
    at.checkbox[0].check()
    next(b for b in at.button if b.label == "确认2027年安排完整").click().run()
    assert not at.exception
    assert at.success[0].value.startswith("已确认2027年安排完整;待审批的学籍异动")
    assert not at.warning
    assert "管理员已确认完整" in at.dataframe[0].value["状态"].tolist()
    registrar = sign_in("demo_registrar")
    registrar.switch_page("pages/registry/status_changes.py").run()
    assert not registrar.warning


def test_the_county_officer_rolls_the_year_over_and_undoes_it(demo_sqlite):
    with demo_sqlite.connect() as conn:
        enrolled = conn.execute(text("SELECT count(*) FROM student WHERE status = 'enrolled'")).scalar()
    at = sign_in("demo_county")
    at.switch_page("pages/registry/rollover.py").run()
    graduates = int(_metric(at, "2027学年升级将毕业的学生"))
    assert graduates > 0
    # 23 November: the 2026-2027 spring term has not ended, so the rollover needs a reason.
    assert at.warning[0].value.startswith("2026-2027学年第二学期 2027-07-09 结束后才能升级")
    next(b for b in at.button if b.label == "提前执行学年升级").click().run()
    assert at.error[0].value == "请先勾选确认"  # nothing happens without the confirmation
    at.checkbox[0].check()
    next(b for b in at.button if b.label == "提前执行学年升级").click().run()
    assert "提前升级须填写原因" in at.error[0].value
    at.text_area[0].input("县教育局通知提前结束本学年(演示)")
    at.checkbox[0].check()
    next(b for b in at.button if b.label == "提前执行学年升级").click().run()
    assert not at.exception
    assert at.success[0].value == f"已完成2027学年升级:{graduates} 名学生毕业"
    with demo_sqlite.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM student WHERE status = 'enrolled'")).scalar() == (
            enrolled - graduates
        )
    at.run()
    at.checkbox[-1].check()
    next(b for b in at.button if b.label == "撤销最近一次升级").click().run()
    assert at.success[0].value == f"已撤销:{graduates} 名学生恢复在读"
    with demo_sqlite.connect() as conn:
        assert (
            conn.execute(text("SELECT count(*) FROM student WHERE status = 'enrolled'")).scalar() == enrolled
        )


def test_a_missed_summer_rollover_is_offered_first(demo_sqlite):
    """The county rolled into 2025 but not into 2026, and 2026-2027 has begun: the page offers 2026, and says why."""
    with session_scope(demo_sqlite) as session:
        county = session.scalars(select(County.id)).one()
        session.add(Rollover(school_year=2025, county_id=county, graduated=[]))
        session.commit()
    at = sign_in("demo_county")
    at.switch_page("pages/registry/rollover.py").run()
    assert not at.exception
    assert at.number_input[0].value == 2026
    assert at.warning[0].value == "2026-2027学年已经开始,但还没有升级:请先完成这次升级。"
