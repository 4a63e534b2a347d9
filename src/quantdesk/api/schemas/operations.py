"""Bodies of the order history, portfolio archive and strategy book routes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel

from quantdesk.services.order_history import OrderEventView, OrderHistory
from quantdesk.services.portfolio_admin import ArchivedPortfolio, StrategyBook


class OrderEvent(BaseModel):
    """One stored event of an order; ``status`` is the order's status after it."""

    seq: int
    kind: str
    at: datetime
    status: str
    reason: str | None
    quantity: Decimal | None
    price: Decimal | None
    limit_price: Decimal | None
    commission: Decimal | None
    venue_order_id: str | None

    @classmethod
    def of(cls, view: OrderEventView) -> OrderEvent:
        return cls(
            seq=view.seq,
            kind=view.kind,
            at=view.at,
            status=view.status,
            reason=view.reason,
            quantity=view.quantity,
            price=view.price,
            limit_price=view.limit_price,
            commission=view.commission,
            venue_order_id=view.venue_order_id,
        )


class OrderEvents(BaseModel):
    client_order_id: str
    portfolio: str
    symbol: str
    side: str
    quantity: Decimal
    created_at: datetime | None
    status: str
    events: list[OrderEvent]

    @classmethod
    def of(cls, history: OrderHistory) -> OrderEvents:
        return cls(
            client_order_id=history.client_order_id,
            portfolio=history.portfolio,
            symbol=history.symbol,
            side=history.side,
            quantity=history.quantity,
            created_at=history.created_at,
            status=history.status,
            events=[OrderEvent.of(e) for e in history.events],
        )


class Archived(BaseModel):
    """An archived portfolio: gone from lists and trading, its ledger kept for audit."""

    name: str
    archived_at: datetime

    @classmethod
    def of(cls, archived: ArchivedPortfolio) -> Archived:
        return cls(name=archived.name, archived_at=archived.archived_at)


class Book(BaseModel):
    """A strategy's book in a portfolio; when not ``enabled`` strategy-driven trading skips
    it (its positions and cash stay)."""

    portfolio: str
    strategy: str
    enabled: bool

    @classmethod
    def of(cls, book: StrategyBook) -> Book:
        return cls(portfolio=book.portfolio, strategy=book.strategy, enabled=book.enabled)
