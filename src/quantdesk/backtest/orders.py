"""The order model moved to :mod:`quantdesk.execution`; this name keeps old imports working."""

from quantdesk.core.ids import ClientOrderIds
from quantdesk.execution.events import Fill, OrderError
from quantdesk.execution.matching import (
    ExitReason,
    attached_exit,
    participation_cap,
    trigger_price,
)
from quantdesk.execution.orders import (
    ORDER_TRANSITIONS,
    InvalidTransition,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)

__all__ = [
    "ORDER_TRANSITIONS",
    "ClientOrderIds",
    "ExitReason",
    "Fill",
    "InvalidTransition",
    "Order",
    "OrderError",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "TimeInForce",
    "attached_exit",
    "participation_cap",
    "trigger_price",
]
