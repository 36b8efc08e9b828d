"""学校月报 and 月报报送与季报: the registrar submits with the confirmation, sees the submitted copy and corrects
with a reason; the county sees who has not submitted (in red) and the quarterly pack's buttons."""

from sqlalchemy import func, select

from tests.app.conftest import sign_in
from xueji.db import session_scope
from xueji.models import MonthlyReport

MONTHLY = "pages/reports/monthly.py"
REVIEW = "pages/reports/review.py"


def test_the_registrar_submits_a_month_only_after_ticking_and_then_sees_the_frozen_copy(demo_sqlite):
    at = sign_in("demo_registrar")
    at.switch_page(MONTHLY).run()
    assert not at.exception
    assert any("已报送" in s.value for s in at.success)  # the demo submitted October, corrected once
    assert any(b.label == "提交更正" for b in at.button)
    at.selectbox(key="report_month").set_value(
        next(m for m in at.selectbox(key="report_month").options if "9月" in m)
    )
    at.run()
    assert any("尚未报送" in w.value for w in at.warning)
    next(b for b in at.button if b.label == "报送").click().run()
    assert any("请先勾选" in e.value for e in at.error)
    at.checkbox(key="report_confirm").check()
    next(b for b in at.button if b.label == "报送").click().run()
    assert not at.exception
    assert any("已报送2026年9月月报(第 1 版)" in s.value for s in at.success)
    with session_scope(demo_sqlite) as session:
        assert session.scalar(select(func.count()).where(MonthlyReport.month == "2026-09")) == 1
    # a correction without a reason is refused in words
    at.checkbox(key="report_correct_confirm").check()
    next(b for b in at.button if b.label == "提交更正").click().run()
    assert any("至少 4 个字" in e.value for e in at.error)


def test_the_current_month_is_a_draft_without_a_submit_button(demo_sqlite):
    at = sign_in("demo_registrar")
    at.switch_page(MONTHLY).run()
    at.selectbox(key="report_month").set_value(at.selectbox(key="report_month").options[0]).run()
    assert any("草稿" in i.value for i in at.info)
    assert not any(b.label in ("报送", "提交更正") for b in at.button)


def test_the_county_reads_a_schools_report_without_submitting_and_reviews_who_is_missing(demo_sqlite):
    at = sign_in("demo_county")
    at.switch_page(MONTHLY).run()
    assert not at.exception and not any(b.label in ("报送", "提交更正") for b in at.button)
    at.switch_page(REVIEW).run()
    assert not at.exception
    overdue = next(m for m in at.metric if m.label == "逾期未报送")
    assert overdue.value == "2"
    labels = [b.label for b in at.button]
    assert "生成季报数据表 (xlsx)" in labels and "生成季报文字报告 (docx)" in labels
    assert any("以各校已报送的最新版本为准" in c.value for c in at.caption)


def test_a_teacher_cannot_open_the_review_page(demo_sqlite):
    at = sign_in("demo_teacher")
    try:
        at.switch_page(REVIEW).run()
    except ValueError:
        return  # not registered for the role: the router refuses it
    raise AssertionError("the teacher reached the review page")
