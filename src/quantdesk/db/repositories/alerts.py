"""Stored alerts. Every function takes an open :class:`~sqlalchemy.Connection`; the caller
owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql import ColumnElement, Select

from quantdesk.db.repositories._utc import utc
from quantdesk.db.tables import Alert, Portfolio

OPEN: ColumnElement[bool] = Alert.acknowledged_at.is_(None)


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


def insert_open_alert(
    connection: Connection,
    *,
    portfolio_id: int | None,
    kind: str,
    severity: str,
    message: str,
    key: str,
    at: datetime,
) -> int | None:
    """Store an open alert; ``None`` when one with ``key`` is open already (the partial
    unique index ``uq_alerts_open_key`` decides, so two processes racing store one)."""
    values = {
        "portfolio_id": portfolio_id,
        "kind": kind,
        "severity": severity,
        "message": message,
        "key": key,
        "created_at": utc(at),
    }
    dialect_insert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    statement = (
        dialect_insert(Alert)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[Alert.key], index_where=OPEN)
        .returning(Alert.id)
    )
    found = connection.execute(statement).scalar()
    return None if found is None else int(found)


def alerts_after(connection: Connection, alert_id: int, limit: int = 100) -> list[StoredAlert]:
    """Alerts with an id above ``alert_id``, oldest first (what a live view has not seen)."""
    rows = connection.execute(
        _select().where(Alert.id > alert_id).order_by(Alert.id).limit(limit)
    ).all()
    return [_stored(r) for r in rows]


def last_alert_id(connection: Connection) -> int:
    """The highest alert id stored (0: none)."""
    return int(connection.execute(select(func.coalesce(func.max(Alert.id), 0))).scalar_one())


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
