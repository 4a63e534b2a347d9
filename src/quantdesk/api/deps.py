"""FastAPI dependencies shared by the REST routes and the web pages.

The services container and the authenticated principal live on the app and the request
(``app.state.services``, ``request.state.principal``); nothing here is global.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from quantdesk.services import Services


class Role(StrEnum):
    """What a principal may do. Each role includes the ones before it."""

    VIEWER = "viewer"
    TRADER = "trader"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user (by session cookie or API token), or the local operator when no
    user is configured and the app listens on the loopback interface only."""

    name: str
    role: Role
    via: str  # "local", "session" or "token"


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


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
