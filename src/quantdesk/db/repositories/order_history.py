"""Where an order is stored: its account and portfolio, found by its client order id."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from quantdesk.db.tables import Portfolio, TradingOrder


@dataclass(frozen=True, slots=True)
class OrderPlace:
    account_id: str
    portfolio_id: int
    portfolio: str


def find_order(connection: Connection, client_order_id: str) -> list[OrderPlace]:
    """Every stored order with this client id (ids are unique per account; two accounts could
    in principle share one), archived portfolios included: their history stays readable."""
    rows = connection.execute(
        select(TradingOrder.account_id, TradingOrder.portfolio_id, Portfolio.name)
        .join(Portfolio, Portfolio.id == TradingOrder.portfolio_id)
        .where(TradingOrder.client_order_id == client_order_id)
        .order_by(TradingOrder.id)
    ).all()
    return [OrderPlace(str(r.account_id), int(r.portfolio_id), str(r.name)) for r in rows]
