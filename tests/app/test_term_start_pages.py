"""AppTest of the term-start pages: 新生注册, 开学报到与流生, 人籍一致, on the demo county."""

from sqlalchemy import text

from tests.app.conftest import sign_in
from xueji.rules.class_code import parse_class_code


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def _lost_in_class(engine, class_name_code: str) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT count(*) FROM student s JOIN school_class c ON s.class_id = c.id "
                "WHERE c.code = :code AND s.status = 'enrolled' AND c.school_id = "
                "(SELECT id FROM school WHERE code = '2143016965') "
                "AND NOT EXISTS (SELECT 1 FROM term_report r WHERE r.student_id = s.id)"
            ),
            {"code": class_name_code},
        ).scalar()


def _first_lost(engine) -> tuple[int, str]:
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT s.id, c.code FROM student s JOIN school_class c ON s.class_id = c.id "
                "JOIN school k ON s.school_id = k.id WHERE k.code = '2143016965' AND s.status = 'enrolled' "
                "AND NOT EXISTS (SELECT 1 FROM term_report r WHERE r.student_id = s.id) ORDER BY c.code, s.id"
            )
        ).one()


def test_the_registrar_sees_a_lost_student_then_marks_the_class_reported(demo_sqlite):
    student_id, code = _first_lost(demo_sqlite)
    detail = sign_in("demo_registrar")
    detail.session_state["student_detail_id"] = student_id
    detail.switch_page("pages/registry/student_detail.py").run()
    assert not detail.exception
    assert "列为流生" in detail.error[0].value

    at = sign_in("demo_registrar")
    at.switch_page("pages/registry/term_reports.py").run()
    assert not at.exception
    lost = at.dataframe[-1].value
    assert student_id and (lost["班级"].str.len() > 0).all() and len(lost) >= 1
    picker = at.selectbox(key="report_class")
    choice = next(o for o in picker.options if o.endswith(parse_class_code(code).name))
    picker.select(choice).run()
    assert _metric(at, "未报到") != "0"
    next(b for b in at.button if b.label == "本班其余学生全部标为已报到").click().run()
    assert not at.exception
    assert at.success[0].value.startswith("已保存:报到")
    assert _metric(at, "未报到") == "0"
    assert _lost_in_class(demo_sqlite, code) == 0


def test_the_registrar_ticks_a_class_present_and_the_check_is_recorded(demo_sqlite):
    with demo_sqlite.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM registry_check")).scalar()
    at = sign_in("demo_registrar")
    at.switch_page("pages/registry/registry_checks.py").run()
    assert not at.exception
    next(b for b in at.button if b.label == "保存核查结果").click().run()
    assert not at.exception
    assert "在册未到 0 人" in at.success[0].value
    with demo_sqlite.connect() as conn:
        method, missing = conn.execute(
            text("SELECT method, missing FROM registry_check ORDER BY id DESC LIMIT 1")
        ).one()
        after = conn.execute(text("SELECT count(*) FROM registry_check")).scalar()
    assert (after, method, missing) == (before + 1, "tick", 0)


def test_the_county_sees_progress_and_who_is_late(demo_sqlite):
    at = sign_in("demo_county")
    for page in ("pages/registry/registration.py", "pages/registry/registry_checks.py"):
        at.switch_page(page).run()
        assert not at.exception
        assert not any(b.label in ("保存核查结果", "核查并保存") for b in at.button)  # nothing to record
    at.switch_page("pages/registry/registration.py").run()
    assert int(_metric(at, "逾期未完成的学校")) >= 1
    next(c for c in at.checkbox if c.label == "只看逾期未完成").check().run()
    assert set(at.dataframe[0].value["状态"]) == {"逾期未完成"}
    assert all("*" not in name for name in at.dataframe[1].value["姓名"])
    at.switch_page("pages/registry/term_reports.py").run()
    assert not at.exception
    assert not any(s.key == "report_class" for s in at.selectbox)  # the county does not mark reports
    lost = at.dataframe[-1].value
    assert len(lost) >= 1 and all("*" in n for n in lost["身份证号"] if n)
