"""Streamlit's own English replaced, and phone-sized tap targets (issue 24), in a real browser: the registrar's
人籍一致 (a class choice, tabs, a form with a date, the roll-call uploader) and 控辍保学台账's new case (an empty
date, required fields) on a phone (390×844) and a desktop. What a user can read (rendered, visible text with a
size; placeholders) holds none of Streamlit's English; the Chinese put in its place is on screen; on the phone
every tap target is at least 44 px high and nothing is wider than the screen. Screenshots:
artifacts/e2e/chinese_widgets_*.png."""

from __future__ import annotations

import re

import pytest

from tests.e2e.servers import ARTIFACTS, READABLE, chromium, demo_database, shots_on_failure, streamlit_server
from tests.e2e.test_intake import DESKTOP, PHONE, WAIT, signed_in

pytestmark = pytest.mark.e2e

ENGLISH = re.compile(
    r"Choose an option|Choose options|No options to select|No results|Select all|Press (?:Enter|Ctrl\+Enter|⌘\+Enter)"
    r"|Drag and drop|Browse files|per file|\bUpload\b|\(required\)|This field is required|\b(?:yyyy|mm|dd)\b"
)
# The text a user can read: text nodes of rendered, visible elements with a font size and a box (so not the nodes
# style.css hides behind its Chinese, nor screen-reader-only text), icons' ligature names left out; and placeholders.
# What style.css shows in place of the English: the ::after contents of the given selector.
AFTER = "sel => [...document.querySelectorAll(sel)].map(e => getComputedStyle(e, '::after').content)"
TAP_TARGETS = """() => [...document.querySelectorAll(
  'button, a[href]:not([data-testid=stSkipToContent]), [role=tab], summary, [data-testid=stTextInputRootElement], ' +
  'textarea, [data-testid=stSelectbox] [role=group], [data-testid=stRadio] label, [data-testid=stCheckbox] label, ' +
  '[data-testid=stDateInputField], [data-testid=stSidebarNavLink]'
)].filter(e => e.checkVisibility()).map(e => [e.getAttribute('data-testid') || e.tagName, e.innerText.slice(0, 12),
  e.getBoundingClientRect().height]).filter(([, , h]) => h > 0)"""
WIDTHS = (
    "() => [document.documentElement.scrollWidth, document.querySelector('[data-testid=stMain]').scrollWidth]"
)


def open_page(page, link: str, heading: str) -> None:  # noqa: ANN001
    if page.viewport_size["width"] < 640:  # on a phone the menu is folded away
        page.get_by_test_id("stExpandSidebarButton").click()
    page.get_by_role("link", name=link, exact=True).click()
    page.get_by_role("heading", name=heading, exact=True).wait_for(timeout=WAIT)


def english_on(page) -> list[str]:  # noqa: ANN001
    read = page.evaluate(READABLE)
    return sorted(
        {m.group(0) for text in [*read["texts"], *read["placeholders"]] for m in ENGLISH.finditer(text)}
    )


def check_phone(page) -> None:  # noqa: ANN001
    small = [t for t in page.evaluate(TAP_TARGETS) if t[2] < 44]
    assert small == [], small
    assert page.evaluate(WIDTHS) == [390, 390]


def shot(page, name: str) -> None:  # noqa: ANN001
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / f"chinese_widgets_{name}.png"))


def checks_page(page, phone: bool) -> None:  # noqa: ANN001
    """人籍一致: the class choice, the roll-call form and date, then the uploader in its tab."""
    open_page(page, "人籍一致", "人籍一致核查")
    page.get_by_role("button", name="保存核查结果").wait_for(timeout=WAIT)
    assert page.get_by_test_id("stDateInputField").first.inner_text().replace("\n", "").startswith("20")
    assert english_on(page) == []
    if phone:
        check_phone(page)
    page.get_by_role("tab", name="上传点名册").click()
    dropzone = page.get_by_test_id("stFileUploaderDropzone")
    dropzone.wait_for(timeout=WAIT)
    assert page.evaluate(AFTER, "[data-testid=stFileUploaderDropzone] [data-testid=stMarkdownContainer]") == [
        '"选择文件"'
    ]
    assert "仅限 xlsx 文件,不超过 20 MB" in page.evaluate(
        "() => getComputedStyle(document.documentElement).getPropertyValue('--xueji-upload-hint')"
    )
    assert english_on(page) == []
    if phone:
        check_phone(page)


def new_case(page, phone: bool) -> None:  # noqa: ANN001
    """控辍保学台账 › 新建个案 for a child without a record: an empty date reads 年-月-日 and takes a typed year;
    the required fields carry * and the form says what it means."""
    open_page(page, "控辍保学台账", "控辍保学台账")
    page.get_by_text("无学籍的儿童(排查发现、未入学等)").click()
    birth = page.get_by_test_id("stDateInput").filter(has_text="出生日期(如已知)")
    birth.wait_for(timeout=WAIT)
    assert birth.evaluate(
        "e => [...e.querySelectorAll('[data-placeholder=true]')].map(s => getComputedStyle(s, '::after').content)"
    ) == ['"年"', '"月"', '"日"']
    page.get_by_text("带 * 为必填").first.wait_for(timeout=WAIT)
    page.get_by_label("姓名 *").wait_for(timeout=WAIT)
    assert english_on(page) == []
    if phone:
        check_phone(page)
    shot(page, "phone_new_case" if phone else "new_case")
    year = birth.locator("[data-type=year]")
    year.click()
    page.keyboard.type("2015")
    page.wait_for_timeout(300)
    assert year.inner_text() == "2015"  # the Chinese placeholder does not get in the way of typing


def test_streamlit_speaks_chinese_and_fits_a_phone(database_url):
    demo_database(database_url).dispose()
    with (
        streamlit_server(database_url) as (base, _),
        chromium() as browser,
        shots_on_failure(browser, "chinese"),
    ):
        phone = signed_in(browser, base, "demo_registrar", PHONE)
        checks_page(phone, phone=True)
        shot(phone, "phone_checks")
        new_case(phone, phone=True)

        desk = signed_in(browser, base, "demo_registrar", DESKTOP)
        checks_page(desk, phone=False)
        shot(desk, "checks")
        new_case(desk, phone=False)
