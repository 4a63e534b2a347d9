"""Bodies of the system routes."""

from __future__ import annotations

from pydantic import BaseModel

from quantdesk.services.auth import Role


class Health(BaseModel):
    status: str
    version: str


class Me(BaseModel):
    """The caller: ``via`` is local (no users configured), session or token."""

    name: str
    role: Role
    via: str
