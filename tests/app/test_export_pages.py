"""The export of the student list and the printed roster on their pages: full numbers only for the roles that may
take them, only with a reason, which the audit entry records; a refusal is a Chinese message and is audited."""

from sqlalchemy import text

from tests.app.conftest import sign_in

REASON = "报送县资助中心核对名单"


def _last(engine, action: str) -> tuple[str, str]:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT username, detail FROM audit_log WHERE action = :a ORDER BY id DESC LIMIT 1"),
            {"a": action},
        ).one()


def test_the_county_is_not_offered_an_unmasked_export(demo_sqlite):
    for page in ("pages/registry/students.py", "pages/registry/rosters.py"):
        at = sign_in("demo_county")
        at.switch_page(page).run()
        assert not at.exception
        assert not [c for c in at.checkbox if "完整身份证号" in c.label]


def test_an_unmasked_export_without_a_reason_is_refused_on_the_page_and_audited(demo_sqlite):
    at = sign_in("demo_registrar")
    at.switch_page("pages/registry/students.py").run()
    at.checkbox(key="export_roster_unmasked").check().run()
    at.text_input(key="export_roster_reason").input("   ").run()
    at.button(key="export_roster_True_build").click().run()
    assert not at.exception
    assert at.error[0].value == "无权操作:导出含完整身份证号和电话的学生名册须填写事由"
    assert not list(at.get("download_button"))
    username, detail = _last(demo_sqlite, "denied")
    assert username == "demo_registrar" and "须填写事由" in detail


def test_the_registrar_prints_an_unmasked_roster_with_a_reason(demo_sqlite):
    at = sign_in("demo_registrar")
    at.switch_page("pages/registry/rosters.py").run()
    at.checkbox(key="roster_export_unmasked").check().run()
    at.text_input(key="roster_export_reason").input(REASON).run()
    next(b for b in at.button if b.label.startswith("导出在校生名册")).click().run()
    assert not at.exception
    assert at.get("download_button")
    username, detail = _last(demo_sqlite, "export")
    assert username == "demo_registrar"
    assert detail.startswith("在校生名册") and detail.endswith(f"未脱敏;事由:{REASON}")
