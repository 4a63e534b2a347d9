"""Order events: the only way an order changes state.

Every event is a frozen value naming its order (``client_order_id``) and when it happened
(``at``, timezone-aware). :meth:`quantdesk.execution.orders.Order.apply` folds one into an order;
an order's state is rebuilt by replaying its events (:func:`~quantdesk.execution.orders.replay`),
so the list of events is the append-only log a store keeps.

Fills: one :class:`OrderFilled` per execution; the order becomes ``PARTIALLY_FILLED`` or
``FILLED`` depending on what remains. An execution already applied (same ``execution_id``) is
ignored, so a broker re-delivering it after a reconnect never double-counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from quantdesk.core.enums import Side
from quantdesk.core.errors import QuantdeskError
from quantdesk.core.ids import ClientOrderId, ExecutionId, VenueOrderId

ZERO = Decimal(0)


class OrderError(QuantdeskError, ValueError):
    """An order or fill is malformed (missing limit price, non-positive quantity, …)."""


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution. ``quantity`` is in shares (> 0), ``price`` per share, ``commission`` in cash.

    ``fill_id`` is the execution id: unique per account (``f"{client_order_id}-f{n}"`` in
    backtests), so re-applying the same fill is detectable and ignored. ``account`` and
    ``strategy`` say whose ledger it books into ("" when there is only one).
    """

    fill_id: ExecutionId | str
    client_order_id: ClientOrderId | str
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    commission: Decimal
    filled_at: datetime
    account: str = ""
    strategy: str = ""

    def __post_init__(self) -> None:
        if not self.quantity > ZERO:
            raise OrderError(f"fill {self.fill_id!r}: quantity must be > 0, got {self.quantity}")
        if not self.price > ZERO:
            raise OrderError(f"fill {self.fill_id!r}: price must be > 0, got {self.price}")

    @property
    def execution_id(self) -> str:
        return self.fill_id

    @property
    def notional(self) -> Decimal:
        """Unsigned traded value, quantity × price (cash, commission excluded)."""
        return self.quantity * self.price

    @property
    def cash_change(self) -> Decimal:
        """Signed effect on cash: a buy pays notional and commission, a sell receives net of it."""
        return -self.side.sign * self.notional - self.commission


class EventKind(StrEnum):
    """The stored name of each event type (one row of the order event log)."""

    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    FILLED = "filled"
    CANCEL_REQUESTED = "cancel_requested"
    CANCEL_REJECTED = "cancel_rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    MODIFY_REQUESTED = "modify_requested"
    MODIFY_REJECTED = "modify_rejected"
    REPLACED = "replaced"


@dataclass(frozen=True, slots=True)
class OrderSubmitted:
    """We sent the order to the broker (NEW → SUBMITTED)."""

    client_order_id: ClientOrderId | str
    at: datetime
    kind = EventKind.SUBMITTED


@dataclass(frozen=True, slots=True)
class OrderAccepted:
    """The broker acknowledged the order and gave it ``venue_order_id``."""

    client_order_id: ClientOrderId | str
    at: datetime
    venue_order_id: VenueOrderId | str = ""
    kind = EventKind.ACCEPTED


@dataclass(frozen=True, slots=True)
class OrderRejected:
    """The risk hook or the broker refused the order; ``reason`` says why (one line)."""

    client_order_id: ClientOrderId | str
    at: datetime
    reason: str
    kind = EventKind.REJECTED


@dataclass(frozen=True, slots=True)
class OrderFilled:
    """One execution of the order (partial or final: the remaining quantity decides)."""

    client_order_id: ClientOrderId | str
    at: datetime
    fill: Fill
    kind = EventKind.FILLED


@dataclass(frozen=True, slots=True)
class OrderCancelRequested:
    """We asked the broker to cancel (→ PENDING_CANCEL until it answers)."""

    client_order_id: ClientOrderId | str
    at: datetime
    kind = EventKind.CANCEL_REQUESTED


@dataclass(frozen=True, slots=True)
class OrderCancelRejected:
    """The broker refused the cancel (e.g. already filled); the order keeps working."""

    client_order_id: ClientOrderId | str
    at: datetime
    reason: str
    kind = EventKind.CANCEL_REJECTED


@dataclass(frozen=True, slots=True)
class OrderCancelled:
    client_order_id: ClientOrderId | str
    at: datetime
    reason: str = "cancelled"
    kind = EventKind.CANCELLED


@dataclass(frozen=True, slots=True)
class OrderExpired:
    """Time in force ran out (a DAY order at the close, the end of a backtest)."""

    client_order_id: ClientOrderId | str
    at: datetime
    reason: str = "expired"
    kind = EventKind.EXPIRED


@dataclass(frozen=True, slots=True)
class OrderModifyRequested:
    """We asked to change quantity and/or prices (→ PENDING_REPLACE); ``None`` keeps a value."""

    client_order_id: ClientOrderId | str
    at: datetime
    quantity: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    kind = EventKind.MODIFY_REQUESTED


@dataclass(frozen=True, slots=True)
class OrderModifyRejected:
    client_order_id: ClientOrderId | str
    at: datetime
    reason: str
    kind = EventKind.MODIFY_REJECTED


@dataclass(frozen=True, slots=True)
class OrderReplaced:
    """The broker applied a modification; ``None`` keeps the current value."""

    client_order_id: ClientOrderId | str
    at: datetime
    quantity: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    venue_order_id: VenueOrderId | str = ""
    kind = EventKind.REPLACED


OrderEvent = (
    OrderSubmitted
    | OrderAccepted
    | OrderRejected
    | OrderFilled
    | OrderCancelRequested
    | OrderCancelRejected
    | OrderCancelled
    | OrderExpired
    | OrderModifyRequested
    | OrderModifyRejected
    | OrderReplaced
)
"""Any order event."""

__all__ = [
    "ZERO",
    "EventKind",
    "Fill",
    "OrderAccepted",
    "OrderCancelRejected",
    "OrderCancelRequested",
    "OrderCancelled",
    "OrderError",
    "OrderEvent",
    "OrderExpired",
    "OrderFilled",
    "OrderModifyRejected",
    "OrderModifyRequested",
    "OrderRejected",
    "OrderReplaced",
    "OrderSubmitted",
    "Side",
]
