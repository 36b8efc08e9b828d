"""疑似同一人审核 page: the pairs side by side, a confirmation needs the tick box and a note, the decided ones below
with an undo for the county officer."""

from sqlalchemy import select

from tests.app.conftest import sign_in
from tests.integration.test_matching import plant_candidates
from xueji.db import session_scope
from xueji.models import MatchDecision

PAGE = "pages/comparisons/match_review.py"


def _markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_the_township_confirms_a_pair_after_ticking_and_writing_what_it_checked(demo_sqlite):
    plant_candidates(demo_sqlite)
    at = sign_in("demo_township")
    at.switch_page(PAGE).run()
    assert not at.exception
    shown = _markdown(at)
    assert "刘智" in shown and "刘志" in shown and "王小明" not in shown  # only its own village's child
    assert any("姓名:刘智 / 刘志(同音 liu zhi)" in w.value for w in at.warning)
    same = next(b for b in at.button if b.label == "是同一人")
    same.click().run()
    assert any("请先勾选" in e.value for e in at.error)
    at.checkbox[0].check()
    next(b for b in at.button if b.label == "是同一人").click().run()
    assert any("核实依据" in e.value for e in at.error)  # the service's refusal, in words
    at.text_input[1].input("已核对户口簿")
    at.checkbox[0].check()
    next(b for b in at.button if b.label == "是同一人").click().run()
    assert not at.exception
    assert any("已判定" in s.value for s in at.success)
    with session_scope(demo_sqlite) as session:
        decided = session.scalars(select(MatchDecision)).one()
        assert decided.confirmed and decided.note == "已核对户口簿"
    assert not any(b.label == "是同一人" for b in at.button)
    assert not at.expander  # the township cannot undo


def test_the_county_officer_sees_every_pair_and_may_undo_a_decision(demo_sqlite):
    plant_candidates(demo_sqlite)
    at = sign_in("demo_county")
    at.switch_page(PAGE).run()
    assert "待审核 **2** 对" in _markdown(at)
    at.checkbox[1].check()
    [b for b in at.button if b.label == "不是同一人"][1].click().run()  # the second pair's
    assert not at.exception
    assert "待审核 **1** 对" in _markdown(at)
    assert at.dataframe[0].value.iloc[0]["判定"] == "不是同一人"
    assert at.expander and at.expander[0].label == "撤销判定(仅县教育局)"
