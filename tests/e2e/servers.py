"""Shared by the browser tests: `streamlit run` on a free port over a given database, Debian's chromium, and
signing in through the form."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine

from tests.conftest import demo_database as copy_of_demo
from tests.conftest import require
from xueji.demo.build import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "e2e"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def demo_database(url: str) -> Engine:
    """The database at url, migrated, with the small demo county (a copy of the tests' demo template)."""
    return copy_of_demo(url)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early: {log.read_text()}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise TimeoutError(f"streamlit did not listen on {port}")


@contextmanager
def streamlit_server(database_url: str, **env: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """A `streamlit run xueji_server.py` (the app behind its sign-in page) over the database; yields its URL and process. Its output goes to a
    file (a pipe nobody reads would stall a server that logs a lot once the pipe is full)."""
    port = free_port()
    environment = {**os.environ, "XUEJI_DATABASE_URL": database_url, "XUEJI_TODAY": "2026-11-23", **env}
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "streamlit.log"
        with log.open("w") as output:
            proc = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "xueji_server.py", "--server.port", str(port),
                 "--server.address", "127.0.0.1", "--server.headless", "true"],
                cwd=ROOT,
                env=environment,
                stdout=output,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
            try:
                _wait_for_port(port, proc, log)
                yield f"http://127.0.0.1:{port}", proc
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


@contextmanager
def shots_on_failure(browser, prefix: str) -> Iterator[None]:  # noqa: ANN001
    """On a failure, a screenshot of every open page (<prefix>_failure_*.png): what the user saw when it stopped."""
    try:
        yield
    except Exception:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for i, page in enumerate(p for context in browser.contexts for p in context.pages):
            page.screenshot(path=str(ARTIFACTS / f"{prefix}_failure_{i}.png"), full_page=True)
        raise


def require_chromium() -> str:
    executable = shutil.which("chromium")
    require("chromium", executable is not None, "请安装 Debian 软件包 chromium(scripts/system-deps.sh)")
    return str(executable)


@contextmanager
def chromium() -> Iterator[object]:
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def sign_in(browser, url, username, viewport=None):  # noqa: ANN001, ANN201
    page = browser.new_page(viewport=viewport or {"width": 1400, "height": 1400}, locale="zh-CN")
    return sign_in_page(page, url, username)


def sign_in_page(page, url, username):  # noqa: ANN001, ANN201
    page.goto(url)
    page.get_by_label("账号").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    return page


# The text a user can read on the page: visible, drawn with a size (style.css hides Streamlit's English nodes at
# font-size 0 and shows Chinese in their place), without icons' names and commands to type (<code>); and the
# placeholders of visible fields.
READABLE = """() => {
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const e = n.parentElement, t = n.nodeValue.trim();
    if (!t || ['STYLE', 'SCRIPT', 'NOSCRIPT'].includes(e.tagName)) continue;
    if (e.closest('[data-testid=stIconMaterial], span[role=img][translate=no], code')) continue;
    if (!e.checkVisibility({visibilityProperty: true, opacityProperty: true})) continue;
    const r = e.getBoundingClientRect();
    if (parseFloat(getComputedStyle(e).fontSize) === 0 || r.width <= 1 || r.height <= 1) continue;
    texts.push(t);
  }
  const placeholders = [...document.querySelectorAll('[placeholder]')].filter(e => e.checkVisibility())
    .map(e => e.placeholder);
  return {texts, placeholders};
}"""
