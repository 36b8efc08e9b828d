"""Past one machine: two `streamlit run` servers over one PostgreSQL database with the same cookie secret, and
nginx in front of them with the proxy settings the README ships (deploy/nginx/). The app keeps nothing of its
own outside the database, so a visit a teacher saves through one server is what a township official opens
through the other; through nginx a browser's session stays on one replica (ip_hash) over its websocket, and its
sign-in (a server-side session behind a cookie) holds on every replica."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import ROOT, _postgres_database, require
from tests.e2e.servers import chromium, demo_database, free_port, sign_in, sign_in_page, streamlit_server
from tests.factories import audit_entries
from xueji.db import session_scope
from xueji.models import HomeVisit

pytestmark = pytest.mark.e2e


SECRET = {"STREAMLIT_SERVER_COOKIE_SECRET": "the-same-secret-on-every-replica"}


@pytest.fixture(scope="module")
def two_servers():
    for url in _postgres_database():
        engine = demo_database(url)
        with streamlit_server(url, **SECRET) as (first, _), streamlit_server(url, **SECRET) as (second, _):
            yield first, second, engine


def save_due_visit(page, text: str) -> str:  # noqa: ANN001
    """On the teacher's 家访 page: one tap on the first due child, fill and save; the child's name."""
    page.get_by_role("heading", name="家访", exact=True).wait_for(timeout=30_000)
    page.get_by_role("button", name="家访", exact=True).first.click()
    heading = page.get_by_role("heading", name=re.compile("登记家访:"))
    heading.wait_for(timeout=30_000)
    label = heading.inner_text().split(":", 1)[1].strip()  # 姓名(班级,出生年月,…证件尾号)
    page.get_by_label("见到/联系上的人").fill("祖母")
    page.get_by_label("孩子情况").fill(text)
    page.get_by_role("button", name="保存家访记录").click()
    page.get_by_text(f"已保存 {label} 的家访记录").first.wait_for(timeout=30_000)  # the toast and the note
    return label.split("(", 1)[0]


def test_a_visit_saved_through_one_server_is_seen_through_the_other(two_servers):
    first, second, engine = two_servers
    assert first != second
    with chromium() as browser:
        page = sign_in(browser, first, "demo_teacher")
        name = save_due_visit(page, "经第一台服务器登记")
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


NGINX = """
{user}
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 256; }}
http {{
    log_format upstreams '$upstream_addr $status "$request"';
    access_log {tmp}/access.log upstreams;
    client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
    upstream xueji {{ ip_hash; server {first}; server {second}; }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 25m;
        location / {{ include {proxy}; }}
    }}
}}
"""


@pytest.fixture
def behind_nginx(two_servers):
    """nginx on a free port in front of both servers, with deploy/nginx/xueji-proxy.conf."""
    executable = shutil.which("nginx") or "/usr/sbin/nginx"
    require("nginx", Path(executable).exists(), "请安装 Debian 软件包 nginx(scripts/system-deps.sh)")
    first, second, engine = two_servers
    tmp = Path(tempfile.mkdtemp(prefix="xueji-nginx-"))
    port = free_port()
    config = tmp / "nginx.conf"
    config.write_text(
        NGINX.format(
            user="user root;" if os.geteuid() == 0 else "",
            tmp=tmp,
            port=port,
            first=first.removeprefix("http://"),
            second=second.removeprefix("http://"),
            proxy=ROOT / "deploy" / "nginx" / "xueji-proxy.conf",
        )
    )
    proc = subprocess.Popen(
        [executable, "-c", str(config), "-p", str(tmp)], stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 20
        while not (tmp / "nginx.pid").exists():
            assert proc.poll() is None and time.monotonic() < deadline, (
                proc.stderr.read() if proc.stderr else ""
            )
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", tmp / "access.log", engine
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        shutil.rmtree(tmp, ignore_errors=True)


def test_through_nginx_a_session_stays_on_one_replica_and_saves(behind_nginx):
    url, log, engine = behind_nginx
    with chromium() as browser:
        page = sign_in(browser, url, "demo_teacher")
        save_due_visit(page, "经 nginx 登记")
        page.close()
    with session_scope(engine) as session:
        visit = session.scalar(select(HomeVisit).where(HomeVisit.child_situation == "经 nginx 登记"))
        assert visit is not None and audit_entries(session, "home_visit", visit.id) == 1
    lines = [line.split(" ", 2) for line in log.read_text().splitlines()]
    assert any(
        "/_stcore/stream" in request and status == "101" for _, status, request in lines
    )  # the websocket
    assert (
        len({upstream for upstream, _, _ in lines if upstream != "-"}) == 1
    )  # sticky: one replica throughout


def test_through_nginx_a_sign_in_holds_on_every_replica_and_a_sign_out_on_one_ends_it_on_all(
    behind_nginx, two_servers
):
    """The session lives in the database, not in a replica: the cookie set through nginx opens the app on either
    replica straight away (as after a reconnection lands on the other one), and signing out on one replica sends
    a reload through nginx back to the sign-in page."""
    url, _, _ = behind_nginx
    first, second, _ = two_servers
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        page = context.new_page()
        sign_in_page(page, f"{url}/students", "demo_registrar")
        page.get_by_role("heading", name="学生名册").wait_for(timeout=30_000)
        for replica in (first, second):  # cookies belong to the host, whatever the port: the same browser
            page.goto(f"{replica}/students")
            page.get_by_role("heading", name="学生名册").wait_for(timeout=30_000)
            assert "/signin" not in page.url
        page.get_by_role("button", name="退出登录").click()
        page.get_by_role("link", name="重新登录").wait_for(timeout=30_000)
        page.goto(f"{url}/students")
        page.wait_for_url(re.compile(r"/signin\?next=/students$"), timeout=30_000)
        context.close()


SECURITY_HEADERS = {
    "x-frame-options": "DENY",
    "strict-transport-security": "max-age=31536000; includeSubDomains",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
}
RECORD_VIOLATIONS = """document.addEventListener('securitypolicyviolation',
    e => (window.__violations = window.__violations || []).push(e.violatedDirective + ' ' + e.blockedURI));"""


def test_through_nginx_every_response_has_the_security_headers_and_the_app_runs_under_its_policy(
    behind_nginx, two_servers
):
    """The headers of deploy/nginx/xueji-proxy.conf on the page, its scripts, fonts, media and the exported file;
    signing in, drawing the overview's charts, listing students and exporting them raise no policy violation;
    another site cannot frame the app (which it can, straight from a replica: the control)."""
    url, _, _ = behind_nginx
    replica = two_servers[0]
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1400}, locale="zh-CN")
        page.add_init_script(RECORD_VIOLATIONS)
        responses, console = [], []
        page.on("response", lambda response: responses.append(response))
        page.on("console", lambda message: console.append(message.text))
        sign_in_page(page, url, "demo_county")
        page.get_by_role("heading", name="县域概况").wait_for(timeout=30_000)
        page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
        page.get_by_role("link", name="学生名册").first.click()
        page.get_by_role("heading", name="学生名册").wait_for(timeout=30_000)
        table = page.locator('[data-testid="stDataFrame"]').first
        table.hover()
        toolbar = page.locator('[data-testid="stElementToolbar"]').first
        toolbar.get_by_role("button").first.wait_for(
            timeout=30_000
        )  # the toolbar is there (search, fullscreen)
        tools = [b.get_attribute("aria-label") or b.inner_text() for b in toolbar.get_by_role("button").all()]
        page.get_by_role("button", name=re.compile("导出筛选结果")).click()
        with page.expect_download(timeout=60_000) as download:
            page.get_by_role("button", name=re.compile("下载 学生名册")).click()
        assert download.value.suggested_filename.endswith(".xlsx")
        page.wait_for_timeout(1000)
        violations = page.evaluate("window.__violations || []")

        control = browser.new_page()
        control.set_content(f'<iframe src="{replica}" width="800" height="600"></iframe>')
        control.frames[1].get_by_role("button", name="登录").wait_for(timeout=30_000)
        framing = browser.new_page()
        framing.set_content(f'<iframe src="{url}" width="800" height="600"></iframe>')
        framed = framing.frames[1]
        # refused, the frame turns to Chromium's error page at once; otherwise the app has its 5 s to draw its form
        deadline = time.monotonic() + 5
        while not framed.url.startswith("chrome-error:") and time.monotonic() < deadline:
            framing.wait_for_timeout(100)
        framed_text = (
            "" if framed.url.startswith("chrome-error:") else framed.evaluate("document.body.innerText")
        )
    # a violation after a Streamlit upgrade: the console names what to allow (e.g. the new inline script's hash)
    assert violations == [], [m for m in console if "Content Security Policy" in m]
    assert tools and not [t for t in tools if "Download" in t or "下载" in t], (
        tools
    )  # client.disableDataExport
    kinds = {r.request.resource_type for r in responses}
    assert {"document", "script", "font"} <= kinds
    mine = [r for r in responses if r.url.startswith(url)]
    assert len(mine) > 10
    for response in mine:
        headers = response.headers
        assert {k: headers.get(k) for k in SECURITY_HEADERS} == SECURITY_HEADERS, response.url
        policy = headers["content-security-policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "'unsafe-eval'" not in policy and "script-src 'self' 'sha256-" in policy
    assert "登录" not in framed_text
