"""Timestamps stored in UTC: SQLite drops the offset of ``DateTime(timezone=True)`` values, so
every trading writer converts to UTC first and every reader marks naive values as UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


@overload
def utc(moment: datetime) -> datetime: ...
@overload
def utc(moment: None) -> None: ...
def utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
