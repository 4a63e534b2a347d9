"""Stored trading-journal annotations (pre-trade thesis … post-trade lesson), editable."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from quantdesk.db.repositories._utc import utc
from quantdesk.db.tables import JournalEntry

JOURNAL_TEXT_FIELDS = (
    "thesis",
    "intended_entry",
    "sizing_rationale",
    "exit_plan",
    "outcome",
    "lesson",
)
"""Pre-trade (thesis, intended entry, sizing rationale, exit plan), post-trade (outcome, lesson)."""


@dataclass(frozen=True, slots=True)
class JournalRecord:
    id: int
    portfolio_id: int
    client_order_id: str | None
    execution_id: str | None
    thesis: str | None
    intended_entry: str | None
    sizing_rationale: str | None
    exit_plan: str | None
    outcome: str | None
    lesson: str | None
    created_at: datetime
    updated_at: datetime


def insert_entry(
    connection: Connection,
    portfolio_id: int,
    texts: Mapping[str, str | None],
    at: datetime,
    client_order_id: str | None = None,
    execution_id: str | None = None,
) -> int:
    _check_fields(texts)
    result = connection.execute(
        insert(JournalEntry).returning(JournalEntry.id),
        [
            {
                "portfolio_id": portfolio_id,
                "client_order_id": client_order_id,
                "execution_id": execution_id,
                **{name: texts.get(name) for name in JOURNAL_TEXT_FIELDS},
                "created_at": utc(at),
                "updated_at": utc(at),
            }
        ],
    )
    return int(result.scalar_one())


def update_entry(
    connection: Connection, entry_id: int, texts: Mapping[str, str | None], at: datetime
) -> bool:
    """Change the given fields of entry ``entry_id``; False when there is no such entry."""
    _check_fields(texts)
    result = connection.execute(
        update(JournalEntry)
        .where(JournalEntry.id == entry_id)
        .values(**dict(texts), updated_at=utc(at))
    )
    return bool(result.rowcount)


def get_entry(connection: Connection, entry_id: int) -> JournalRecord | None:
    row = connection.execute(select(JournalEntry).where(JournalEntry.id == entry_id)).first()
    return None if row is None else _record(row)


def entries(
    connection: Connection, portfolio_id: int, client_order_id: str | None = None
) -> list[JournalRecord]:
    query = select(JournalEntry).where(JournalEntry.portfolio_id == portfolio_id)
    if client_order_id is not None:
        query = query.where(JournalEntry.client_order_id == client_order_id)
    return [_record(row) for row in connection.execute(query.order_by(JournalEntry.id)).all()]


def _check_fields(texts: Mapping[str, object]) -> None:
    unknown = sorted(set(texts) - set(JOURNAL_TEXT_FIELDS))
    if unknown:
        raise ValueError(f"unknown journal field(s) {unknown}; known: {list(JOURNAL_TEXT_FIELDS)}")


def _record(row: object) -> JournalRecord:
    values = {name: getattr(row, name) for name in JournalRecord.__slots__}
    values["created_at"] = utc(values["created_at"])
    values["updated_at"] = utc(values["updated_at"])
    return JournalRecord(**values)
