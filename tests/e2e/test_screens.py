"""Every role's every screen, read as its user reads it (issue 24): each demo account signs in, opens every page in
its sidebar, waits for the page to finish running, and nothing on it may read None, NaN or NaT, a raw code of the
app's vocabularies (county_officer, in_progress, login, county:1 …), Streamlit's own English (its widgets'
placeholders and hints, the uploader's texts) or a traceback. One server and one browser for all roles; a
screenshot of every page goes to artifacts/e2e/screens/<role>/<page>.png."""

from __future__ import annotations

import importlib
import pkgutil
import re
from enum import Enum
from urllib.parse import urlparse

import pytest
from sqlalchemy import select

from tests.conftest import DEMO_TODAY
from tests.e2e.servers import ARTIFACTS, READABLE, chromium, demo_database, sign_in_page, streamlit_server
from xueji.config import get_settings
from xueji.models import AppUser

pytestmark = pytest.mark.e2e

ROLES = (
    "demo_admin",
    "demo_county",
    "demo_registrar",
    "demo_teacher",
    "demo_township",
    "demo_coordinator",
    "demo_auditor",  # last: the log then holds the other roles' sign-ins and exports
)
DESKTOP = {"width": 1366, "height": 900}
WAIT = 60_000  # ms: a page's first run imports its modules on a slow shared machine
SHOTS = ARTIFACTS / "screens"

EMPTY = ("None", "NaN", "nan", "NaT", "<NA>", "null", "undefined")
STREAMLIT_ENGLISH = (
    "Choose an option",
    "Choose options",
    "Press Enter to submit form",
    "Press Enter to apply",
    "Press ⌘+Enter to submit form",
    "Drag and drop file here",
    "Drag and drop files here",
    "Browse files",
    "per file",
    "Upload",
    "No results",
    "No options to select",
    "empty",
    "Select a date",
    "This app has encountered an error",
    "Running...",
)
TRACEBACK = re.compile(r"Traceback|\b[A-Z][A-Za-z]*(?:Error|Exception)\b|File \"[^\"]+\", line \d+")
DATE_PLACEHOLDER = re.compile(r"\b(?:YYYY|yyyy)\s*[/-]\s*(?:MM|mm)\s*[/-]\s*(?:DD|dd)\b")
DECIMALS = re.compile(r"(?<![\d.])\d+\.\d*000(?![\d.])")  # 3.500000: a float printed as it is stored


def vocabulary() -> frozenset[str]:
    """Every stored code a user must never read: the values of the app's enums written in ASCII (role, status,
    action, outcome …) and the audit log's own codes (actions, outcomes, entity types, channels)."""
    import xueji.rules
    import xueji.services
    from xueji.audit import context
    from xueji.services.system import audit_log

    for package in (xueji.rules, xueji.services):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)
    codes: set[str] = set()
    stack: list[type[Enum]] = list(Enum.__subclasses__())
    while stack:
        kind = stack.pop()
        stack.extend(kind.__subclasses__())
        if kind.__module__.startswith("xueji."):
            codes.update(str(m.value) for m in kind if isinstance(m.value, str))
    codes.update(audit_log.ACTIONS, audit_log.OUTCOMES, audit_log.ENTITIES, context.CHANNEL_LABELS)
    return frozenset(c for c in codes if re.fullmatch(r"[a-z][a-z0-9_.]*", c))


ADDRESS = re.compile(r"https?://[^\s…]+")


def offences(texts: list[str], placeholders: list[str], codes: frozenset[str]) -> list[str]:
    """What on a page no user should read: each offending string once, with a little of its context."""
    found: dict[str, str] = {}

    def flag(what: str, where: str, start: int, end: int) -> None:
        found.setdefault(what, where[max(0, start - 20) : end + 20].replace("\n", " ⏎ "))

    whole = re.compile(
        r"(?<![A-Za-z0-9_])(" + "|".join(map(re.escape, sorted({*EMPTY, *codes}, key=len, reverse=True)))
        + r")(?![A-Za-z0-9_])"
    )  # fmt: skip
    english = re.compile("|".join(map(re.escape, STREAMLIT_ENGLISH)))
    # a web address is data the user typed or must type (a robot's webhook), not a code: oapi.dingtalk.com
    texts, placeholders = [ADDRESS.sub("", t) for t in texts], [ADDRESS.sub("", t) for t in placeholders]
    for text in [*texts, *placeholders]:
        for pattern in (whole, english, TRACEBACK):
            for m in pattern.finditer(text):
                flag(m.group(0), text, m.start(), m.end())
    joined = " ".join(texts)  # a date input draws yyyy, /, mm … as separate nodes
    for text, pattern in (
        (joined, DATE_PLACEHOLDER),
        (joined, DECIMALS),
        (" ".join(placeholders), DATE_PLACEHOLDER),
    ):
        for m in pattern.finditer(text):
            flag(m.group(0), text, m.start(), m.end())
    return [f"{what!r} in …{context}…" for what, context in found.items()]


