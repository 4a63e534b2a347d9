"""Settings: what this server runs with, read-only where no service changes it yet.

Secrets (API keys, the database password) are never sent to the browser: a key shows as
"set" or "not set", the database URL with its password masked.
"""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from quantdesk.api.deps import Role, ServicesDep, Viewer, WebServicesDep
from quantdesk.config import redact_url
from quantdesk.web.rendering import render

router = APIRouter(include_in_schema=False)

SECRET_SETTINGS = ("alphavantage_api_key", "polygon_api_key")


@router.get("/settings", response_class=HTMLResponse)
def settings_page(
    request: Request, services: ServicesDep, web: WebServicesDep, principal: Viewer
) -> HTMLResponse:
    settings = services.settings
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
            "portfolios": services.trading.list_portfolios(),
            "system": system,
            "secrets": secrets,
            "costs": costs,
            "users": users,
            "tokens": tokens,
        },
    )
