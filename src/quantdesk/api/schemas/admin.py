"""Bodies of the user, token and audit routes (admins only). Never a password, a hash or a
stored token: a new token's secret is in the one response that creates it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from quantdesk.services.audit import Outcome
from quantdesk.services.auth import Role


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: SecretStr = Field(min_length=8, max_length=1024)
    role: Role = Role.VIEWER


class User(BaseModel):
    username: str
    role: Role
    created_at: datetime


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field("", max_length=64)


class Token(BaseModel):
    id: str
    username: str
    name: str
    created_at: datetime
    revoked_at: datetime | None


class IssuedToken(BaseModel):
    """``secret`` is the whole token: shown this once, never stored."""

    token: Token
    secret: str


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    details: dict[str, str]
    outcome: Outcome
    status: int
