"""Jinja2 rendering: one environment, number filters, and the context every page shares."""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.routing import Match

from quantdesk.api.deps import Principal, Role
from quantdesk.api.security import CSRF_FIELD, csrf_token
from quantdesk.web.assets import PLOTLY_URL
from quantdesk.web.paging import page_link

TEMPLATES = Path(__file__).with_name("templates")
EVENTS_PATH = "/api/events"

NAVIGATION = (
    ("dashboard", "/", "Dashboard"),
    ("portfolios", "/portfolios", "Portfolios"),
    ("factors", "/factors", "Factors"),
    ("performance", "/performance", "Performance"),
    ("trades", "/trades", "Trades"),
    ("risk", "/risk", "Risk"),
    ("strategies", "/strategies", "Strategies"),
    ("backtests", "/backtests", "Backtests"),
    ("journal", "/journal", "Journal"),
    ("reports", "/reports", "Reports"),
    ("settings", "/settings", "Settings"),
)


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def money(value: Any, places: int = 2) -> str:
    """``1,234.56`` (currency, no symbol); "–" when missing."""
    number = value if isinstance(value, Decimal) else _finite(value)
    if number is None or (isinstance(number, Decimal) and not number.is_finite()):
        return "–"
    return f"{number:,.{places}f}"


def percent(value: Any, places: int = 2, signed: bool = False) -> str:
    """A fraction shown in percent (0.0123 → ``1.23 %``); "–" when missing."""
    number = _finite(value)
    if number is None:
        return "–"
    sign = "+" if signed else ""
    return f"{100 * number:{sign},.{places}f} %"


def number(value: Any, places: int = 2) -> str:
    figure = _finite(value)
    return "–" if figure is None else f"{figure:,.{places}f}"


def day(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return "–" if value is None else str(value)


def sign_class(value: Any) -> str:
    """``pos`` / ``neg`` for colouring a figure by its sign."""
    figure = _finite(value)
    if figure is None or figure == 0:
        return ""
    return "pos" if figure > 0 else "neg"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,  # a typo in a template fails its test, not silently blank
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(money=money, percent=percent, number=number, day=day, sign=sign_class)
    env.globals["link"] = page_link
    return env


def has_route(request: Request, path: str) -> bool:
    """Whether the app answers ``GET path`` (routers included lazily count too)."""
    scope = {"type": "http", "path": path, "method": "GET", "root_path": ""}
    return any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes)


def render(
    request: Request,
    principal: Principal,
    template: str,
    context: dict[str, Any],
    status_code: int = 200,
) -> HTMLResponse:
    """``template`` with ``context`` plus what the layout needs (navigation, principal, CSRF).

    Trading and admin controls are drawn only for principals allowed to use them (the routes
    behind them check the role again)."""
    role = principal.role
    shared = {
        "request": request,
        "navigation": NAVIGATION,
        "principal": principal,
        "can_trade": role.allows(Role.TRADER),
        "is_admin": role.allows(Role.ADMIN),
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token(request),
        "plotly_url": PLOTLY_URL,
        # live updates only when the API serves its event stream: a 404 would be a failed request
        "events_url": EVENTS_PATH if has_route(request, EVENTS_PATH) else "",
    }
    html = environment().get_template(template).render({**shared, **context})
    return HTMLResponse(html, status_code=status_code)
