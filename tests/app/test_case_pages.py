"""AppTest of the case pages: the teacher's visit form, the ledgers, a case's detail, the supervision page."""

import pytest
from sqlalchemy import text

from tests.app.conftest import sign_in
from xueji.services.cases.ledgers import Ledger


def _visits(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM home_visit")).scalar_one()


def _open_visit_form(at):
    next(b for b in at.button if b.label == "家访").click().run()  # the first child due
    assert not at.exception
    heading = next(h.value for h in at.subheader if h.value.startswith("登记家访:"))  # below 本月应送教上门
    return heading.split(":", 1)[1]


def test_the_teacher_logs_a_visit_from_the_due_list_in_one_tap(demo_sqlite):
    at = sign_in("demo_teacher")
    assert at.title[0].value == "家访"
    before = _visits(demo_sqlite)
    name = _open_visit_form(at)
    assert at.text_input(key="v_visitors").value == "周老师"  # prefilled with the one logging
    at.text_input(key="v_met").input("祖母")
    at.text_area(key="v_child").input("按时到校,情绪稳定")
    at.button(key="v_save").click().run()
    assert not at.exception
    assert at.success[0].value.startswith(f"已保存 {name} 的家访记录")
    assert _visits(demo_sqlite) == before + 1
    with demo_sqlite.connect() as conn:
        row = conn.execute(
            text("SELECT visitors, met_with, method, kind FROM home_visit ORDER BY id DESC LIMIT 1")
        ).one()
    assert tuple(row) == ("周老师", "祖母", "home", "visit")


def test_a_visit_without_the_childs_situation_is_refused_and_nothing_saved(demo_sqlite):
    at = sign_in("demo_teacher")
    before = _visits(demo_sqlite)
    _open_visit_form(at)
    at.text_input(key="v_met").input("祖母")
    at.button(key="v_save").click().run()
    assert not at.exception
    assert "孩子情况:请简要填写孩子的情况" in at.error[0].value
    assert _visits(demo_sqlite) == before


@pytest.mark.parametrize("username", ["demo_county", "demo_township", "demo_registrar", "demo_teacher"])
def test_the_ledgers_render_for_each_role(demo_sqlite, username):
    at = sign_in(username)
    at.switch_page("pages/cases/ledgers.py").run()
    assert not at.exception
    assert at.title[0].value == "控辍保学台账"
    assert at.caption[1].value.startswith("适龄儿童重点关注台账:共 ")
    at.segmented_control(key="ledger_kind").set_value(Ledger.SUSPECTED_DROPOUT).run()
    assert not at.exception
    assert at.caption[1].value.startswith("疑似辍学台账:共 ")


def test_the_registrar_closes_a_case_from_its_detail_page(demo_sqlite):
    with demo_sqlite.connect() as conn:
        child_id = conn.execute(  # a child with one case, open
            text(
                "SELECT c.child_id FROM child_case c JOIN child h ON h.id = c.child_id "
                "JOIN school s ON s.id = h.school_id WHERE s.code = '2143016965' "
                "GROUP BY c.child_id HAVING count(*) = 1 AND max(c.status) <> 'closed' ORDER BY c.child_id LIMIT 1"
            )
        ).scalar_one()
    at = sign_in("demo_registrar")
    at.session_state["case_child_id"] = child_id
    at.switch_page("pages/cases/case_detail.py").run()
    assert not at.exception
    at.text_area(key="close_evidence").input("父母已返乡,家访核实")
    at.button(key="FormSubmitter:close-销号").click().run()
    assert not at.exception
    assert any("请先勾选确认" in e.value for e in at.error)
    at.text_area(key="close_evidence").input("父母已返乡,家访核实")
    at.checkbox(key="close_confirm").check()
    at.button(key="FormSubmitter:close-销号").click().run()
    assert not at.exception
    with demo_sqlite.connect() as conn:
        closed = conn.execute(
            text(
                "SELECT count(*) FROM child_case WHERE child_id = :c AND status = 'closed' AND close_evidence = :e"
            ),
            {"c": child_id, "e": "父母已返乡,家访核实"},
        ).scalar_one()
    assert closed == 1
    assert at.success[0].value == "已销号"


def test_the_county_sees_the_responsibility_gaps_and_the_overdue_visits(demo_sqlite):
    with demo_sqlite.connect() as conn:
        missing = conn.execute(
            text(
                "SELECT count(*) FROM child_case WHERE status <> 'closed' AND (education_user_id IS NULL OR "
                "(government_user_id IS NULL AND (government_name IS NULL OR government_phone IS NULL)))"
            )
        ).scalar_one()
    at = sign_in("demo_county")
    at.segmented_control(key="overview_section").set_value("需要处理").run()  # the county opens on 学生
    assert next(m.value for m in at.metric if m.label == "缺包保人的个案") == str(missing)
    at.switch_page("pages/cases/supervision.py").run()
    assert not at.exception
    assert [s.value for s in at.subheader] == ["双线包保缺失", "家访逾期(按包保教师)"]
    load = at.dataframe[1].value
    assert load["家访逾期"].sum() > 0


def test_the_visit_import_page_offers_its_template(demo_sqlite):
    at = sign_in("demo_teacher")
    at.switch_page("pages/cases/import_visits.py").run()
    assert not at.exception
    assert at.title[0].value == "家访导入"
