"""AppTest of 劝返复学 on the demo county: each role's list holds only the steps it answers for and each case shows
only the forms that role may use there; a hand-up short of return attempts is refused in Chinese and changes
nothing; with two attempts logged it hands the case to the township; 个案详情 shows the same ladder."""

from datetime import date

import pytest
from sqlalchemy import select

from tests.app.conftest import sign_in
from xueji.db import session_scope
from xueji.models import AppUser, AuditLog, Case, LadderStep
from xueji.rules.cases import RiskLevel
from xueji.rules.ladder import Step, StepState
from xueji.rules.visits import ReturnOutcome, VisitFacts, VisitKind, VisitMethod
from xueji.services.cases import visits
from xueji.services.system.accounts import actor_of

PAGE = "pages/cases/ladder.py"
FORMS = {
    "提请乡镇",
    "登记送达",
    "登记县级措施",
    "登记复学",
    "登记返校跟踪",
    "申请销号",
    "审批销号",
    "跳过此步",
}


def _open(username: str):
    at = sign_in(username)
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.title[0].value == "劝返复学"
    return at


def _choose(at, step: Step):
    """Pick the first case of the page whose current step is this one; return its label."""
    box = at.selectbox(key="ladder_case")
    label = next(o for o in box.options if f" · {step.label} · " in o)
    box.select(label).run()
    assert not at.exception
    return label


def _forms(at) -> set[str]:
    """The forms offered: the tabs' names, or the heading of the one form."""
    return ({t.label for t in at.tabs} | {m.value.strip("*") for m in at.markdown}) & FORMS


def _open_step(engine, case_id: int) -> LadderStep:
    with session_scope(engine) as session:
        return session.scalar(
            select(LadderStep).where(LadderStep.case_id == case_id, LadderStep.state == StepState.OPEN.value)
        )


def _case_of(engine, child_name: str, step: Step) -> int:
    with session_scope(engine) as session:
        from xueji.models import Child  # noqa: PLC0415

        return session.scalar(
            select(Case.id)
            .join(Child, Case.child_id == Child.id)
            .join(LadderStep, LadderStep.case_id == Case.id)
            .where(Child.name == child_name, LadderStep.step == step.value, LadderStep.state == "open")
        )


def test_the_registrar_sees_the_schools_steps_and_only_the_schools_forms(demo_sqlite):
    at = _open("demo_registrar")
    frame = at.dataframe[0].value
    assert len(frame) and set(frame["负责"]) == {"学校(教育线)"}  # 待我处理: the school's steps only
    assert set(frame["当前步骤"]) <= {Step.SCHOOL.label, Step.FOLLOW_UP.label}
    assert frame["剩余期限"].str.match(r"^(还剩 \d+ 天|今天到期|已逾期( \d+ 天)?)$").all()
    _choose(at, Step.SCHOOL)
    assert {"提请乡镇", "跳过此步", "申请销号"} <= _forms(at)
    assert not _forms(at) & {"登记送达", "登记县级措施", "审批销号"}
    assert any("已劝返" in c.value and "需 2 次" in c.value for c in [*at.caption, *at.warning])


@pytest.mark.parametrize(
    ("username", "step", "form", "absent"),
    [
        ("demo_township", Step.TOWNSHIP, "登记送达", {"登记县级措施", "提请乡镇"}),
        ("demo_county", Step.COUNTY, "登记县级措施", {"登记送达", "提请乡镇"}),
        ("demo_township", Step.CLOSURE, "审批销号", {"登记送达", "申请销号"}),
    ],
)
def test_each_official_sees_the_form_of_the_step_they_own(demo_sqlite, username, step, form, absent):
    at = _open(username)
    # the demo's county case has its measure recorded: waiting for the return, it is under 全部在办, not 待我处理
    at.segmented_control(key="ladder_view").set_value("all").run()
    frame = at.dataframe[0].value
    assert step.label in set(frame["当前步骤"])
    _choose(at, step)
    assert form in _forms(at) and not _forms(at) & absent


def test_the_overdue_view_shows_red_words_not_colour_only(demo_sqlite):
    at = _open("demo_township")
    at.segmented_control(key="ladder_view").set_value("overdue").run()
    assert not at.exception
    frame = at.dataframe[0].value
    assert len(frame) and frame["剩余期限"].str.startswith("已逾期").all()


