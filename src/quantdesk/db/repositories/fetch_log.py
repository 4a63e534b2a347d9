"""The record of every import and remote fetch."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from quantdesk.db.tables import DataSource, FetchLog


def log_fetch(
    connection: Connection,
    *,
    source: str,
    target: str,
    started_at: datetime,
    finished_at: datetime,
    status: str,
    rows_read: int,
    rows_inserted: int,
    rows_updated: int,
    rows_rejected: int,
    details: dict[str, Any] | None = None,
) -> None:
    connection.execute(
        insert(FetchLog).values(
            source=source,
            target=target,
            started_at=started_at,
            finished_at=finished_at,
            status=status,
            rows_read=rows_read,
            rows_inserted=rows_inserted,
            rows_updated=rows_updated,
            rows_rejected=rows_rejected,
            details=details,
        )
    )


def data_version(connection: Connection) -> int:
    """The newest fetch-log id: it changes whenever an import writes bars."""
    return int(connection.execute(select(func.max(FetchLog.id))).scalar() or 0)


def recent_fetches(connection: Connection, limit: int = 20) -> list[dict[str, Any]]:
    table = FetchLog.__table__
    rows = connection.execute(select(table).order_by(table.c.id.desc()).limit(limit)).mappings()
    return [dict(r) for r in rows]


def register_source(
    connection: Connection, name: str, kind: str, provides: str, description: str
) -> None:
    """Record a data source and which fields it provides (insert once, refresh afterwards)."""
    exists = connection.execute(select(DataSource.id).where(DataSource.name == name)).first()
    values = {"kind": kind, "provides": provides, "description": description}
    if exists is None:
        connection.execute(insert(DataSource).values(name=name, enabled=True, **values))
    else:
        connection.execute(update(DataSource).where(DataSource.name == name).values(**values))


def list_sources(connection: Connection) -> list[dict[str, Any]]:
    table = DataSource.__table__
    return [dict(r) for r in connection.execute(select(table).order_by(table.c.name)).mappings()]
