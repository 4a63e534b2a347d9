"""``GET/POST /login`` and ``POST /logout``: the web pages' session cookie.

Login CSRF (an attacker's site logging the victim in as the attacker) is stopped by a
double-submit token: ``GET /login`` sets it in a cookie and in the form, and ``POST /login``
needs both to match. The password is checked by the auth service, which rate-limits failures
per username and per client address.
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from quantdesk.api.deps import WebServicesDep
from quantdesk.api.middleware import SESSION_COOKIE
from quantdesk.api.security import CsrfChecked
from quantdesk.services.auth import SESSION_LIFETIME, AuthenticationError, TooManyAttemptsError

LOGIN_COOKIE = "quantdesk_login"
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parents[1] / "templates"))
router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, web: WebServicesDep, next: str = "/") -> Response:
    return _page(request, web.secure_cookies, next=next)


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    web: WebServicesDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    login_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    request.state.audit_actor = username
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, login_token):
        return _page(
            request,
            web.secure_cookies,
            next=next,
            username=username,
            status=403,
            error="The login form expired; please try again.",
        )
    client = request.client.host if request.client else "unknown"
    try:
        session = await run_in_threadpool(web.auth.login, username, password, client)
    except TooManyAttemptsError as error:
        response = _page(
            request,
            web.secure_cookies,
            next=next,
            username=username,
            status=429,
            error="Too many failed logins; try again later.",
        )
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    except AuthenticationError:
        return _page(
            request,
            web.secure_cookies,
            next=next,
            username=username,
            status=401,
            error="Wrong username or password.",
        )
    response = RedirectResponse(_local_path(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session.cookie,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=_secure(request, web.secure_cookies),
    )
    response.delete_cookie(LOGIN_COOKIE)
    return response


@router.post("/logout")
async def logout(request: Request, web: WebServicesDep, _: CsrfChecked) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if cookie:
        await run_in_threadpool(web.auth.logout, cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def _page(
    request: Request,
    secure_cookies: bool,
    *,
    next: str,
    username: str = "",
    error: str = "",
    status: int = 200,
) -> Response:
    token = secrets.token_urlsafe(32)
    response = templates.TemplateResponse(
        request,
        "login.html",
        {"login_token": token, "next": _local_path(next), "username": username, "error": error},
        status_code=status,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=_secure(request, secure_cookies),
    )
    return response


def _local_path(target: str) -> str:
    """``target`` if it is a path on this site, else ``/`` (no open redirect)."""
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


def _secure(request: Request, configured: bool) -> bool:
    return configured or request.url.scheme == "https"
