"""AppTest of 我的待办 on each role's landing: the registrar, county, township and coordinator open 概况 on their
own work, the administrator 上线清单, the auditor 审计日志, the teacher 家访 (their due visits); every line links
to a page of their menu, and an empty list says 暂无待办."""

from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from tests.app.conftest import sign_in
from xueji.db import session_scope
from xueji.models import AppUser
from xueji.services.dashboards.my_work import my_work
from xueji.services.system.accounts import actor_of
from xueji.ui.navigation import pages_for

LANDINGS = {
    "demo_registrar": "学校概况",
    "demo_county": "县域概况",
    "demo_township": "乡镇概况",
    "demo_coordinator": "乡镇概况",
    "demo_admin": "上线清单",
    "demo_auditor": "审计日志",
}


def _actor(engine, username: str):
    with session_scope(engine) as session:
        return actor_of(session.scalars(select(AppUser).where(AppUser.username == username)).one())


def _links(at: AppTest) -> list[tuple[str, str]]:
    """(page, label) of every page link drawn on the page: the page as its script's name (registration), or ""
    for the landing page itself (its address is the app's root)."""
    return [(link.proto.page, link.proto.label) for link in at.get("page_link")]


@pytest.mark.parametrize("username", list(LANDINGS))
def test_each_landing_opens_on_the_users_own_work(demo_sqlite, username):
    at = sign_in(username)
    assert at.title[0].value == LANDINGS[username]
    assert any(h.value == "我的待办" for h in at.subheader)
    actor = _actor(demo_sqlite, username)
    with session_scope(demo_sqlite) as session:
        work = my_work(session, actor=actor)
    assert work.items  # every demo role has something to do
    links = _links(at)
    menu = {spec.path for spec in pages_for(actor)}
    for item in work.items:
        address = (
            next((s.url_path for s in pages_for(actor) if s.path == item.page), None) or Path(item.page).stem
        )
        assert any(page in (address, "") and item.what in label for page, label in links), item
        assert item.page in menu
    first = next(label for _, label in links if work.items[0].what in label)
    assert f":red[**{work.items[0].count} {work.items[0].unit}**]" in first  # overdue first, in red
    assert not any(s.value == "暂无待办" for s in at.success)
    if username == "demo_county":  # the overdue work per township sits under the lines
        assert any(list(d.value.columns) == list(work.townships.columns) for d in at.dataframe)


def test_the_registrar_sees_no_villages_on_their_home_page(demo_sqlite):
    at = sign_in("demo_registrar")
    assert not [label for _, label in _links(at) if "村" in label]
    assert "排查逾期的村" not in {m.label for m in at.metric}


def test_a_date_not_in_this_year_carries_its_year(demo_sqlite):
    at = sign_in("demo_county")
    labels = [label for _, label in _links(at)]
    assert labels[0].startswith("家访逾期的儿童")
    notes = [c.value for c in at.caption]
    # the note under the first line: a deadline of last year reads as one, not as a date ahead
    assert any(n.startswith("最早截止 2025-") for n in notes)
    assert any(n.startswith("最早截止 09-30") for n in notes)  # this year's: month and day


def test_the_teacher_lands_on_their_due_visits(demo_sqlite):
    at = sign_in("demo_teacher")
    assert at.title[0].value == "家访"
    metrics = {m.label: m.value for m in at.metric}
    with session_scope(demo_sqlite) as session:
        work = my_work(session, actor=_actor(demo_sqlite, "demo_teacher"))
    overdue = next(i for i in work.items if i.what == "家访已逾期")
    assert metrics["家访已逾期"] == str(overdue.count)


def test_an_empty_list_says_so(demo_sqlite):
    at = sign_in("demo_auditor")
    at.button(key="my_work_refresh").click().run()  # counted again: still the missing anchor
    assert not at.exception and _links(at)
    with session_scope(demo_sqlite) as session:
        from xueji.services.system import audit_log
        from xueji.services.system.accounts import actor_by_username

        audit_log.anchor_head(session, actor=actor_by_username(session, "demo_auditor"))
    at.button(key="my_work_refresh").click().run()
    assert not at.exception
    assert not [label for _, label in _links(at) if "锚点" in label]
    if not _links(at):
        assert any(s.value == "暂无待办" for s in at.success)