def grid_cells(payload: bytes | str, seen: dict[str, bytes]) -> list[tuple[str, list[str], bool]]:
    """The tables a websocket message from the server draws: (column, cell texts, empty drawn as "None") for each
    column of each st.dataframe / st.data_editor. The grid paints its cells on a canvas, out of the page's text:
    what it will paint is read from the message (cells scrolled out of view included)."""
    import pyarrow as pa
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    if isinstance(payload, str):
        return []
    msg = ForwardMsg()
    msg.ParseFromString(payload)
    if msg.WhichOneof("type") == "ref_hash":  # the browser has this message cached: the server sent its hash
        if msg.ref_hash not in seen:
            return []
        msg.ParseFromString(seen[msg.ref_hash])
    elif msg.metadata.cacheable or msg.hash:
        seen[msg.hash] = payload
    if msg.WhichOneof("type") != "delta" or msg.delta.WhichOneof("type") != "new_element":
        return []
    element = msg.delta.new_element
    if element.WhichOneof("type") != "dataframe":
        return []
    proto = element.dataframe
    arrow = proto.arrow_data
    table = pa.ipc.open_stream(arrow.data).read_all()
    shown = arrow.styler.display_values and pa.ipc.open_stream(arrow.styler.display_values).read_all()
    if table.num_rows == 0:
        return [("(表格)", ["empty"], False)]
    columns = []
    for name in table.column_names:
        if name.startswith("__index_level_"):
            continue
        column = (shown if shown and name in shown.column_names else table).column(name)
        columns.append(
            (
                name,
                [str(v) for v in column.to_pylist() if v is not None],
                bool(table.column(name).null_count and not proto.placeholder),
            )
        )
    return columns


# The text a user can read on the page: every text node outside <style>/<script> and icons (a table's cells come
# from the server's messages: see grid_cells), and every input's placeholder.
# Finished: no run in progress, no element left over from the previous page's run.
IDLE = """() => !document.querySelector(
  '[data-testid=stStatusWidgetRunningIcon], [data-testid=stStatusWidgetRunningManIcon], [data-stale=true]'
)"""


def settle(page) -> None:  # noqa: ANN001
    """Wait until the page's script has run to its end and stayed idle for a moment (a rerun it triggers itself,
    or a table drawn late, counts as still running)."""
    quiet = 0
    while quiet < 2:
        page.wait_for_function(IDLE, timeout=WAIT, polling=100)
        page.wait_for_timeout(200)
        quiet = quiet + 1 if page.evaluate(IDLE) else 0


def shot(page, path) -> None:  # noqa: ANN001
    """The whole page: the app scrolls inside its main area, so the viewport grows to the page's height."""
    path.parent.mkdir(parents=True, exist_ok=True)
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], [data-testid=stSidebarContent]')]"
        ".map(e => e.scrollHeight))"
    )
    page.set_viewport_size({**DESKTOP, "height": min(max(height, DESKTOP["height"]), 8000)})
    page.wait_for_timeout(300)
    page.screenshot(path=str(path))
    page.set_viewport_size(DESKTOP)


@pytest.fixture(scope="module")
def app(tmp_path_factory):  # noqa: ANN001, ANN201
    url = f"sqlite:///{tmp_path_factory.mktemp('screens') / 'app.db'}"
    # built on the demo's day, as the server runs it (no case opened after the server's today)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("XUEJI_TODAY", DEMO_TODAY)
        get_settings.cache_clear()
        engine = demo_database(url)
    get_settings.cache_clear()
    with engine.connect() as conn:  # an account's name is what it is (the command line's is "system")
        usernames = frozenset(conn.scalars(select(AppUser.username)))
    engine.dispose()
    with streamlit_server(url) as (base, _), chromium() as browser:
        yield base, browser, usernames


@pytest.fixture(scope="module")
def codes() -> frozenset[str]:
    return vocabulary()


@pytest.mark.parametrize("username", ROLES)
def test_every_page_reads_in_chinese(app, codes, username):  # noqa: ANN001
    base, browser, usernames = app
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    cached: dict[str, bytes] = {}
    grids: list[tuple[str, list[str], bool]] = []

    def listen(socket) -> None:  # noqa: ANN001
        socket.on("framereceived", lambda payload: grids.extend(grid_cells(payload, cached)))

    try:
        page = context.new_page()
        page.on("websocket", listen)
        page = sign_in_page(page, base, username)
        page.get_by_role("button", name="退出登录").wait_for(state="attached", timeout=WAIT)
        settle(page)
        links = page.locator("[data-testid=stSidebarNav] a[data-testid=stSidebarNavLink]")
        menu = [
            (links.nth(i).inner_text().strip().splitlines()[-1], links.nth(i).get_attribute("href"))
            for i in range(links.count())
        ]  # the text after the icon's name
        assert len(menu) >= 2, menu  # an auditor has two pages: 审计日志 and 修改密码
        problems: list[str] = []
        tables = 0
        for i, (title, href) in enumerate(menu):
            path = urlparse(href).path
            grids.clear()
            links.nth(i).click()
            page.wait_for_url(lambda url, path=path: urlparse(url).path == path, timeout=WAIT)
            name = path.strip("/") or "home"
            settle(page)
            shot(page, SHOTS / username / f"{name}.png")
            read = page.evaluate(READABLE)
            tables += len(grids)
            cells = [
                f"{column}:{value}"
                for column, values, _ in grids
                for value in sorted(set(values) - usernames)
            ]
            texts = [t for t in read["texts"] if t not in usernames]  # the grid's cells in view are text too
            found = offences(texts, [*read["placeholders"], *cells], codes)
            found += [f"表格列“{column}”的空单元格显示为 None" for column, _, bare in grids if bare]
            problems += [f"{username} · {title}: {o}" for o in dict.fromkeys(found)]
        assert tables, "no table's cells were read: the check of the grids would pass whatever they hold"
        assert not problems, "\n".join(problems)
    finally:
        context.close()
