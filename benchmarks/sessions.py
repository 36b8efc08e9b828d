"""Real Streamlit sessions in Chromium against one `streamlit run` server: M users signing in at once, and the
server's memory while 100 sessions come and go.

    python benchmarks/sessions.py [--concurrent 20] [--sessions 100] [--db PATH | --postgres URL]

Part 1: the time for one user to sign in and see their landing page (the baseline), then for M users at once
(teachers to 家访, the county to 概况), each in its own browser context: the report is the M-user wall time as a
ratio of the one-user time; then M teachers each find a student and save a visit at once, and every visit must
be stored exactly once. Part 2: --sessions sessions, ten at a time, each signing in, opening its page and
closing; the server process's resident memory (VmRSS) before, at its peak, and after. Target < 1 GB.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402
from sqlmodel import Session  # noqa: E402

from benchmarks.harness import build  # noqa: E402
from tests.e2e.servers import CHROMIUM_ARGS, streamlit_server  # noqa: E402
from xueji.db import make_engine  # noqa: E402
from xueji.demo.build import DEMO_PASSWORD  # noqa: E402
from xueji.models import AppUser, HomeVisit, SchoolClass, Student  # noqa: E402

GIB = 1024**3


def rss(pid: int) -> int:
    """Resident memory of a process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def cpu(pid: int) -> float:
    """CPU seconds a process has used (user + system)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def users(url: str, count: int) -> list[str]:
    """The county officer and head teachers, as many as asked (repeating if the county has fewer)."""
    with Session(make_engine(url)) as session:
        teachers = list(
            session.scalars(
                select(AppUser.username)
                .join(SchoolClass, SchoolClass.head_teacher_id == AppUser.id)
                .distinct()
                .order_by(AppUser.username)
            )
        )
    names = ["demo_county", *teachers]
    return [names[i % len(names)] for i in range(count)]


def landing(username: str) -> str:
    return "县域概况" if username == "demo_county" else "家访"


async def _session(browser, base: str, username: str) -> None:  # noqa: ANN001
    """One user: a fresh browser context, sign in, wait for the landing page to show, close."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(300_000)  # on 2 cores, 20 Chromium pages loading at once take a while
    page = await context.new_page()
    await page.goto(base)
    await page.get_by_label("账号").fill(username)
    await page.get_by_label("密码").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await page.get_by_role("heading", name=landing(username), exact=True).first.wait_for()
    await context.close()


async def _visit(browser, base: str, username: str, id_tail: str, token: str) -> None:  # noqa: ANN001
    """One teacher: sign in, find their student by the ID number's tail, log a visit marked token, see it saved."""
    context = await browser.new_context(viewport={"width": 1280, "height": 1400}, locale="zh-CN")
    context.set_default_timeout(300_000)
    page = await context.new_page()
    await page.goto(base)
    await page.get_by_label("账号").fill(username)
    await page.get_by_label("密码").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="登录").click()
    search = page.get_by_label("学生姓名、拼音首字母或身份证号后几位")
    await search.fill(id_tail)
    await search.press("Enter")
    await page.get_by_role("button", name="登记家访").click()
    await page.get_by_label("见到/联系上的人").fill("母亲")
    await page.get_by_label("孩子情况").fill(token)
    await page.get_by_role("button", name="保存家访记录").click()
    await page.get_by_text("已保存").first.wait_for()
    await context.close()


async def _visits(base: str, jobs: list[tuple[str, str, str]]) -> float:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        started = time.perf_counter()
        await asyncio.gather(*(_visit(browser, base, *job) for job in jobs))
        seconds = time.perf_counter() - started
        await browser.close()
    return seconds


def visits_at_once(base: str, jobs: list[tuple[str, str, str]]) -> float:
    """(username, ID-number tail of one of their students, token) per teacher, all saving a visit at once in
    their own browser session; returns the wall time. The caller checks what was stored."""
    return asyncio.run(_visits(base, jobs))


