"""The 转入 form through the real page: the registrar finds the child by full ID number, and the request carries
that audited lookup, so it is accepted (a request without one is refused by the service: see
tests/integration/test_registry_holes.py)."""

from sqlalchemy import text

from tests.app.conftest import sign_in
from xueji.rules.class_code import parse_class_code


def test_a_child_found_by_id_number_on_the_page_is_requested_in_with_the_lookup(demo_sqlite):
    with demo_sqlite.connect() as conn:
        candidates = conn.execute(
            text(
                "SELECT s.id, s.id_number, k.code FROM student s JOIN school c ON c.id = s.school_id"
                " JOIN school_class k ON k.id = s.class_id WHERE c.code = '2143016967'"
                " AND s.status = 'enrolled' AND s.id_number IS NOT NULL ORDER BY s.id"
            )
        ).all()
    student_id, number, _ = next(c for c in candidates if parse_class_code(c[2]).grade(2026) == 3)
    at = sign_in("demo_registrar")
    at.switch_page("pages/registry/status_changes.py").run()
    at.text_input(key="transfer_in_id").input(number).run()
    assert not at.exception
    assert "已过本学期转学窗口" in at.warning[0].value  # the demo's today: said before submit
    next(t for t in at.text_area if t.label == "转入原因").input("随父母迁居本镇")
    for proof in ("household_proof", "registry_form"):  # the required proofs are checkboxes
        at.checkbox(key=f"transfer_in_{proof}").check()
    next(t for t in at.text_input if t.label.startswith("特殊情况说明")).input("父母11月调动工作")
    next(b for b in at.button if b.label == "提交转入申请").click().run()
    assert not at.exception and not at.error
    assert at.success[0].value.startswith("已提交转入申请,待县教育局审批")  # outside the window
    with demo_sqlite.connect() as conn:
        kind, lookups = conn.execute(
            text(
                "SELECT c.kind, (SELECT count(*) FROM audit_log a WHERE a.action = 'transfer_lookup'"
                " AND a.entity_id = CAST(:id AS TEXT)) FROM status_change c WHERE c.student_id = :id"
            ),
            {"id": student_id},
        ).one()
    assert kind == "transfer_in" and lookups >= 1
