"""Stored alerts. Every function takes an open :class:`~sqlalchemy.Connection`; the caller
owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.sql import Select

from quantdesk.db.repositories._utc import utc
from quantdesk.db.tables import Alert, Portfolio


@dataclass(frozen=True, slots=True)
class StoredAlert:
    id: int
    portfolio: str | None
    kind: str
    severity: str
    message: str
    key: str
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None


def open_alert_id(connection: Connection, key: str) -> int | None:
    """The id of the open (unacknowledged) alert with ``key``, if any."""
    found = connection.execute(
        select(Alert.id).where(Alert.key == key, Alert.acknowledged_at.is_(None)).limit(1)
    ).scalar()
    return None if found is None else int(found)


def insert_alert(
    connection: Connection,
    *,
    portfolio_id: int | None,
    kind: str,
    severity: str,
    message: str,
    key: str,
    at: datetime,
) -> int:
    result = connection.execute(
        insert(Alert).returning(Alert.id),
        [
            {
                "portfolio_id": portfolio_id,
                "kind": kind,
                "severity": severity,
                "message": message,
                "key": key,
                "created_at": utc(at),
            }
        ],
    )
    return int(result.scalar_one())


def acknowledge(connection: Connection, alert_id: int, at: datetime, actor: str) -> None:
    """Mark the alert acknowledged (an acknowledged one keeps its first acknowledgement)."""
    connection.execute(
        update(Alert)
        .where(Alert.id == alert_id, Alert.acknowledged_at.is_(None))
        .values(acknowledged_at=utc(at), acknowledged_by=actor)
    )


def get_alert(connection: Connection, alert_id: int) -> StoredAlert | None:
    row = connection.execute(_select().where(Alert.id == alert_id)).first()
    return None if row is None else _stored(row)


def list_alerts(
    connection: Connection,
    *,
    portfolio_id: int | None,
    acknowledged: bool | None,
    limit: int,
    offset: int,
) -> tuple[int, list[StoredAlert]]:
    """``(total, page)`` newest first; ``acknowledged`` None: both."""
    conditions = []
    if portfolio_id is not None:
        conditions.append(Alert.portfolio_id == portfolio_id)
    if acknowledged is not None:
        conditions.append(
            Alert.acknowledged_at.is_not(None) if acknowledged else Alert.acknowledged_at.is_(None)
        )
    total = connection.execute(
        select(func.count()).select_from(Alert).where(*conditions)
    ).scalar_one()
    rows = connection.execute(
        _select().where(*conditions).order_by(Alert.id.desc()).limit(limit).offset(offset)
    ).all()
    return int(total), [_stored(r) for r in rows]


def _select() -> Select[tuple[object, ...]]:
    return select(  # type: ignore[return-value]
        Alert.id,
        Portfolio.name.label("portfolio"),
        Alert.kind,
        Alert.severity,
        Alert.message,
        Alert.key,
        Alert.created_at,
        Alert.acknowledged_at,
        Alert.acknowledged_by,
    ).outerjoin(Portfolio, Portfolio.id == Alert.portfolio_id)


def _stored(row: object) -> StoredAlert:
    return StoredAlert(
        id=int(row.id),  # type: ignore[attr-defined]
        portfolio=row.portfolio,  # type: ignore[attr-defined]
        kind=str(row.kind),  # type: ignore[attr-defined]
        severity=str(row.severity),  # type: ignore[attr-defined]
        message=str(row.message),  # type: ignore[attr-defined]
        key=str(row.key),  # type: ignore[attr-defined]
        created_at=utc(row.created_at),  # type: ignore[attr-defined]
        acknowledged_at=utc(row.acknowledged_at),  # type: ignore[attr-defined]
        acknowledged_by=row.acknowledged_by,  # type: ignore[attr-defined]
    )
