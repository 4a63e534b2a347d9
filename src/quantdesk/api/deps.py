"""FastAPI dependencies shared by the REST routes and the web pages.

The services container and the authenticated principal live on the app and the request
(``app.state.services``, ``request.state.principal``); nothing here is global. The app-level
services the HTTP interface adds (auth, audit, jobs, event bus) are on ``app.state.web``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from quantdesk.api.context import WebServices
from quantdesk.services import Services
from quantdesk.services.auth import Principal, Role

__all__ = [
    "Admin",
    "Principal",
    "PrincipalDep",
    "Role",
    "ServicesDep",
    "Trader",
    "Viewer",
    "WebServicesDep",
    "get_principal",
    "get_services",
    "require",
]


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_web_services(request: Request) -> WebServices:
    web: WebServices = request.app.state.web
    return web


WebServicesDep = Annotated[WebServices, Depends(get_web_services)]


def get_principal(request: Request) -> Principal:
    """The principal the authentication middleware attached to the request."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "authentication required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(role: Role):  # type: ignore[no-untyped-def]  # FastAPI dependency factory
    """A dependency that lets through principals holding at least ``role``."""

    def dependency(principal: PrincipalDep) -> Principal:
        if not principal.role.allows(role):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"this needs the {role.value} role ({principal.role})"
            )
        return principal

    return dependency


Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Trader = Annotated[Principal, Depends(require(Role.TRADER))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
