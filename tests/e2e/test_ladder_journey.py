"""劝返复学 in a real browser (issue 26): the school's registrar, on a phone, hands a case up to the township after
two recorded 劝返; the township official, on a phone, generates the 限期复学通知书 and records it served; the county
officer, on a desktop, finds the case at the township's step with its time limit. Screenshots go to
artifacts/e2e/ladder_*.png."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.conftest import DEMO_TODAY
from tests.e2e.servers import (
    ARTIFACTS,
    chromium,
    demo_database,
    shots_on_failure,
    sign_in_page,
    streamlit_server,
)
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.models import AppUser, Case, Child, LadderStep, Notice, School
from xueji.rules.cases import RiskLevel
from xueji.rules.ladder import Step, StepState
from xueji.rules.visits import ReturnOutcome, VisitFacts, VisitKind, VisitMethod
from xueji.services.cases import visits
from xueji.services.system.accounts import actor_of

pytestmark = pytest.mark.e2e

WAIT = 60_000  # ms: a page's first run imports its modules on a slow shared machine
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def a_school_case_with_two_attempts(engine) -> tuple[int, str]:  # noqa: ANN001
    """A case of the registrar's school at the school's step, with two 劝返 logged by the registrar."""
    with session_scope(engine) as session:
        registrar = actor_of(session.scalar(select(AppUser).where(AppUser.username == "demo_registrar")))
        case_id, child_id, name = session.execute(
            select(Case.id, Child.id, Child.name)
            .join(Child, Case.child_id == Child.id)
            .join(School, Child.school_id == School.id)
            .join(LadderStep, LadderStep.case_id == Case.id)
            .where(
                School.code == "2143016965",
                LadderStep.step == Step.SCHOOL.value,
                LadderStep.state == StepState.OPEN.value,
            )
            .order_by(Case.id.desc())
        ).first()
    for visitors in ("李学籍", "李学籍、村主任"):
        with session_scope(engine) as session:
            visits.log_visit(
                session,
                actor=registrar,
                child_id=child_id,
                facts=VisitFacts(
                    visit_date=date.fromisoformat(DEMO_TODAY),
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
    return case_id, name


def shot(page, name: str) -> None:  # noqa: ANN001
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(600)
    page.screenshot(path=str(ARTIFACTS / f"ladder_{name}.png"))


def test_a_case_goes_from_the_school_to_a_served_order_the_county_can_see(tmp_path_factory):  # noqa: ANN001
    url = f"sqlite:///{tmp_path_factory.mktemp('ladder') / 'app.db'}"
    with pytest.MonkeyPatch.context() as env:  # built on the demo's day, as the server runs it
        env.setenv("XUEJI_TODAY", DEMO_TODAY)
        get_settings.cache_clear()
        engine = demo_database(url)
        case_id, name = a_school_case_with_two_attempts(engine)
    get_settings.cache_clear()
    with streamlit_server(url) as (base, _), chromium() as browser, shots_on_failure(browser, "ladder"):
        phone = browser.new_page(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
        sign_in_page(phone, f"{base}/ladder", "demo_registrar")
        phone.get_by_role("heading", name="劝返复学").wait_for(timeout=WAIT)
        phone.goto(f"{base}/ladder?case={case_id}")
        phone.get_by_text("已劝返 2 次/需 2 次").wait_for(timeout=WAIT)
        phone.get_by_label("情况说明").fill("两次上门劝返,家长仍不同意返校,提请乡镇下达限期复学通知")
        phone.get_by_text("确认学校劝返未果,提请乡镇书面限期通知").click()
        phone.get_by_role("button", name="提请乡镇").click()
        phone.get_by_text("已提请乡镇").first.wait_for(timeout=WAIT)
        assert phone.get_by_test_id("stAlertContentSuccess").first.is_visible()  # in view, not off-screen
        shot(phone, "handed_up_phone")
        phone.close()

        phone = browser.new_page(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
        sign_in_page(phone, f"{base}/ladder", "demo_township")
        phone.get_by_role("heading", name="劝返复学").wait_for(timeout=WAIT)
        phone.goto(f"{base}/ladder?case={case_id}")
        phone.get_by_role("button", name="生成限期入学/复学通知书").click()
        phone.get_by_role("button", name="确定生成").click()
        phone.get_by_text("已生成限期入学/复学通知书").first.wait_for(timeout=WAIT)
        phone.get_by_label("送达对象").fill("父亲(监护人)")
        phone.get_by_role("button", name="登记送达").click()
        phone.get_by_text("已登记送达").first.wait_for(timeout=WAIT)
        shot(phone, "served_phone")

        desk = browser.new_page(viewport=DESKTOP, locale="zh-CN")
        sign_in_page(desk, f"{base}/ladder", "demo_county")
        desk.get_by_role("heading", name="劝返复学").wait_for(timeout=WAIT)
        desk.get_by_text("全部在办", exact=True).click()
        desk.get_by_label("搜索").fill(name)
        desk.keyboard.press("Enter")
        desk.get_by_text("全部在办:共 1 件").wait_for(timeout=WAIT)
        shot(desk, "county_desktop")

    with session_scope(engine) as session:
        step = session.scalar(
            select(LadderStep).where(LadderStep.case_id == case_id, LadderStep.state == StepState.OPEN.value)
        )
        notice = session.scalar(select(Notice).where(Notice.case_id == case_id, Notice.step_id == step.id))
    assert (step.step, step.served_to, step.served_on) == (
        Step.TOWNSHIP.value,
        "父亲(监护人)",
        date(2026, 11, 23),
    )
    assert step.comply_by == date(2026, 12, 8)  # the default: 15 days from the day served
    assert notice is not None and notice.number
    engine.dispose()
