"""User text is text, in a real browser: a child's name, a guardian's name and a visit note holding a markdown image,
a link and an HTML image are shown, on the pages that show them, as the characters typed. A small HTTP server on
127.0.0.1 counts every request for those URLs: none arrives, no <a> or <img> points at it."""

from __future__ import annotations

import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select, update

from tests.e2e.servers import ARTIFACTS, chromium, demo_database, sign_in, streamlit_server
from xueji.db import session_scope
from xueji.models import AppUser, Case, Child, FamilyMember, HomeVisit, Student

pytestmark = pytest.mark.e2e

# a 1×1 transparent PNG, so that a fetched image would really draw
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002"
    "000154a24f5d0000000049454e44ae426082"
)


@pytest.fixture(scope="module")
def pixel_server():
    """An HTTP server that answers every request with a pixel and remembers its path."""
    hits: list[str] = []

    class Counting(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the http.server name)
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(PIXEL)))
            self.end_headers()
            self.wfile.write(PIXEL)

        do_POST = do_HEAD = do_GET  # noqa: N815

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory, pixel_server):
    """The demo county with one of the teacher's case children named, guarded and visited in markdown."""
    base, _ = pixel_server
    texts = {
        "name": f"![x]({base}/name.png)",
        "guardian": f"[点我]({base}/guardian)",
        "note": f"![x]({base}/note.png) [点我]({base}/note-link) <img src={base}/note-html.png>",
    }
    url = f"sqlite:///{tmp_path_factory.mktemp('markdown') / 'app.db'}"
    engine = demo_database(url)
    with session_scope(engine) as session:
        teacher = session.scalar(select(AppUser.id).where(AppUser.username == "demo_teacher"))
        child_id, student_id = session.execute(
            select(Child.id, Child.student_id)
            .join(Case, Case.child_id == Child.id)
            .where(Case.education_user_id == teacher, Case.status != "closed", Child.student_id.is_not(None))
            .order_by(Child.id)
            .limit(1)
        ).one()
        session.execute(update(Student).where(Student.id == student_id).values(name=texts["name"]))
        session.execute(update(Child).where(Child.id == child_id).values(name=texts["name"]))
        session.execute(
            update(FamilyMember).where(FamilyMember.student_id == student_id).values(name=texts["guardian"])
        )
        session.add(
            HomeVisit(
                child_id=child_id,
                visit_date=date(2026, 11, 23),
                kind="visit",
                method="home",
                visitors="周老师",
                child_situation=texts["note"],
                risk_after="high",
                recorded_by=teacher,
            )
        )
        session.commit()
    with streamlit_server(url) as (app, _):
        yield app, texts


def _no_element_points_at(page, base: str) -> None:
    assert page.locator(f'a[href^="{base}"]').count() == 0
    assert page.locator(f'img[src^="{base}"]').count() == 0


def _shown(page, text: str) -> None:
    """Wait until the page shows the text as typed (md() keeps GFM off bare addresses with an invisible word
    joiner, U+2060, which the reader does not see and this leaves out)."""
    page.wait_for_function(
        "t => document.body.innerText.replaceAll('\\u2060', '').includes(t)", arg=text, timeout=30_000
    )


def test_the_counting_server_sees_an_image_the_browser_is_given(pixel_server):
    """The control: were the page to draw one of these images, the counter would know."""
    base, hits = pixel_server
    with chromium() as browser:
        page = browser.new_page()
        page.set_content(f'<img src="{base}/control.png">')
        page.wait_for_function("document.images[0].complete && document.images[0].naturalWidth === 1")
        page.close()
    assert hits == ["/control.png"]
    hits.clear()


def test_names_and_notes_with_markdown_are_shown_as_typed_and_fetch_nothing(hostile_app, pixel_server):
    url, texts = hostile_app
    base, hits = pixel_server
    hits.clear()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        # the teacher's home page: the child in the list of cases, then the visit form's heading
        page = sign_in(browser, url, "demo_teacher")
        page.get_by_role("heading", name="家访", exact=True).wait_for(timeout=30_000)
        _shown(page, texts["name"])
        _no_element_points_at(page, base)
        visit = page.get_by_role("button", name="家访", exact=True)
        row = (
            page.locator('[data-testid="stHorizontalBlock"]')
            .filter(has_text="![x](http:")
            .filter(has=visit)
            .last
        )
        row.get_by_role("button", name="家访", exact=True).click()
        page.get_by_role("heading", name="登记家访:![x](http:").wait_for(timeout=30_000)
        _shown(page, f"登记家访:{texts['name']}")
        _no_element_points_at(page, base)

        # the child's case: name, guardian, and the visit note in the timeline
        page.get_by_role("link", name="个案详情").first.click()
        page.get_by_role("heading", name="个案详情").wait_for(timeout=30_000)
        page.get_by_label("查找儿童").fill(texts["name"])
        page.get_by_label("查找儿童").press("Enter")
        page.get_by_role("button", name="打开").first.click()
        page.get_by_role("heading", name="时间线").wait_for(timeout=30_000)
        _shown(page, texts["name"])
        _shown(page, f"监护人 {texts['guardian']}")
        _shown(page, f"孩子:{texts['note']}")
        _no_element_points_at(page, base)
        page.screenshot(path=str(ARTIFACTS / "markdown_text_case.png"), full_page=True)
        page.close()

        # the registrar opens the student's record
        page = sign_in(browser, url, "demo_registrar")
        page.get_by_role("link", name="学生档案").first.click()
        page.get_by_role("heading", name="学生档案").wait_for(timeout=30_000)
        search = page.get_by_label("查找学生(姓名、拼音首字母或身份证号后几位)")
        search.fill(texts["name"])
        search.press("Enter")
        page.get_by_role("button", name="打开").first.click()
        page.get_by_role("heading", name="![x](http:").first.wait_for(timeout=30_000)
        _shown(page, texts["name"])
        _no_element_points_at(page, base)
        page.screenshot(path=str(ARTIFACTS / "markdown_text_record.png"), full_page=True)
        page.wait_for_timeout(1500)  # anything the page would fetch has had time to arrive
        page.close()
    assert hits == []
