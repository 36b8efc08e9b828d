"""The sign-in routes and the gate in front of the app.

GET /signin shows the page; POST /signin checks the account (accounts.authenticate: counted, locked, audited),
opens a server-side session and sets its token in an HttpOnly, SameSite=Lax cookie (Secure over HTTPS), then sends
the browser on to the page it asked for. The gate sends a browser without a live session from any page of the app
to /signin, remembering the page. Streamlit's own routes (/_stcore/, /static/, /media/, /component/) pass by.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import wraps
from html import escape
from ipaddress import ip_address
from urllib.parse import parse_qs, quote, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from xueji.audit import context as audit_context
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.services.system import accounts, deployment, web_sessions
from xueji.ui.errors import UNEXPECTED, log_unexpected
from xueji.ui.health import database_problem
from xueji.web.signin_page import render

PATH = "/signin"
MAX_FORM_BYTES = 4096
NO_STORE = {"Cache-Control": "no-store"}
PASSING = ("/_stcore/", "/static/", "/media/", "/component/", "/app/static/")
Handler = Callable[[Request], Awaitable[Response]]
WRONG_SITE = "登录请求不是从本系统的登录页发出的,已拒绝。请打开本系统的登录页重新登录。"


def safe_next(value: str | None) -> str:
    """A page of this app to go on to after signing in: a local path, never another site."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")) or len(value) > 500:
        return "/"
    if any(ord(c) < 32 for c in value) or urlsplit(value).netloc or value.startswith(PATH):
        return "/"
    return value


def _rules() -> list[str]:
    settings = get_settings()
    return [
        "账号仅限本人使用,不得转借;系统记录每一次操作。",
        f"连续输错密码 {settings.max_failed_logins} 次,账号锁定 {settings.lockout_minutes} 分钟。"
        f"一次性密码 {settings.one_time_password_hours} 小时内有效;忘记密码或一次性密码过期,请联系系统管理员。",
        f"超过 {settings.idle_timeout_minutes} 分钟未操作或登录满 {settings.session_limit_hours} 小时,"
        "需要重新登录;刷新页面、切换应用后回来不必重新登录。",
    ]


def _page(*, next_path: str, error: str | None = None, username: str = "") -> str:
    from xueji.demo.build import DEMO_ACCOUNTS, DEMO_PASSWORD
    from xueji.demo.city import city_accounts

    with session_scope() as session:
        demo = deployment.holds_demo(session)
        city = city_accounts(session) if demo else []  # the demo city's (xueji demo --city)
    shown = (DEMO_PASSWORD, [(a[0], a[1], a[2].label) for a in DEMO_ACCOUNTS] + city) if demo else None
    return render(next_path=next_path, rules=_rules(), error=error, username=username, demo=shown)


def _is_live(token: str | None) -> bool:
    if not token:
        return False
    with session_scope() as session:
        return web_sessions.is_live(session, token=token)


def _sign_out(token: str) -> None:
    with session_scope() as session:
        web_sessions.end(session, token=token, reason="重新登录")


def _expire(token: str) -> None:
    with session_scope() as session:
        web_sessions.expire(session, token=token)


def _client(request: Request) -> str | None:
    peer = request.client.host if request.client else None
    forwarded = request.headers.getlist("x-forwarded-for")
    return audit_context.client_address(peer, forwarded, get_settings().trusted_proxies)


def _secure(request: Request) -> bool:
    mode = get_settings().cookie_secure
    if mode != "auto":
        return mode == "always"
    if request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https":
        return True
    host = (request.url.hostname or "").strip("[]")
    try:
        return host == "localhost" or ip_address(host).is_loopback
    except ValueError:
        return False


def _same_site(request: Request) -> bool:
    """A sign-in posted by this app's own page (another site cannot sign a browser in to an account of its
    choosing): the browser says so in Sec-Fetch-Site; an older browser's Origin (or Referer) names this host."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        return False
    host = urlsplit(
        f"//{request.headers.get('host', '')}"
    ).hostname  # a proxy may pass the name without the port
    return host is not None and urlsplit(source).hostname == host


def open_signed_session(username: str, password: str, client: str | None) -> str | tuple[str, bool]:
    """Check the account and open its session: (token, must change password), or the Chinese reason."""
    with audit_context.use(audit_context.Origin(audit_context.WEB, client)), session_scope() as session:
        try:
            signed = accounts.authenticate(session, username=username, password=password)
        except accounts.LoginFailed as exc:
            return str(exc)
        assert signed.actor.user_id is not None  # an account signed in, never the command line's system actor
        token = web_sessions.open_session(session, user_id=signed.actor.user_id, client_addr=client)
    return token, signed.must_change_password


def _unexpected(handler: Handler) -> Handler:
    """A route that fails shows the app's Chinese message with a reference number; the traceback goes to the log."""

    @wraps(handler)
    async def guarded(request: Request) -> Response:
        try:
            return await handler(request)
        except Exception as exc:
            reference = log_unexpected(exc)
            text = database_problem(get_settings().database_url) or UNEXPECTED.format(reference=reference)
            return HTMLResponse(escape(text), status_code=500, headers=NO_STORE)

    return guarded


