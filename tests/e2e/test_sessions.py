"""Real sessions in Chromium against one server: they come and go, and the server process's memory stays under
1 GB (20 sessions by default, 30 with XUEJI_LONG_TESTS=1 as .ci/run sets; benchmarks/sessions.py measures 100); then teachers save visits at once
through the same server (its start-up and the demo copy paid once)."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from benchmarks.sessions import GIB, come_and_go, open_sessions, users, visit_jobs, visits_at_once
from tests.e2e.servers import demo_database, require_chromium, streamlit_server
from tests.factories import audit_entries
from xueji.db import session_scope
from xueji.models import HomeVisit

pytestmark = pytest.mark.e2e
SESSIONS = 30 if os.environ.get("XUEJI_LONG_TESTS") == "1" else 20


@pytest.fixture(scope="module")
def server(tmp_path_factory):  # noqa: ANN001, ANN201
    """One server over the small demo county for both tests: the memory test runs first, on a server nothing but
    its own warm-up has used; the visits test asserts only the visits it saves."""
    require_chromium()
    url = f"sqlite:///{tmp_path_factory.mktemp('sessions') / 'app.db'}"
    engine = demo_database(url)
    with streamlit_server(url) as (base, proc):
        yield url, engine, base, proc


def test_the_server_stays_under_one_gigabyte_as_sessions_come_and_go(server):
    url, _, base, proc = server
    open_sessions(base, [users(url, 1)])  # warm: the app's modules loaded once
    before, peak, after, per_session = come_and_go(base, proc.pid, users(url, SESSIONS))
    print(f"{SESSIONS} sessions: RSS {before >> 20} MB → peak {peak >> 20} MB → {after >> 20} MB")
    assert peak < GIB
    assert after < before + 200 * 2**20  # sessions that have gone do not pile up
    assert per_session > 0


def test_teachers_saving_visits_at_once_in_their_browsers_each_save_exactly_once(server):
    """M real Streamlit sessions writing at once: each teacher's visit is stored once, with one audit entry."""
    url, engine, base, _ = server
    jobs = visit_jobs(url, 6, "同时登记")
    assert len(jobs) == 6
    visits_at_once(base, jobs)
    with session_scope(engine) as session:
        for _, _, token in jobs:
            stored = session.scalars(select(HomeVisit.id).where(HomeVisit.child_situation == token)).all()
            assert len(stored) == 1, token
            assert audit_entries(session, "home_visit", stored[0]) == 1
