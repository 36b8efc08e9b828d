"""AppTest of the phone forms (家访, 送教登记, 入户登记): a draft kept as the user types and offered back in a new
browser session of the same user only; a future date refused; the same visit twice on one day asked about; the
confirmation first on the page; children told apart; each role's guidance on 家访."""

from datetime import date, timedelta

from sqlalchemy import text

from tests.app.conftest import sign_in

TOMORROW = date(2026, 11, 24)


def _count(engine, sql: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


def _open_first_due(at):
    next(b for b in at.button if b.label == "家访").click().run()
    assert not at.exception
    return next(h.value for h in at.subheader if h.value.startswith("登记家访:")).split(":", 1)[1]


def _texts(at) -> str:
    return "\n".join(
        e.value for kind in ("markdown", "caption", "info", "success", "warning") for e in at.get(kind)
    )


def test_a_half_filled_visit_comes_back_in_a_new_session_of_the_same_user_only(demo_sqlite):
    at = sign_in("demo_teacher")
    label = _open_first_due(at)
    at.text_input(key="v_met").input("祖母").run()
    at.text_area(key="v_child").input("发烧在家").run()
    assert _count(demo_sqlite, "SELECT count(*) FROM form_draft") == 1

    again = sign_in("demo_teacher")  # a reload: a new browser session
    assert f"登记家访:{label}" in [h.value for h in again.subheader]
    assert (
        again.text_input(key="v_met").value == "祖母" and again.text_area(key="v_child").value == "发烧在家"
    )
    assert any(i.value.startswith("有一份未保存的草稿(11-23 ") and "已恢复" in i.value for i in again.info)

    other = sign_in("demo_registrar")  # may log visits too, but never sees the teacher's draft
    assert not any(h.value.startswith("登记家访:") for h in other.subheader)
    assert "草稿" not in _texts(other)

    again.button(key="draft_drop_visit").click().run()
    assert not any(h.value.startswith("登记家访:") for h in again.subheader)
    assert _count(demo_sqlite, "SELECT count(*) FROM form_draft") == 0


def test_saving_the_visit_removes_the_draft_and_confirms_first_on_the_page(demo_sqlite):
    at = sign_in("demo_teacher")
    label = _open_first_due(at)
    at.text_input(key="v_met").input("祖母").run()
    at.text_area(key="v_child").input("按时到校").run()
    at.button(key="v_save").click().run()
    assert not at.exception
    assert at.toast[0].value.startswith(f"已保存 {label} 的家访记录(11-23,上门)")
    assert at.success[0].value == at.toast[0].value  # drawn before the form and the due list
    first = next(m.value for m in at.markdown if "刚刚保存" in m.value)
    assert label in first  # the child just visited, first in the due list, marked
    assert _count(demo_sqlite, "SELECT count(*) FROM form_draft") == 0
    assert "草稿" not in _texts(sign_in("demo_teacher"))


def test_a_visit_dated_tomorrow_is_refused_and_the_typed_date_stays(demo_sqlite):
    at = sign_in("demo_teacher")
    before = _count(demo_sqlite, "SELECT count(*) FROM home_visit")
    _open_first_due(at)
    at.date_input(key="v_date").set_value(TOMORROW)
    at.text_input(key="v_met").input("祖母")
    at.text_area(key="v_child").input("按时到校")
    at.button(key="v_save").click().run()
    assert "家访日期:不能晚于今天" in at.error[0].value
    assert at.date_input(key="v_date").value == TOMORROW
    assert _count(demo_sqlite, "SELECT count(*) FROM home_visit") == before
    assert _count(demo_sqlite, "SELECT count(*) FROM audit_log WHERE outcome = 'refused'") == 1


def test_the_same_visit_twice_on_one_day_is_asked_about_before_saving(demo_sqlite):
    at = sign_in("demo_teacher")
    for attempt in range(2):
        label = _open_first_due(at) if attempt == 0 else _reopen(at)
        at.radio(key="v_method").set_value(at.radio(key="v_method").options[1])  # 电话
        at.text_input(key="v_met").input("母亲")
        at.text_area(key="v_child").input("电话联系,孩子在家")
        at.button(key="v_save").click().run()
    before = _count(demo_sqlite, "SELECT count(*) FROM home_visit")
    question = at.warning[0].value
    assert (
        question.startswith(f"今天已为{label.split('(')[0]}记录过一次家访(")
        and "电话),仍要再记一次吗?" in question
    )
    at.button(key="v_again_cancel").click().run()
    assert not at.warning and _count(demo_sqlite, "SELECT count(*) FROM home_visit") == before
    at.button(key="v_save").click().run()
    at.button(key="v_again").click().run()  # 仍然保存: explicit
    assert not at.exception
    assert _count(demo_sqlite, "SELECT count(*) FROM home_visit") == before + 1


def _reopen(at) -> str:
    saved = next(m for m in at.markdown if "刚刚保存" in m.value)
    assert saved
    return _open_first_due(at)


def test_children_are_told_apart_by_class_and_birth_month_and_the_teacher_sees_the_id_tail(demo_sqlite):
    at = sign_in("demo_teacher")
    label = _open_first_due(at)
    assert "班," in label and "月生" in label and ",…" in label


def test_a_township_official_is_guided_as_the_government_line_not_as_a_teacher(demo_sqlite):
    at = sign_in("demo_township")
    at.switch_page("pages/cases/visits.py").run()
    assert not at.exception
    shown = _texts(at)
    assert "政府线" in shown and "教育线包保人的在办个案" not in shown


def test_a_half_filled_home_teaching_visit_comes_back_in_a_new_session(demo_sqlite):
    at = sign_in("demo_teacher")
    at.switch_page("pages/home_teaching/visit.py").run()
    child = at.selectbox(key="hv_child").value
    at.text_area(key="hv_content").input("串珠练习").run()
    again = sign_in("demo_teacher")
    again.switch_page("pages/home_teaching/visit.py").run()
    assert again.selectbox(key="hv_child").value == child
    assert again.text_area(key="hv_content").value == "串珠练习"
    assert any("有一份未保存的草稿" in i.value for i in again.info)
    again.date_input(key="hv_date").set_value(TOMORROW)
    again.button(key="hv_save_0").click().run()
    assert "送教日期:不能晚于今天" in again.error[0].value
    again.date_input(key="hv_date").set_value(TOMORROW - timedelta(days=2))
    again.button(key="hv_save_0").click().run()
    assert not again.exception and again.toast[0].value.startswith("已保存 ")
    assert _count(demo_sqlite, "SELECT count(*) FROM form_draft") == 0


def test_a_half_filled_household_comes_back_in_a_new_session(demo_sqlite):
    at = sign_in("demo_teacher")
    at.switch_page("pages/sweeps/entry.py").run()
    village = at.selectbox(key="entry_village").value
    at.text_input(key="head_0").input("杨大海").run()
    at.text_input(key="c0_name_0").input("杨小雨").run()
    again = sign_in("demo_teacher")
    again.switch_page("pages/sweeps/entry.py").run()
    assert not again.exception
    assert again.selectbox(key="entry_village").value == village
    assert (
        again.text_input(key="head_0").value == "杨大海"
        and again.text_input(key="c0_name_0").value == "杨小雨"
    )
    again.date_input(key="visited_0").set_value(TOMORROW)
    again.button(key="entry_save_0").click().run()
    assert "走访日期" in again.error[0].value and again.date_input(key="visited_0").value == TOMORROW
