"""The teacher's phone journey (benchmarks/phone_visit.py) as a test, at 390×844 in Chromium: signed in, the first
due child's visit saved with the minimum fields in at most 6 taps, the confirmation on screen, a reload keeping
the teacher signed in on 家访, and a half-filled visit coming back after a reload."""

from __future__ import annotations

import pytest

from benchmarks.phone_visit import TARGET_TAPS, run
from tests.e2e.servers import ARTIFACTS, demo_database, require_chromium

pytestmark = pytest.mark.e2e


def test_a_teacher_saves_a_visit_on_a_phone_and_a_reload_loses_neither_login_nor_form(tmp_path):
    require_chromium()
    url = f"sqlite:///{tmp_path / 'phone.db'}"
    demo_database(url)
    measured = run(url, ARTIFACTS / "phone_journey")
    assert measured.taps <= TARGET_TAPS
    assert "在屏幕内" in measured.found["confirmation"]
