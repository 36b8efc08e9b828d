"""四查三比对 in a real browser (issue 25): the county officer imports a new version of the household register
(户籍) on 部门名单导入 — the version in effect plus one child of age the registry has never heard of — confirms it,
and the comparison runs; the township official, on a phone, finds that child on 适龄儿童核实, records 失学/辍学
with a confirmation, and the child is followed as a suspected-dropout case with the official on the government
line. Screenshots go to artifacts/e2e/comparison_*.png."""

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
from xueji.demo.registry_file import inline_workbook
from xueji.models import AppUser, Case, DeptPerson, Township, VerificationTask, Village
from xueji.rules.comparisons import TaskStatus, VerifyOutcome
from xueji.rules.dept_lists import ListKind
from xueji.rules.id_number import build_id_number
from xueji.services.comparisons.in_effect import lists_in_effect

pytestmark = pytest.mark.e2e

WAIT = 60_000  # ms: a page's first run imports its modules on a slow shared machine
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
NAME = "欧阳小满"
NUMBER = build_id_number("430181", date(2016, 5, 4), 321, male=False)


def new_register(engine) -> tuple[bytes, int]:  # noqa: ANN001
    """The register in effect, row for row, plus one girl of 10 in a village of 古港镇 with no registry record."""
    with session_scope(engine) as session:
        county = session.scalar(select(Township.county_id).where(Township.name == "古港镇"))
        register = lists_in_effect(session, county)[ListKind.RESIDENTS]
        codes: dict[int, str] = {
            row.id: row.code for row in session.execute(select(Village.id, Village.code))
        }
        village = session.scalar(
            select(Village.code).join(Township).where(Township.name == "古港镇").order_by(Village.code)
        )
        rows = [
            [p.name, p.sex or "", p.birth_date.isoformat() if p.birth_date else "", p.id_number or "",
             p.address or "", codes.get(p.village_id, ""), p.guardian_name or "", p.guardian_phone or ""]
            for p in session.scalars(select(DeptPerson).where(DeptPerson.list_id == register.id))
        ]  # fmt: skip
    rows.append([NAME, "女", "2016-05-04", NUMBER, "古港镇梅田村3组", village, "欧阳大山", "13907310001"])
    return inline_workbook(list(ListKind.RESIDENTS.columns), rows, sheet="户籍"), len(rows)


def shot(page, name: str) -> None:  # noqa: ANN001
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(600)
    page.screenshot(path=str(ARTIFACTS / f"comparison_{name}.png"), full_page=True)


def test_a_child_new_on_the_register_is_verified_out_of_school_and_followed_as_a_case(tmp_path_factory):  # noqa: ANN001
    url = f"sqlite:///{tmp_path_factory.mktemp('comparison') / 'app.db'}"
    with pytest.MonkeyPatch.context() as env:  # built on the demo's day, as the server runs it
        env.setenv("XUEJI_TODAY", DEMO_TODAY)
        get_settings.cache_clear()
        engine = demo_database(url)
        data, people = new_register(engine)
    get_settings.cache_clear()
    upload = tmp_path_factory.mktemp("register") / "户籍适龄儿童名单.xlsx"
    upload.write_bytes(data)
    with streamlit_server(url) as (base, _), chromium() as browser, shots_on_failure(browser, "comparison"):
        page = browser.new_page(viewport=DESKTOP, locale="zh-CN")
        sign_in_page(page, f"{base}/lists", "demo_county")
        page.get_by_role("heading", name="部门名单导入").wait_for(timeout=WAIT)
        page.locator("input[type=file]").set_input_files(str(upload))
        page.get_by_text("可导入的人").wait_for(timeout=WAIT)
        page.get_by_text("已核对名单日期和预览,确认导入").click()
        page.get_by_role("button", name=f"导入 {people} 人").click()
        page.get_by_text("已重新运行三比对").first.wait_for(timeout=WAIT)
        shot(page, "imported")

        phone = browser.new_page(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
        sign_in_page(phone, f"{base}/tasks", "demo_township")
        phone.get_by_role("heading", name="适龄儿童核实").wait_for(timeout=WAIT)
        chooser = phone.get_by_label("儿童")
        chooser.click()
        phone.keyboard.type(NAME)
        phone.keyboard.press("Enter")
        phone.get_by_test_id("stRadioGroup").get_by_text(
            VerifyOutcome.OUT_OF_SCHOOL.label, exact=True
        ).click()
        phone.get_by_label("失学/辍学情况").fill("在家照看弟妹,未入学")
        phone.get_by_text("保存后将为该儿童建立“疑似辍学”个案").click()
        phone.get_by_role("button", name="保存核实结果").click()
        phone.get_by_text(f"已登记 {NAME}").first.wait_for(timeout=WAIT)
        shot(phone, "verified_phone")

    with session_scope(engine) as session:
        task = session.scalar(select(VerificationTask).where(VerificationTask.id_number == NUMBER))
        official = session.scalar(select(AppUser.id).where(AppUser.username == "demo_township"))
        case = session.get(Case, task.case_id)
        assert (task.status, task.outcome) == (TaskStatus.DONE.value, VerifyOutcome.OUT_OF_SCHOOL.value)
        assert (case.category, case.source, case.government_user_id) == (
            "suspected_dropout",
            "residents",
            official,
        )
    engine.dispose()
