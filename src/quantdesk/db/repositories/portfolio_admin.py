"""Portfolio administration: archiving, open orders, strategy books switched on and off.

Every function takes an open :class:`~sqlalchemy.Connection`; the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from quantdesk.db.repositories._utc import utc
from quantdesk.db.tables import Portfolio, StrategyAllocation, TradingOrder
from quantdesk.execution.orders import OrderStatus

OPEN_STATUSES = tuple(str(s) for s in OrderStatus if not s.is_terminal)


@dataclass(frozen=True, slots=True)
class StoredBook:
    strategy: str
    enabled: bool
    created_at: datetime


def open_order_ids(connection: Connection, portfolio_id: int) -> list[str]:
    """Client ids of the portfolio's orders not in a final state (their cached status)."""
    rows = connection.execute(
        select(TradingOrder.client_order_id)
        .where(
            TradingOrder.portfolio_id == portfolio_id,
            TradingOrder.status.in_(OPEN_STATUSES),
        )
        .order_by(TradingOrder.id)
    ).scalars()
    return [str(r) for r in rows]


def archive(connection: Connection, portfolio_id: int, at: datetime) -> None:
    connection.execute(
        update(Portfolio).where(Portfolio.id == portfolio_id).values(archived_at=utc(at))
    )


def books(connection: Connection, portfolio_id: int) -> list[StoredBook]:
    rows = connection.execute(
        select(StrategyAllocation)
        .where(StrategyAllocation.portfolio_id == portfolio_id)
        .order_by(StrategyAllocation.strategy)
    ).all()
    return [StoredBook(str(r.strategy), bool(r.enabled), utc(r.created_at)) for r in rows]


def set_enabled(
    connection: Connection, portfolio_id: int, strategy: str, enabled: bool, at: datetime
) -> None:
    """Switch the book on or off, creating it (empty) when the portfolio has none yet."""
    changed = connection.execute(
        update(StrategyAllocation)
        .where(
            StrategyAllocation.portfolio_id == portfolio_id,
            StrategyAllocation.strategy == strategy,
        )
        .values(enabled=enabled)
    ).rowcount
    if not changed:
        connection.execute(
            insert(StrategyAllocation),
            [
                {
                    "portfolio_id": portfolio_id,
                    "strategy": strategy,
                    "enabled": enabled,
                    "created_at": utc(at),
                }
            ],
        )


def disabled(connection: Connection, portfolio_id: int) -> set[str]:
    """Names of the portfolio's switched-off strategy books."""
    rows = connection.execute(
        select(StrategyAllocation.strategy).where(
            StrategyAllocation.portfolio_id == portfolio_id,
            StrategyAllocation.enabled.is_(False),
        )
    ).scalars()
    return {str(r) for r in rows}