def test_a_hand_up_short_of_return_attempts_is_refused_in_chinese_and_changes_nothing(demo_sqlite):
    at = _open("demo_registrar")
    label = _choose(at, Step.SCHOOL)
    case_id = _case_of(demo_sqlite, label.split(" · ")[0], Step.SCHOOL)
    key = f"ladder_{case_id}"
    at.text_area(key=f"{key}_hand_up_note").input("家长不同意返校,提请乡镇")
    at.checkbox(key=f"{key}_hand_up_ok").check()
    next(b for b in at.button if b.label == "提请乡镇").click().run()
    assert not at.exception
    assert any("劝返" in e.value and "次" in e.value for e in at.error), [e.value for e in at.error]
    assert _open_step(demo_sqlite, case_id).step == Step.SCHOOL.value
    with session_scope(demo_sqlite) as session:
        refused = session.scalar(
            select(AuditLog).where(AuditLog.action == "ladder.hand_up", AuditLog.outcome == "refused")
        )
    assert refused is not None


def test_a_hand_up_after_two_return_attempts_opens_the_townships_step(demo_sqlite):
    at = _open("demo_registrar")
    label = _choose(at, Step.SCHOOL)
    case_id = _case_of(demo_sqlite, label.split(" · ")[0], Step.SCHOOL)
    with session_scope(demo_sqlite) as session:
        registrar = actor_of(session.scalar(select(AppUser).where(AppUser.username == "demo_registrar")))
        child_id = session.get(Case, case_id).child_id
    for visitors in ("李学籍", "李学籍、村主任"):  # two attempts on one day: a script is not asked about it
        with session_scope(demo_sqlite) as session:
            visits.log_visit(
                session,
                actor=registrar,
                child_id=child_id,
                facts=VisitFacts(
                    visit_date=date(2026, 11, 23),
                    kind=VisitKind.RETURN_ATTEMPT,
                    method=VisitMethod.HOME,
                    visitors=visitors,
                    met_with="父亲",
                    child_situation="在家,不愿到校",
                    family_situation="务农",
                    risk_after=RiskLevel.HIGH,
                    next_step="提请乡镇",
                    outcome=ReturnOutcome.REFUSED,
                ),  # fmt: skip
            )
    at.selectbox(key="ladder_case").select(label).run()  # read again: the attempts now count
    assert any("已劝返 2 次/需 2 次" in c.value for c in at.caption)
    key = f"ladder_{case_id}"
    at.text_area(key=f"{key}_hand_up_note").input("两次上门劝返未果,提请乡镇下达限期复学通知")
    next(b for b in at.button if b.label == "提请乡镇").click().run()  # without the tick: asked first
    assert any(e.value == "请先勾选确认" for e in at.error)
    assert _open_step(demo_sqlite, case_id).step == Step.SCHOOL.value
    at.checkbox(key=f"{key}_hand_up_ok").check()
    next(b for b in at.button if b.label == "提请乡镇").click().run()
    assert not at.exception and not at.error
    assert any(s.value == "已提请乡镇" for s in at.success)
    assert _open_step(demo_sqlite, case_id).step == Step.TOWNSHIP.value


def test_the_case_detail_shows_the_ladder_of_an_out_of_school_case(demo_sqlite):
    with session_scope(demo_sqlite) as session:
        child_id = session.scalar(
            select(Case.child_id)
            .join(LadderStep, LadderStep.case_id == Case.id)
            .where(LadderStep.step == Step.COUNTY.value, LadderStep.state == "open")
        )
    at = sign_in("demo_county")
    at.session_state["case_child_id"] = child_id
    at.switch_page("pages/cases/case_detail.py").run()
    assert not at.exception
    assert any(h.value.startswith("劝返复学(") for h in at.subheader)
    text = "\n".join(m.value for m in at.markdown)
    assert Step.SCHOOL.label in text and Step.COUNTY.label in text and "县级措施:行政措施" in text
    assert "登记县级措施" in _forms(at)


def test_the_visits_home_lists_the_ladder_work_done_on_the_ladder_page(demo_sqlite):
    at = sign_in("demo_registrar")
    at.switch_page("pages/cases/visits.py").run()
    assert not at.exception
    assert "劝返复学待办" in [s.value for s in at.subheader]
    links = [link.label for link in at.get("page_link")]
    assert any("学校劝返" in label for label in links), links
