"""Settings: what this server runs with, and each portfolio's risk parameters and schedule
(admins change them here or with ``PUT /api/portfolios/{name}/settings``).

Secrets (API keys, the database password) are never sent to the browser: a key shows as
"set" or "not set", the database URL with its password masked.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal, InvalidOperation
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from quantdesk.api.deps import Admin, Role, ServicesDep, Viewer, WebServicesDep
from quantdesk.api.security import CsrfChecked
from quantdesk.config import redact_url
from quantdesk.core.errors import InvalidRequestError
from quantdesk.services.portfolio_settings import SettingsUpdate, parse_decision_time
from quantdesk.web.pages.common import USER_ERRORS, select_portfolio
from quantdesk.web.rendering import render

router = APIRouter(include_in_schema=False)

SECRET_SETTINGS = ("alphavantage_api_key", "polygon_api_key")


@router.get("/settings", response_class=HTMLResponse)
def settings_page(
    request: Request,
    services: ServicesDep,
    web: WebServicesDep,
    principal: Viewer,
    portfolio: str | None = None,
    notice: str | None = None,
    error: str | None = None,
) -> HTMLResponse:
    settings = services.settings
    selection = select_portfolio(services, portfolio)
    risk = None
    if selection.selected is not None:
        risk = services.portfolio_settings.get(selection.selected.name)
    system = [
        ("data folder", str(settings.data_dir)),
        ("database", redact_url(settings.resolved_database_url)),
        ("log level", settings.log_level),
        ("JSON logs", "on" if settings.log_json else "off"),
        ("remote data cache", f"{settings.cache_ttl_seconds} s"),
    ]
    secrets = [
        (name.replace("_", " "), "set (hidden)" if getattr(settings, name) else "not set")
        for name in SECRET_SETTINGS
    ]
    costs = [
        (field.name.replace("_", " "), getattr(services.trading.costs, field.name))
        for field in dataclasses.fields(services.trading.costs)
    ]
    admin = principal.role.allows(Role.ADMIN)
    # users and tokens for admins only; a token shows its public id, never its secret
    users = web.auth.list_users() if admin else []
    tokens = web.auth.list_tokens() if admin else []
    return render(
        request,
        principal,
        "settings.html",
        {
            "title": "Settings",
            "active": "settings",
            "portfolios": selection.portfolios,
            "selection": selection,
            "risk": risk,
            "notice": notice,
            "error": error,
            "system": system,
            "secrets": secrets,
            "costs": costs,
            "users": users,
            "tokens": tokens,
        },
    )


@router.post("/settings/portfolios/{name}")
def save_portfolio_settings(
    services: ServicesDep,
    principal: Admin,
    _: CsrfChecked,
    name: str,
    drift_threshold_percent: Annotated[str, Form()] = "",
    min_trade_value: Annotated[str, Form()] = "",
    decision_time: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """The risk and schedule form: empty fields go back to their defaults; a bad value comes
    back as one line naming its field, and nothing is saved."""
    query = {"portfolio": name}
    try:
        update = SettingsUpdate(
            drift_threshold=_percent(drift_threshold_percent),
            min_trade_value=_amount(min_trade_value),
            decision_time=parse_decision_time(decision_time) if decision_time.strip() else None,
        )
        services.portfolio_settings.put(name, update)
    except USER_ERRORS as failure:
        query["error"] = str(failure)
    else:
        query["notice"] = f"risk parameters and schedule of {name} saved"
    return RedirectResponse("/settings?" + urlencode(query), status_code=303)


def _percent(text: str) -> float | None:
    """The form's percent of equity as a fraction (``5`` → 0.05); empty: the default."""
    if not text.strip():
        return None
    try:
        return float(text) / 100
    except ValueError:
        raise InvalidRequestError(
            f"drift_threshold: {text!r} is not a percent of equity (e.g. 5 for 5 %)"
        ) from None


def _amount(text: str) -> Decimal | None:
    if not text.strip():
        return None
    try:
        return Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise InvalidRequestError(f"min_trade_value: {text!r} is not an amount") from None