@_unexpected
async def signin_form(request: Request) -> Response:
    next_path = safe_next(request.query_params.get("next"))
    token = request.cookies.get(web_sessions.COOKIE)
    if await run_in_threadpool(_is_live, token):
        return RedirectResponse(next_path, status_code=303, headers=NO_STORE)
    if token:  # a session over with no tab open to notice: ended and audited now
        await run_in_threadpool(_expire, token)
    response = HTMLResponse(await run_in_threadpool(_page, next_path=next_path), headers=NO_STORE)
    if token:
        response.delete_cookie(web_sessions.COOKIE, path="/")  # an ended session's token: nothing to keep
    return response


async def _form(request: Request) -> dict[str, str] | None:
    declared = request.headers.get("content-length")
    if declared is None or not declared.isdigit() or int(declared) > MAX_FORM_BYTES:
        return None
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return None
    try:
        fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=8)
    except ValueError:  # more fields than the form has
        return None
    return {name: values[0] for name, values in fields.items() if values}


@_unexpected
async def signin(request: Request) -> Response:
    if not _same_site(request):
        return HTMLResponse(WRONG_SITE, status_code=403, headers=NO_STORE)
    form = await _form(request)
    if form is None:
        return HTMLResponse("登录请求过大或格式不对,已拒绝。", status_code=400, headers=NO_STORE)
    next_path = safe_next(form.get("next"))
    username = form.get("username", "")[:50]
    result = await run_in_threadpool(
        open_signed_session, username, form.get("password", ""), _client(request)
    )
    if isinstance(result, str):
        page = await run_in_threadpool(_page, next_path=next_path, error=result, username=username)
        return HTMLResponse(page, status_code=200, headers=NO_STORE)
    token, _ = result  # a forced password change is the only page the app then offers
    if earlier := request.cookies.get(
        web_sessions.COOKIE
    ):  # signed in again over a live session: end that one
        await run_in_threadpool(_sign_out, earlier)
    response = RedirectResponse(next_path, status_code=303, headers=NO_STORE)
    response.set_cookie(
        web_sessions.COOKIE,
        token,
        max_age=get_settings().session_limit_hours * 3600,
        path="/",
        secure=_secure(request),
        httponly=True,
        samesite="lax",
    )
    return response


def routes() -> Sequence[BaseRoute]:
    return [Route(PATH, signin_form, methods=["GET", "HEAD"]), Route(PATH, signin, methods=["POST"])]


class SignInGate:
    """Send a page load without a live session to /signin?next=<the page>; everything else passes. The gate is a
    convenience, not the lock: the app checks the session on every run, so when the check here fails (the
    database down) the request goes on to the app, which says what is wrong in Chinese."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @staticmethod
    async def _live(request: Request) -> bool:
        try:
            return await run_in_threadpool(_is_live, request.cookies.get(web_sessions.COOKIE))
        except Exception as exc:
            log_unexpected(exc)
            return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            path: str = scope["path"]
            if not path.startswith(PASSING) and path != PATH and "." not in path.rsplit("/", 1)[-1]:
                request = Request(scope)
                if "text/html" in request.headers.get("accept", "") and not await self._live(request):
                    query = scope.get("query_string", b"").decode(
                        "latin-1"
                    )  # a page's own ?child=… comes back too
                    back = f"{path}?{query}" if query else path
                    await RedirectResponse(signin_url(back), status_code=303, headers=NO_STORE)(
                        scope, receive, send
                    )
                    return
        await self.app(scope, receive, send)


def signin_url(next_path: str = "/") -> str:
    """Where the app sends a signed-out user: the sign-in page, back to this page afterwards."""
    return f"{PATH}?next={quote(safe_next(next_path), safe='/')}"
