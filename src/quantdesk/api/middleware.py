"""Authentication, cross-site protection, the audit trail and the last-resort error handler,
as one ASGI middleware around the whole app (pages and REST alike).

Policy: with no user configured every request is the local operator (admin); the server then
refuses to bind anything but the loopback interface (see ``quantdesk serve``). Once a user
exists every page and endpoint needs a session cookie or a bearer token, except the login
page and static assets.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import secrets
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from quantdesk.api.context import WebServices
from quantdesk.api.hosts import HostCheck
from quantdesk.api.problems import problem_response
from quantdesk.services.audit import outcome_of
from quantdesk.services.auth import LOCAL, AuthenticationError, Principal

log = logging.getLogger("quantdesk.api")

SESSION_COOKIE = "quantdesk_session"
LOCAL_CSRF_COOKIE = "quantdesk_csrf"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PUBLIC_PREFIXES = ("/login", "/static/", "/favicon.ico")


class AuthMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # reads being answered now, by cache key: concurrent identical reads wait for the first
        self._inflight: dict[tuple[str, str], asyncio.Future[None]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        web: WebServices = scope["app"].state.web
        state = scope.setdefault("state", {})
        status_box = {"status": 500, "started": False}
        extra_cookies: list[str] = []

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_box["status"] = message["status"]
                status_box["started"] = True
                if extra_cookies:
                    headers = list(message.get("headers", []))
                    headers += [(b"set-cookie", c.encode("latin-1")) for c in extra_cookies]
                    message = {**message, "headers": headers}
            await send(message)

        try:
            refusal = _control_characters(request) or await self._authenticate(
                request, web, state, extra_cookies
            )
            if refusal is not None:
                await refusal(scope, receive, send_wrapper)
            elif request.method == "GET" and web.cache.cacheable(request.url.path):
                await self._cached(scope, receive, send_wrapper, web, state)
            else:
                await self.app(scope, receive, send_wrapper)
        except Exception as error:
            log.error(
                "%s %s failed",
                request.method,
                request.url.path,
                exc_info=(type(error), error, error.__traceback__),
            )
            if status_box["started"]:
                raise
            response = problem_response(
                request,
                500,
                "internal error; the server log has the details",
                kind="internal-error",
            )
            await response(scope, receive, send_wrapper)
        finally:
            if request.method in UNSAFE_METHODS:
                status = int(status_box["status"])
                if status < 400:
                    web.cache.clear()  # what this call changed is visible to the next read
                await self._audit(scope, request, web, state, status)

    async def _cached(
        self, scope: Scope, receive: Receive, send: Send, web: WebServices, state: dict[str, Any]
    ) -> None:
        """Answer a GET from the read cache, or run it and keep a 200 answer for a second."""
        principal: Principal = state["principal"]
        key = (principal.role.value, f"{scope['path']}?{scope.get('query_string', b'').decode()}")
        hit = web.cache.get(key)
        if hit is None and key in self._inflight:
            # the same read is being answered: wait for it rather than compute it again
            await asyncio.shield(self._inflight[key])
            hit = web.cache.get(key)
        if hit is not None:
            await send(
                {"type": "http.response.start", "status": hit.status, "headers": hit.headers}
            )
            await send({"type": "http.response.body", "body": hit.body})
            return
        captured: dict[str, Any] = {"headers": [], "body": [], "status": 0}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"set-cookie"
                ]
            elif message["type"] == "http.response.body":
                captured["body"].append(message.get("body", b""))
            await send(message)

        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._inflight[key] = done
        try:
            await self.app(scope, receive, capture)
            web.cache.put(key, captured["status"], captured["headers"], b"".join(captured["body"]))
        finally:
            del self._inflight[key]
            done.set_result(None)

    async def _authenticate(
        self,
        request: Request,
        web: WebServices,
        state: dict[str, Any],
        extra_cookies: list[str],
    ) -> Response | None:
        """Attach the principal and CSRF token to the request state, or return the refusal."""
        path = request.url.path
        authorization = request.headers.get("authorization", "")
        if authorization:
            return await _bearer(request, web, state, authorization)
        cookie = request.cookies.get(SESSION_COOKIE, "")
        session = await run_in_threadpool(web.auth.resolve_session, cookie) if cookie else None
        misdirected: Response | None = None
        if session is not None:
            state["principal"] = session.principal
            state["csrf_token"] = session.csrf_token
        elif not await run_in_threadpool(web.auth.has_users):
            misdirected = _local_operator(request, web, state, extra_cookies)
        elif path.startswith(PUBLIC_PREFIXES):
            state["csrf_token"] = ""
            return None
        elif path.startswith("/api"):
            return _unauthorised(request, "authentication required: a bearer token or a login")
        else:
            return RedirectResponse(f"/login?next={quote(path, safe='/')}", status_code=303)
        if misdirected is not None or request.method not in UNSAFE_METHODS:
            return misdirected
        return _cross_site_refusal(request, state)

    async def _audit(
        self,
        scope: Scope,
        request: Request,
        web: WebServices,
        state: dict[str, Any],
        status: int,
    ) -> None:
        principal: Principal | None = state.get("principal")
        actor = str(state.get("audit_actor") or (principal.name if principal else "anonymous"))
        parameters = scope.get("path_params") or {}
        template = _template(request.url.path, parameters)
        target = ", ".join(f"{k}={v}" for k, v in parameters.items()) or template
        details = {"path": request.url.path[:300]}
        if principal is not None:
            details["via"] = principal.via
        try:
            await run_in_threadpool(
                web.audit.record,
                actor,
                f"{request.method} {template}",
                target,
                outcome_of(status),
                status,
                details,
            )
        except Exception:
            log.exception("could not write the audit row of %s %s", request.method, template)


def _local_operator(
    request: Request, web: WebServices, state: dict[str, Any], extra_cookies: list[str]
) -> Response | None:
    """No user is configured: the request is the local operator, if it is addressed to this
    local server (DNS rebinding: see :mod:`quantdesk.api.hosts`)."""
    if web.host_check is not None and not web.host_check.allows(request.headers.get("host", "")):
        return _misdirected(request, web.host_check)
    state["principal"] = LOCAL
    csrf = request.cookies.get(LOCAL_CSRF_COOKIE, "")
    if len(csrf) < 32:
        csrf = secrets.token_urlsafe(32)
        extra_cookies.append(_cookie(LOCAL_CSRF_COOKIE, csrf, web.secure_cookies))
    state["csrf_token"] = csrf
    return None


async def _bearer(
    request: Request, web: WebServices, state: dict[str, Any], authorization: str
) -> Response | None:
    """A bearer token carries no ambient credential: no CSRF check is needed."""
    scheme, _, credential = authorization.partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        return _unauthorised(request, "use 'Authorization: Bearer <token>'")
    try:
        principal = await run_in_threadpool(web.auth.authenticate_token, credential.strip())
    except AuthenticationError as error:
        return _unauthorised(request, str(error))
    state["principal"] = principal
    state["csrf_token"] = ""
    return None


def _cross_site_refusal(request: Request, state: dict[str, Any]) -> Response | None:
    """Refuse a state-changing request a browser sent on behalf of another site (the cookie
    and the local-operator mode are ambient credentials); REST calls with a session cookie
    must also echo the session's CSRF token in ``X-CSRF-Token``."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        return problem_response(request, 403, "cross-site request refused", kind="csrf")
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = request.headers.get("host", "")
        if urlsplit(origin).netloc != host:
            return problem_response(request, 403, "cross-origin request refused", kind="csrf")
    elif origin == "null":
        return problem_response(request, 403, "cross-origin request refused", kind="csrf")
    principal: Principal = state["principal"]
    if principal.via == "session" and request.url.path.startswith("/api"):
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent, str(state.get("csrf_token", ""))):
            return problem_response(
                request, 403, "missing or wrong X-CSRF-Token header", kind="csrf"
            )
    return None


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _control_characters(request: Request) -> Response | None:
    """Refuse control characters (NUL above all: PostgreSQL cannot store it) in the path or
    the query string, before any of it reaches a service."""
    raw_path = unquote(request.url.path)
    query = unquote(request.url.query)
    if _CONTROL.search(raw_path) or _CONTROL.search(query):
        return problem_response(request, 400, "control characters are not allowed in a URL")
    return None


def _template(path: str, parameters: dict[str, Any]) -> str:
    """The route of ``path`` with its parameters named (``/api/portfolios/{portfolio}``), so
    audit actions group by route whatever the values."""
    names = {str(value): name for name, value in parameters.items()}
    parts = [f"{{{names[part]}}}" if part in names else part for part in unquote(path).split("/")]
    return "/".join(parts)


def _misdirected(request: Request, check: HostCheck) -> Response:
    """Local mode answers its own names only (DNS rebinding: see :mod:`quantdesk.api.hosts`)."""
    return problem_response(
        request, 421, check.refusal(request.headers.get("host", "")), kind="host-not-allowed"
    )


def _unauthorised(request: Request, detail: str) -> Response:
    return problem_response(request, 401, detail, headers={"WWW-Authenticate": "Bearer"})


def _cookie(name: str, value: str, secure: bool, max_age: int | None = None) -> str:
    cookie: SimpleCookie = SimpleCookie()
    cookie[name] = value
    morsel = cookie[name]
    morsel["path"] = "/"
    morsel["httponly"] = True
    morsel["samesite"] = "Lax"
    if secure:
        morsel["secure"] = True
    if max_age is not None:
        morsel["max-age"] = max_age
    return morsel.OutputString()
