"""The September intake in a real browser (issue 23): on 2026-09-07 the junior school's registrar (J, 沙市镇中学)
uploads the national template with grade 7 — last year's graduates of both county primaries by ID number, a child
from another county (转出县区, 原学校) and a child who transferred out in 2025–26 and returns — reads the arrivals
in the preview, ticks the proofs, confirms; the records move (same registry number, new school and class, an
approved 升学 each) and 巩固率 shows grade 7's start with the promoted children and the outside child as 转入. The
same pages on a phone (390×844). The county is built through the services as tests/integration/test_school_year.py
builds it. Screenshots go to artifacts/e2e/intake_*.png."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.e2e.servers import ARTIFACTS, chromium, shots_on_failure, sign_in_page, streamlit_server
from tests.integration.test_school_year import NAMES, P1, P2, J, Year, intake_rows, load_the_registry
from xueji.db import session_scope
from xueji.demo.build import DEMO_PASSWORD
from xueji.demo.registry_file import template_workbook
from xueji.models import AppUser, SchoolClass, StatusChange, Student
from xueji.rules.retention import GradeFlow
from xueji.rules.status_changes import ChangeKind
from xueji.services.registry.rollover import run_rollover
from xueji.services.system.accounts import issue_one_time_password

pytestmark = pytest.mark.e2e

TODAY = "2026-09-07"  # the autumn term's 7th day: inside the transfer window
WAIT = 60_000  # ms: a page's first run imports the app on a slow shared machine
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
# a phone's browser (Streamlit folds the menu away after a tap on a page only for a mobile user agent)
PHONE_BROWSER = {
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 1,  # screenshots at the layout's size
    "user_agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36",
}
PROMOTED = ("g1", "g2", "g3", "g4", "m1", "m2", "m3")
SENTENCES = {
    **{NAMES[k]: "从古港镇完全小学毕业,升入本校" for k in ("g1", "g2", "g3", "g4")},
    **{NAMES[k]: "从古港镇梅田小学毕业,升入本校" for k in ("m1", "m2", "m3")},
    NAMES["r"]: "曾从古港镇完全小学转出外县,现转回本县,入读本校",
    NAMES["o"]: "从江西省萍乡市上栗县桐木镇中学转入(外县转入),新建学籍",
}
# grade 7 of 2026–27 at J on the intake's day: 8 on the registry at the end of 1 September (7 promoted, r back
# on the year's first day), o in on 7 September, nobody gone yet
GRADE_7 = GradeFlow(7, 8, 1, 0, 0, 0, 0, 0, 9)


def the_county(year: Year) -> bytes:
    """2025–26 as in test_school_year (the registry loaded; r leaves the county in March; the rollover in July),
    accounts the registrar and county officer sign in to with the demo password; the intake file."""
    load_the_registry(year)
    year.on("2026-03-09")
    out = year.ask("reg_p1", "r", ChangeKind.TRANSFER_OUT, "2026-03-09", "随父母迁往外省",
                   destination="广东省东莞市", override_reason="父母工作调动,全家迁往外省")  # fmt: skip
    year.decide("county", out)
    year.on("2026-07-13")
    with session_scope(year.engine) as session:
        assert len(run_rollover(session, actor=year["county"], school_year=2026).graduated) == 7
        for user in session.scalars(select(AppUser).where(AppUser.username.in_(("reg_j", "county")))):
            issue_one_time_password(user, DEMO_PASSWORD, must_change=False)
        session.commit()
    year.on(TODAY)
    return template_workbook(intake_rows(year))


def shot(page, name: str) -> None:  # noqa: ANN001
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(800)  # let tables draw before the screenshot
    # the app scrolls inside its main area, not the document: the viewport grows to the page's height
    size = page.viewport_size
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], [data-testid=stSidebarContent]')]"
        ".map(e => e.scrollHeight))"
    )
    page.set_viewport_size({"width": size["width"], "height": max(height, size["height"])})
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / f"intake_{name}.png"))
    page.set_viewport_size(size)


def open_page(page, title: str) -> None:  # noqa: ANN001
    if page.viewport_size["width"] < 640:  # on a phone the menu is folded away
        page.get_by_test_id("stExpandSidebarButton").click()
    page.get_by_role("link", name=title, exact=True).click()
    page.get_by_role("heading", name=title, exact=True).wait_for(timeout=WAIT)


def signed_in(browser, base: str, username: str, viewport: dict):  # noqa: ANN001, ANN201
    phone = PHONE_BROWSER if viewport == PHONE else {}
    page = sign_in_page(browser.new_page(viewport=viewport, locale="zh-CN", **phone), base, username)
    page.get_by_role("button", name="退出登录").wait_for(state="attached", timeout=WAIT)
    return page


def preview(page, file: Path) -> None:  # noqa: ANN001
    """Upload the intake and wait for the arrivals: every sentence and the sources counted."""
    open_page(page, "学籍导入")
    page.locator('input[type="file"]').set_input_files(str(file))
    page.get_by_role("heading", name=f"学籍迁入与外县来源({len(SENTENCES)} 人)").wait_for(timeout=WAIT)
    for text in set(SENTENCES.values()):
        page.get_by_text(text).first.wait_for(state="attached", timeout=WAIT)
    page.get_by_text("来源:本县小学升入 7 人,外县转入 1 人,返回 1 人(其中转回 1 人)。").wait_for(timeout=WAIT)
    page.get_by_text(f"外县转入、转回的 2 人({NAMES['r']}、{NAMES['o']})已核验的材料").wait_for(timeout=WAIT)


def retention(page) -> None:  # noqa: ANN001
    """巩固率 for 2026–2027 at J: grade 7's worked formula (start 8, transfers in 1) on a desktop; a phone's
    table holds only the columns in view."""
    open_page(page, "巩固率")
    page.get_by_text("本校2026-2027学年各年级巩固率").first.wait_for(timeout=WAIT)
    table = page.get_by_test_id("stDataFrame").first
    table.scroll_into_view_if_needed()  # drawn once in view
    last = GRADE_7.worked() if page.viewport_size["width"] >= 640 else "七年级"
    table.get_by_text(last).first.wait_for(state="attached", timeout=WAIT)


def test_the_september_intake_in_a_browser(engine, database_url, monkeypatch, tmp_path):
    year = Year(engine, monkeypatch)
    file = tmp_path / "沙市镇中学2026级新生.xlsx"
    file.write_bytes(the_county(year))
    kind = "" if database_url.startswith("sqlite") else "pg_"

    with (
        streamlit_server(database_url, XUEJI_TODAY=TODAY) as (base, _),
        chromium() as browser,
        shots_on_failure(browser, "intake"),
    ):
        # the phone first: the preview only (nothing is written before the confirmation)
        phone = signed_in(browser, base, "reg_j", PHONE)
        preview(phone, file)
        shot(phone, kind + "phone_1_preview")

        desk = signed_in(browser, base, "reg_j", DESKTOP)
        preview(desk, file)
        shot(desk, kind + "1_preview")
        desk.get_by_text("户籍或房产证明").click()  # the sending schools' forms are still to come
        confirm = desk.get_by_role("button", name="确认导入:新增 1 人,更新 0 人,迁入 8 人")
        confirm.click()
        desk.get_by_text("导入完成").wait_for(timeout=WAIT)
        shot(desk, kind + "2_imported")

        with session_scope(engine) as session:
            grade_7 = session.scalar(
                select(SchoolClass.id).where(
                    SchoolClass.school_id == year.school(J), SchoolClass.code == "2026201"
                )
            )
            for key in (*PROMOTED, "r"):
                child = session.get(Student, year.student(key))
                number = f"G{year.rows[key]['id_number']}"
                assert (child.school_id, child.class_id, child.status, child.registry_number) == (
                    year.school(J), grade_7, "enrolled", number,
                ), key  # fmt: skip
                (change,) = session.scalars(
                    select(StatusChange).where(
                        StatusChange.student_id == child.id,
                        StatusChange.effective_date >= date(2026, 9, 1),
                    )
                )
                want = ChangeKind.PROMOTION if key in PROMOTED else ChangeKind.TRANSFER_IN_OUTSIDE
                assert (change.kind, change.state, change.effective_date) == (
                    want.value, "approved", date(2026, 9, 1),
                ), key  # fmt: skip
                left = P1 if key.startswith(("g", "r")) else P2
                assert (change.school_id, change.to_school_id, change.to_class_id) == (
                    year.school(left), year.school(J), grade_7,
                ), key  # fmt: skip
            outside = session.scalar(select(StatusChange).where(StatusChange.student_id == year.student("o")))
            assert (outside.kind, outside.state, outside.source_county, outside.documents) == (
                "transfer_in_outside", "approved", "江西省萍乡市上栗县", "household_proof",
            )  # fmt: skip
        assert year.flows(2026, J)[0] == GRADE_7

        retention(desk)
        shot(desk, kind + "3_retention")  # the whole page in view: every table drawn
        # 九年巩固率, not yet covered, says "—" (the grid draws a null as "None" on its canvas)
        desk.get_by_text("—", exact=True).first.wait_for(state="attached", timeout=WAIT)
        retention(phone)
        shot(phone, kind + "phone_2_retention")

        # September's ledger: both 外县转入 of the import (o, and r back) lack the sending school's form
        county = signed_in(browser, base, "county", DESKTOP)
        open_page(county, "月度台账与考核")
        county.get_by_role("heading", name="明细").wait_for(timeout=WAIT)
        county.get_by_text("缺:转出学校学籍登记表").first.wait_for(state="attached", timeout=WAIT)
        for name in (NAMES["o"], NAMES["r"]):
            county.get_by_text(name, exact=True).first.wait_for(state="attached", timeout=WAIT)
        shot(county, kind + "4_county_ledger")
