"""Past one machine: two `streamlit run` servers over one PostgreSQL database, as behind a load balancer. The
app keeps nothing of its own outside the database, so a visit a teacher saves through one server is what a
township official opens through the other."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.conftest import _postgres_database
from tests.e2e.servers import chromium, demo_database, sign_in, streamlit_server
from tests.factories import audit_entries
from xueji.db import session_scope
from xueji.models import HomeVisit

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def two_servers():
    for url in _postgres_database():
        engine = demo_database(url)
        with streamlit_server(url) as (first, _), streamlit_server(url) as (second, _):
            yield first, second, engine


def test_a_visit_saved_through_one_server_is_seen_through_the_other(two_servers):
    first, second, engine = two_servers
    assert first != second
    with chromium() as browser:
        page = sign_in(browser, first, "demo_teacher")
        page.get_by_role("heading", name="家访", exact=True).wait_for(timeout=30_000)
        page.get_by_role("button", name="家访", exact=True).first.click()
        heading = page.get_by_role("heading", name=re.compile("登记家访:"))
        heading.wait_for(timeout=30_000)
        name = heading.inner_text().split(":", 1)[1].strip()
        page.get_by_label("见到/联系上的人").fill("祖母")
        page.get_by_label("孩子情况").fill("经第一台服务器登记")
        page.get_by_role("button", name="保存家访记录").click()
        page.get_by_text(f"已保存 {name} 的家访记录").wait_for(timeout=30_000)
        page.close()

        other = sign_in(browser, second, "demo_township")
        other.get_by_role("link", name="个案详情").click()
        other.get_by_role("heading", name="个案详情").wait_for(timeout=30_000)
        other.get_by_label("查找儿童").fill(name)
        other.get_by_label("查找儿童").press("Enter")
        other.get_by_role("button", name="打开").first.click()
        other.get_by_text("经第一台服务器登记").wait_for(timeout=30_000)
        other.close()
    with session_scope(engine) as session:
        visit = session.scalar(select(HomeVisit).where(HomeVisit.child_situation == "经第一台服务器登记"))
        assert visit is not None
        assert audit_entries(session, "home_visit", visit.id) == 1