def visit_jobs(url: str, count: int, prefix: str) -> list[tuple[str, str, str]]:
    """Head teachers with a student each, for visits_at_once."""
    with Session(make_engine(url)) as session:
        rows = session.execute(
            select(AppUser.username, Student.id_number)
            .join(SchoolClass, SchoolClass.head_teacher_id == AppUser.id)
            .join(Student, Student.class_id == SchoolClass.id)
            .where(Student.status == "enrolled")
            .order_by(AppUser.username, Student.id)
        ).all()
    first: dict[str, str] = {}
    for user, number in rows:
        first.setdefault(user, number)  # each teacher's first student
    return [(user, number[-8:], f"{prefix}-{user}") for user, number in list(first.items())[:count]]


async def _batches(base: str, batches: list[list[str]]) -> list[float]:
    """Each batch's users at once (one Chromium, a context each); the wall time of each batch."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        times = []
        for batch in batches:
            started = time.perf_counter()
            await asyncio.gather(*(_session(browser, base, u) for u in batch))
            times.append(time.perf_counter() - started)
        await browser.close()
    return times


def open_sessions(base: str, batches: list[list[str]]) -> list[float]:
    return asyncio.run(_batches(base, batches))


def come_and_go(base: str, pid: int, usernames: list[str], batch: int = 10) -> tuple[int, int, int, float]:
    """Sessions in batches; (RSS before, peak RSS, RSS after the last closed and the server settled, the
    server's CPU seconds per session)."""
    before = peak = rss(pid)
    used = cpu(pid)
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, rss(pid))
            time.sleep(0.2)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    open_sessions(base, [usernames[i : i + batch] for i in range(0, len(usernames), batch)])
    per_session = (cpu(pid) - used) / len(usernames)
    time.sleep(5)
    stop.set()
    watcher.join()
    return before, max(peak, rss(pid)), rss(pid), per_session


def report(url: str, concurrent: int, sessions: int, log: Callable[[str], None] = print) -> bool:
    """Start a server over url and run both parts; True when the memory target is met."""
    with streamlit_server(url) as (base, proc):
        # The first batch warms the server (imports, page compilation); one user alone is the baseline.
        _, one, two, many = open_sessions(
            base, [users(url, 1), users(url, 1), users(url, 1), users(url, concurrent)]
        )
        one = min(one, two)
        log(f"  1 session: {one:.1f} s; {concurrent} at once: {many:.1f} s (ratio {many / one:.2f})")
        jobs = visit_jobs(url, concurrent, f"sessions-{time.time():.0f}")
        seconds = visits_at_once(base, jobs)
        with Session(make_engine(url)) as session:
            tokens = [token for _, _, token in jobs]
            stored = session.scalars(
                select(HomeVisit.child_situation).where(HomeVisit.child_situation.in_(tokens))
            )
            once = sorted(stored) == sorted(tokens)
        log(
            f"  {len(jobs)} teachers saving a visit at once in their browsers: {seconds:.1f} s; each stored once: {once}"
        )
        before, peak, after, per_session = come_and_go(base, proc.pid, users(url, sessions))
        log(
            f"  {sessions} sessions came and went: server RSS {before / 2**20:.0f} MB before, "
            f"peak {peak / 2**20:.0f} MB, {after / 2**20:.0f} MB after (target < 1024 MB); "
            f"server CPU {per_session:.2f} s a session (sign-in and landing page)"
        )
        return peak < GIB and once


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrent", type=int, default=20)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--postgres")
    args = parser.parse_args()
    os.environ.setdefault("XUEJI_TODAY", "2026-11-23")
    with tempfile.TemporaryDirectory() as tmp:
        url = args.postgres or f"sqlite:///{args.db or Path(tmp) / 'x.db'}"
        build(url, args.copies)
        print("PostgreSQL:" if args.postgres else "SQLite:")
        ok = report(url, args.concurrent, args.sessions)
    print("target met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
