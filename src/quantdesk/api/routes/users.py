"""``/api/users``, ``/api/tokens`` and ``/api/audit``: access management, admins only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from quantdesk.api.deps import Admin, WebServicesDep
from quantdesk.api.schemas.admin import (
    AuditEntry,
    IssuedToken,
    Token,
    TokenCreate,
    User,
    UserCreate,
)
from quantdesk.api.schemas.common import Page, Pagination
from quantdesk.services.auth import TokenView

router = APIRouter(tags=["access"])
Username = Annotated[str, Path(min_length=1, max_length=64)]


def _token(view: TokenView) -> Token:
    return Token(
        id=view.id,
        username=view.username,
        name=view.name,
        created_at=view.created_at,
        revoked_at=view.revoked_at,
    )


@router.get("/users")
def list_users(web: WebServicesDep, _: Admin) -> list[User]:
    return [
        User(username=u.username, role=u.role, created_at=u.created_at)
        for u in web.auth.list_users()
    ]


@router.post("/users", status_code=status.HTTP_201_CREATED)
def add_user(body: UserCreate, web: WebServicesDep, _: Admin) -> User:
    user = web.auth.add_user(body.username, body.password.get_secret_value(), body.role)
    return User(username=user.username, role=user.role, created_at=user.created_at)


@router.delete("/users/{username}", status_code=status.HTTP_204_NO_CONTENT)
def remove_user(username: Username, web: WebServicesDep, _: Admin) -> None:
    web.auth.remove_user(username)


@router.get("/users/{username}/tokens")
def list_tokens(username: Username, web: WebServicesDep, _: Admin) -> list[Token]:
    return [_token(t) for t in web.auth.list_tokens(username)]


@router.post("/users/{username}/tokens", status_code=status.HTTP_201_CREATED)
def create_token(
    username: Username, body: TokenCreate, web: WebServicesDep, _: Admin
) -> IssuedToken:
    issued = web.auth.create_token(username, body.name)
    return IssuedToken(token=_token(issued.token), secret=issued.secret)


@router.delete("/tokens/{token_id}")
def revoke_token(
    token_id: Annotated[str, Path(min_length=1, max_length=32)], web: WebServicesDep, _: Admin
) -> Token:
    return _token(web.auth.revoke_token(token_id))


@router.get("/audit")
def audit(web: WebServicesDep, _: Admin, page: Pagination) -> Page[AuditEntry]:
    """The audit log, newest first."""
    entries = web.audit.entries(limit=page.limit, offset=page.offset)
    return Page[AuditEntry](
        items=[
            AuditEntry(
                id=e.id,
                at=e.at,
                actor=e.actor,
                action=e.action,
                target=e.target,
                details=e.details,
                outcome=e.outcome,
                status=e.status,
            )
            for e in entries
        ],
        total=web.audit.count(),
        limit=page.limit,
        offset=page.offset,
    )
