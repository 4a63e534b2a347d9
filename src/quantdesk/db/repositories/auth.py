"""Stored users, API tokens, login sessions and audit rows. Secrets are stored only hashed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from quantdesk.db.repositories._utc import utc
from quantdesk.db.tables import ApiToken, AuditEntry, User, UserSession


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    username: str
    password_hash: str
    role: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TokenRecord:
    id: str
    user_id: int
    username: str
    role: str
    name: str
    token_hash: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: str
    user_id: int
    username: str
    role: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    details: dict[str, object]
    outcome: str
    status: int


# -- users --------------------------------------------------------------------------------------
def any_user(connection: Connection) -> bool:
    return connection.execute(select(User.id).limit(1)).first() is not None


def get_user(connection: Connection, username: str) -> UserRecord | None:
    row = connection.execute(select(User).where(User.username == username)).mappings().first()
    return None if row is None else _user(row)


def list_users(connection: Connection) -> list[UserRecord]:
    rows = connection.execute(select(User).order_by(User.username)).mappings()
    return [_user(row) for row in rows]


def insert_user(
    connection: Connection, username: str, password_hash: str, role: str, at: datetime
) -> UserRecord:
    new_id = connection.execute(
        insert(User).returning(User.id),
        [
            {
                "username": username,
                "password_hash": password_hash,
                "role": role,
                "created_at": utc(at),
            }
        ],
    ).scalar_one()
    return UserRecord(new_id, username, password_hash, role, utc(at))


def delete_user(connection: Connection, user_id: int) -> None:
    # explicit, so SQLite without enforced cascades and PostgreSQL end the same
    connection.execute(delete(UserSession).where(UserSession.user_id == user_id))
    connection.execute(delete(ApiToken).where(ApiToken.user_id == user_id))
    connection.execute(delete(User).where(User.id == user_id))


def _user(row: object) -> UserRecord:
    values = dict(row)  # type: ignore[call-overload]
    return UserRecord(
        id=values["id"],
        username=values["username"],
        password_hash=values["password_hash"],
        role=values["role"],
        created_at=utc(values["created_at"]),
    )


# -- API tokens ---------------------------------------------------------------------------------
def insert_token(
    connection: Connection, token_id: str, user_id: int, name: str, token_hash: str, at: datetime
) -> None:
    connection.execute(
        insert(ApiToken),
        [
            {
                "id": token_id,
                "user_id": user_id,
                "name": name,
                "token_hash": token_hash,
                "created_at": utc(at),
                "revoked_at": None,
            }
        ],
    )


def get_token(connection: Connection, token_id: str) -> TokenRecord | None:
    row = connection.execute(
        select(*_TOKEN_COLUMNS)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.id == token_id)
    ).first()
    return None if row is None else _token(row)


def list_tokens(connection: Connection, username: str | None = None) -> list[TokenRecord]:
    query = (
        select(*_TOKEN_COLUMNS)
        .join(User, User.id == ApiToken.user_id)
        .order_by(ApiToken.created_at, ApiToken.id)
    )
    if username is not None:
        query = query.where(User.username == username)
    return [_token(row) for row in connection.execute(query)]


def revoke_token(connection: Connection, token_id: str, at: datetime) -> bool:
    result = connection.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utc(at))
    )
    return bool(result.rowcount)


_TOKEN_COLUMNS = (
    ApiToken.id,
    ApiToken.user_id,
    User.username,
    User.role,
    ApiToken.name,
    ApiToken.token_hash,
    ApiToken.created_at,
    ApiToken.revoked_at,
)


def _token(row: Any) -> TokenRecord:  # a Row of _TOKEN_COLUMNS
    return TokenRecord(
        id=str(row.id),
        user_id=int(row.user_id),
        username=str(row.username),
        role=str(row.role),
        name=str(row.name),
        token_hash=str(row.token_hash),
        created_at=utc(row.created_at),
        revoked_at=utc(row.revoked_at),
    )


# -- sessions -----------------------------------------------------------------------------------
def insert_session(
    connection: Connection,
    session_id: str,
    user_id: int,
    csrf_token: str,
    at: datetime,
    expires_at: datetime,
) -> None:
    connection.execute(
        insert(UserSession),
        [
            {
                "id": session_id,
                "user_id": user_id,
                "csrf_token": csrf_token,
                "created_at": utc(at),
                "expires_at": utc(expires_at),
            }
        ],
    )


def get_session(connection: Connection, session_id: str) -> SessionRecord | None:
    row = connection.execute(
        select(
            UserSession.id,
            UserSession.user_id,
            User.username,
            User.role,
            UserSession.csrf_token,
            UserSession.expires_at,
        )
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.id == session_id)
    ).first()
    if row is None:
        return None
    return SessionRecord(row[0], row[1], row[2], row[3], row[4], utc(row[5]))


def delete_session(connection: Connection, session_id: str) -> None:
    connection.execute(delete(UserSession).where(UserSession.id == session_id))


def delete_expired_sessions(connection: Connection, now: datetime) -> int:
    result = connection.execute(delete(UserSession).where(UserSession.expires_at < utc(now)))
    return int(result.rowcount or 0)


# -- audit --------------------------------------------------------------------------------------
def insert_audit(
    connection: Connection,
    at: datetime,
    actor: str,
    action: str,
    target: str,
    details: dict[str, object],
    outcome: str,
    status: int,
) -> None:
    connection.execute(
        insert(AuditEntry),
        [
            {
                "at": utc(at),
                "actor": actor[:64],
                "action": action[:200],
                "target": target[:500],
                "details": details,
                "outcome": outcome,
                "status": status,
            }
        ],
    )


def list_audit(connection: Connection, limit: int, offset: int) -> list[AuditRecord]:
    rows = connection.execute(
        select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    ).mappings()
    return [
        AuditRecord(
            id=row["id"],
            at=utc(row["at"]),
            actor=row["actor"],
            action=row["action"],
            target=row["target"],
            details=dict(row["details"] or {}),
            outcome=row["outcome"],
            status=row["status"],
        )
        for row in rows
    ]


def count_audit(connection: Connection) -> int:
    return int(connection.execute(select(func.count()).select_from(AuditEntry)).scalar_one())
