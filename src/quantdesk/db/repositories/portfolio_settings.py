"""Stored risk parameters and schedule of each portfolio (``None``: the built-in default)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, delete, insert, select

from quantdesk.db.repositories._utc import utc
from quantdesk.db.tables import PortfolioSettings


@dataclass(frozen=True, slots=True)
class StoredSettings:
    drift_threshold: float | None
    min_trade_value: Decimal | None
    decision_time: str | None


def get_settings(connection: Connection, portfolio_id: int) -> StoredSettings:
    row = connection.execute(
        select(PortfolioSettings).where(PortfolioSettings.portfolio_id == portfolio_id)
    ).first()
    if row is None:
        return StoredSettings(None, None, None)
    return StoredSettings(row.drift_threshold, row.min_trade_value, row.decision_time)


def put_settings(
    connection: Connection, portfolio_id: int, settings: StoredSettings, at: datetime
) -> None:
    """Replace the portfolio's settings row."""
    connection.execute(
        delete(PortfolioSettings).where(PortfolioSettings.portfolio_id == portfolio_id)
    )
    connection.execute(
        insert(PortfolioSettings),
        [
            {
                "portfolio_id": portfolio_id,
                "drift_threshold": settings.drift_threshold,
                "min_trade_value": settings.min_trade_value,
                "decision_time": settings.decision_time,
                "updated_at": utc(at),
            }
        ],
    )
