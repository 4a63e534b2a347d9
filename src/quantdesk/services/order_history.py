"""One order's history: every stored event of its append-only log, with the state it led to.

The log (``order_events``) is what :func:`quantdesk.execution.replay` rebuilds an order from,
so the status after each event is the replay of the log up to it, never a separate record
that could disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from quantdesk.core.errors import InvalidRequestError, NotFoundError
from quantdesk.db.database import Database
from quantdesk.db.repositories import order_history as history_repo
from quantdesk.db.repositories import orders as orders_repo
from quantdesk.execution import OrderEvent, OrderFilled

__all__ = ["OrderEventView", "OrderHistory", "OrderHistoryService"]


@dataclass(frozen=True, slots=True)
class OrderEventView:
    """One event. ``status`` is the order's status after it. ``quantity`` / ``price`` /
    ``commission`` are the fill's for a fill (shares, currency), the requested new values for
    a modification; ``reason`` explains a rejection, cancel or expiry."""

    seq: int
    kind: str
    at: datetime
    status: str
    reason: str | None = None
    quantity: Decimal | None = None
    price: Decimal | None = None
    limit_price: Decimal | None = None
    commission: Decimal | None = None
    venue_order_id: str | None = None


@dataclass(frozen=True, slots=True)
class OrderHistory:
    client_order_id: str
    portfolio: str
    symbol: str
    side: str
    quantity: Decimal
    created_at: datetime | None
    status: str
    events: tuple[OrderEventView, ...]


class OrderHistoryService:
    def __init__(self, database: Database) -> None:
        self._db = database

    def events(self, client_order_id: str, portfolio: str | None = None) -> OrderHistory:
        """The order's events, oldest first. ``portfolio`` narrows the search when two
        accounts share the id; an unknown id is a :class:`NotFoundError`."""
        with self._db.read() as connection:
            places = history_repo.find_order(connection, client_order_id)
            if portfolio is not None:
                places = [p for p in places if p.portfolio == portfolio]
            if not places:
                where = f" in portfolio {portfolio!r}" if portfolio else ""
                raise NotFoundError(f"no order {client_order_id!r}{where}")
            if len(places) > 1:
                names = ", ".join(sorted(p.portfolio for p in places))
                raise InvalidRequestError(
                    f"order id {client_order_id!r} is in portfolios {names}: name one"
                )
            place = places[0]
            (stored,) = orders_repo.load_orders(
                connection, place.account_id, place.portfolio_id, [client_order_id]
            )
        order = stored.order
        return OrderHistory(
            client_order_id=client_order_id,
            portfolio=place.portfolio,
            symbol=order.symbol,
            side=str(order.side),
            quantity=order.quantity,
            created_at=order.created_at,
            status=str(order.status),
            events=tuple(_views(stored)),
        )


def _views(stored: orders_repo.StoredOrder) -> list[OrderEventView]:
    """Each event with the status the replay of the log up to it gives."""
    assert stored.created is not None  # load_orders always sets it
    out = []
    state = stored.created
    for seq, event in enumerate(stored.events):
        state = state.apply(event)
        out.append(_view(seq, event, str(state.status)))
    return out


def _view(seq: int, event: OrderEvent, status: str) -> OrderEventView:
    if isinstance(event, OrderFilled):
        fill = event.fill
        return OrderEventView(
            seq,
            str(event.kind),
            event.at,
            status,
            quantity=fill.quantity,
            price=fill.price,
            commission=fill.commission,
        )
    return OrderEventView(
        seq,
        str(event.kind),
        event.at,
        status,
        reason=getattr(event, "reason", None),
        quantity=getattr(event, "quantity", None),
        limit_price=getattr(event, "limit_price", None),
        venue_order_id=getattr(event, "venue_order_id", None) or None,
    )
