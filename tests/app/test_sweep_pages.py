"""AppTest of the sweep pages: a household entered on the phone form, a bad one refused with its fields kept,
the pages rendering for each role, the official's review of a village."""

import pytest
from sqlalchemy import text

from tests.app.conftest import sign_in
from xueji.rules.sweeps import Finding, FoundStatus


def _count(engine, sql: str, **params: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def _entry_page(username: str = "demo_teacher"):
    at = sign_in(username)
    at.switch_page("pages/sweeps/entry.py").run()
    assert not at.exception
    assert at.title[0].value == "入户登记"
    return at


def test_a_teacher_records_a_household_and_gets_a_fresh_form_for_the_next(demo_sqlite):
    at = _entry_page()
    before = _count(demo_sqlite, "SELECT count(*) FROM household")
    at.text_input(key="group_0").input("七组")
    at.text_input(key="head_0").input("杨大海")
    at.text_input(key="phone_0").input("13812345678")
    at.text_input(key="c0_name_0").input("杨小雨")
    at.text_input(key="c0_id_0").input("430181201603040023")  # born 2016-03-04, a girl
    at.selectbox(key="c0_status_0").set_value(FoundStatus.NOT_ENROLLED)
    at.button(key="entry_save_0").click().run()
    assert not at.exception
    assert at.success[0].value.startswith("已保存:七组杨大海户,适龄儿童 1 人")
    assert at.text_input(key="head_1").value == ""  # the next household's form, empty
    assert _count(demo_sqlite, "SELECT count(*) FROM household") == before + 1
    with demo_sqlite.connect() as conn:
        row = conn.execute(
            text(
                "SELECT name, sex, birth_date, status FROM sweep_child WHERE id_number = '430181201603040023'"
            )
        ).one()
    assert (row.name, row.sex, str(row.birth_date), row.status) == (
        "杨小雨",
        "女",
        "2016-03-04",
        "not_enrolled",
    )


def test_a_household_with_problems_is_refused_and_what_was_typed_stays(demo_sqlite):
    at = _entry_page()
    before = _count(demo_sqlite, "SELECT count(*) FROM household")
    at.text_input(key="head_0").input("杨大海")
    at.text_input(key="phone_0").input("12345")
    at.text_input(key="c0_name_0").input("杨小雨")
    at.selectbox(key="c0_status_0").set_value(FoundStatus.ELSEWHERE)  # no birth date, no place
    at.button(key="entry_save_0").click().run()
    assert not at.exception
    message = at.error[0].value
    assert "联系电话" in message and "出生日期:必填" in message and "须填写就读地" in message
    assert at.text_input(key="head_0").value == "杨大海"  # nothing lost
    assert _count(demo_sqlite, "SELECT count(*) FROM household") == before


@pytest.mark.parametrize(
    ("username", "page"),
    [
        (u, p)
        for u in ("demo_county", "demo_township", "demo_registrar", "demo_teacher", "demo_coordinator")
        for p in ("progress", "findings")
    ]
    + [("demo_township", p) for p in ("plan", "review", "entry", "import_sweep")]
    + [("demo_teacher", "import_sweep")],
)
def test_the_sweep_pages_render_for_each_role(demo_sqlite, username, page):
    at = sign_in(username)
    at.switch_page(f"pages/sweeps/{page}.py").run()
    assert not at.exception
    assert not at.error


def test_the_findings_page_lists_each_reconciliation_list(demo_sqlite):
    at = sign_in("demo_township")
    at.switch_page("pages/sweeps/findings.py").run()
    for kind in Finding:
        at.segmented_control(key="findings_kind").set_value(kind).run()
        assert not at.exception
        shown = int(next(m.value for m in at.markdown if m.value.startswith("共 ")).split("**")[1])
        expected = _count(
            demo_sqlite,
            "SELECT count(*) FROM sweep_finding f JOIN sweep_village v ON v.id = f.sweep_village_id "
            "JOIN sweep s ON s.id = v.sweep_id JOIN township t ON t.id = s.township_id "
            "WHERE t.code = '430181108000' AND f.kind = :kind",
            kind=kind.value,
        )
        assert shown == expected


def test_a_teacher_sees_only_the_villages_of_their_team(demo_sqlite):
    at = sign_in("demo_teacher")
    at.switch_page("pages/sweeps/progress.py").run()
    table = at.dataframe[0].value
    team = _count(
        demo_sqlite,
        "SELECT count(*) FROM sweep_team_member m JOIN app_user u ON u.id = m.user_id "
        "WHERE u.username = 'demo_teacher'",
    )
    assert team >= 1
    assert len(table) == team


def test_the_official_approves_a_submitted_village(demo_sqlite):
    at = sign_in("demo_township")
    at.switch_page("pages/sweeps/review.py").run()
    assert not at.exception
    village = at.selectbox(key="review_village").format_func(at.selectbox(key="review_village").value)
    name = village.split(" · ")[0]
    at.checkbox[0].check()
    next(b for b in at.button if b.label == "审核通过").click().run()
    assert not at.exception
    assert at.success[0].value == f"{name}排查已审核通过。"
    with demo_sqlite.connect() as conn:
        status = conn.execute(
            text(
                "SELECT sv.status FROM sweep_village sv JOIN village v ON v.id = sv.village_id "
                "JOIN sweep s ON s.id = sv.sweep_id JOIN township t ON t.id = s.township_id "
                "WHERE v.name = :n AND t.code = '430181108000'"
            ),
            {"n": name},
        ).scalar_one()
    assert status == "reviewed"


def test_the_official_returns_a_village_with_a_reason_the_team_then_sees(demo_sqlite):
    at = sign_in("demo_township")
    at.switch_page("pages/sweeps/review.py").run()
    village = at.selectbox(key="review_village").format_func(at.selectbox(key="review_village").value)
    name = village.split(" · ")[0]
    send_back = next(b for b in at.button if b.label == "退回")
    send_back.click().run()  # no reason: refused
    assert "退回须写明原因" in at.error[0].value
    at.text_area[0].input("三组、五组未走访")
    next(b for b in at.button if b.label == "退回").click().run()
    assert not at.exception
    assert at.success[0].value == f"{name}排查已退回。"
    reason = _count(
        demo_sqlite,
        "SELECT count(*) FROM sweep_village sv JOIN village v ON v.id = sv.village_id "
        "WHERE v.name = :n AND sv.status = 'returned' AND sv.return_reason = '三组、五组未走访'",
        n=name,
    )
    assert reason == 1
