"""Live updates from the API layer: after a service call changes orders or a portfolio, the
route publishes what changed on the event bus (the trading service itself is unchanged)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from quantdesk.services import Services
from quantdesk.services.events import EventBus, Topic
from quantdesk.services.trading_types import OrderView

log = logging.getLogger("quantdesk.api")


def publish_orders(events: EventBus, orders: Iterable[OrderView]) -> None:
    """One ``order`` event per order, and a ``fill`` event for each (partly) filled one."""
    for order in orders:
        data: dict[str, str | int | float | bool | None] = {
            "portfolio": order.portfolio,
            "client_order_id": order.client_order_id,
            "symbol": order.symbol,
            "side": order.side,
            "quantity": str(order.quantity),
            "status": order.status,
            "filled_quantity": str(order.filled_quantity),
            "average_fill_price": (
                None if order.average_fill_price is None else str(order.average_fill_price)
            ),
        }
        events.publish(Topic.ORDER, data)
        if order.filled_quantity > 0:
            events.publish(Topic.FILL, data)


def publish_value(events: EventBus, services: Services, portfolio: str) -> None:
    """A ``portfolio`` tick with the portfolio's value now; a failure to value it is logged,
    never turned into a failure of the call that already succeeded."""
    try:
        value = services.trading.value(portfolio)
    except Exception:
        log.exception("could not value portfolio %r for a live update", portfolio)
        return
    events.publish(
        Topic.PORTFOLIO,
        {
            "portfolio": portfolio,
            "at": value.at.isoformat(),
            "equity": str(value.equity),
            "cash": str(value.cash),
            "market_value": str(value.market_value),
        },
    )
