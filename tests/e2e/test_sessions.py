"""Real sessions in Chromium against one server: they come and go, and the server process's memory stays under
1 GB (20 sessions by default, 100 with XUEJI_LONG_TESTS=1 as .ci/run sets)."""

from __future__ import annotations

import os

import pytest

from benchmarks.sessions import GIB, come_and_go, open_sessions, users
from tests.conftest import require
from tests.e2e.servers import demo_database, streamlit_server

pytestmark = pytest.mark.e2e
SESSIONS = 100 if os.environ.get("XUEJI_LONG_TESTS") == "1" else 20


def test_the_server_stays_under_one_gigabyte_as_sessions_come_and_go(tmp_path):
    import shutil

    require("chromium", shutil.which("chromium") is not None, "请安装 Debian 软件包 chromium")
    url = f"sqlite:///{tmp_path / 'app.db'}"
    demo_database(url)
    with streamlit_server(url) as (base, proc):
        open_sessions(base, [users(url, 1)])  # warm: the app's modules loaded once
        before, peak, after, per_session = come_and_go(base, proc.pid, users(url, SESSIONS))
    print(f"{SESSIONS} sessions: RSS {before >> 20} MB → peak {peak >> 20} MB → {after >> 20} MB")
    assert peak < GIB
    assert after < before + 200 * 2**20  # sessions that have gone do not pile up
    assert per_session > 0
