"""Orders and their state machine, shared by the backtest, paper and live trading.

An :class:`Order` is a frozen value. Every change of state is an event
(:mod:`quantdesk.execution.events`) folded in by :meth:`Order.apply`, which checks the move
against :data:`ORDER_TRANSITIONS` and raises :class:`InvalidTransition` on an illegal one; the
caller keeps the returned order. :func:`replay` rebuilds an order from its creation value and its
event log. Quantities are shares and prices are in the instrument's currency, both
:class:`~decimal.Decimal` (engines convert floats through their shortest ``repr``, which
round-trips to the same float).

Lifecycle::

    NEW → SUBMITTED → ACCEPTED → PARTIALLY_FILLED → FILLED
    (working) → PENDING_CANCEL → CANCELLED      (working) → PENDING_REPLACE → (working)
    NEW/SUBMITTED → REJECTED;  working → EXPIRED (DAY at the close) / CANCELLED
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from quantdesk.core.enums import Side
from quantdesk.execution.events import (
    ZERO,
    Fill,
    OrderAccepted,
    OrderCancelled,
    OrderCancelRejected,
    OrderCancelRequested,
    OrderError,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderModifyRejected,
    OrderModifyRequested,
    OrderRejected,
    OrderReplaced,
    OrderSubmitted,
)

OrderSide = Side
"""The order's side is the one :class:`~quantdesk.core.enums.Side` (kept under this name)."""


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"


class TimeInForce(StrEnum):
    """How long an unfilled order stays working.

    ``DAY`` lives through the session of the first bar it can fill on and expires at its close;
    ``GTC`` lives until filled or cancelled.
    """

    DAY = "day"
    GTC = "gtc"


class OrderStatus(StrEnum):
    NEW = "new"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    PENDING_CANCEL = "pending_cancel"
    PENDING_REPLACE = "pending_replace"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        return not ORDER_TRANSITIONS[self]

    @property
    def is_working(self) -> bool:
        """Sent to the market and still able to fill."""
        return self in _WORKING


_WORKING = frozenset(
    {
        OrderStatus.SUBMITTED,
        OrderStatus.ACCEPTED,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.PENDING_CANCEL,
        OrderStatus.PENDING_REPLACE,
    }
)

_S = OrderStatus
ORDER_TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = MappingProxyType(
    {
        _S.NEW: frozenset({_S.SUBMITTED, _S.CANCELLED, _S.REJECTED}),
        # a broker may fill before its acknowledgement arrives, hence SUBMITTED → (PARTIALLY_)FILLED
        _S.SUBMITTED: frozenset(
            {
                _S.ACCEPTED,
                _S.PARTIALLY_FILLED,
                _S.FILLED,
                _S.PENDING_CANCEL,
                _S.CANCELLED,
                _S.REJECTED,
                _S.EXPIRED,
            }
        ),
        _S.ACCEPTED: frozenset(
            {
                _S.PARTIALLY_FILLED,
                _S.FILLED,
                _S.PENDING_CANCEL,
                _S.PENDING_REPLACE,
                _S.CANCELLED,
                _S.EXPIRED,
            }
        ),
        # a second partial fill keeps the status, hence the self-loop
        _S.PARTIALLY_FILLED: frozenset(
            {
                _S.PARTIALLY_FILLED,
                _S.FILLED,
                _S.PENDING_CANCEL,
                _S.PENDING_REPLACE,
                _S.CANCELLED,
                _S.EXPIRED,
            }
        ),
        # fills can race a cancel; a refused cancel returns to ACCEPTED / PARTIALLY_FILLED
        _S.PENDING_CANCEL: frozenset(
            {_S.ACCEPTED, _S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELLED, _S.EXPIRED}
        ),
        _S.PENDING_REPLACE: frozenset(
            {
                _S.ACCEPTED,
                _S.PARTIALLY_FILLED,
                _S.FILLED,
                _S.PENDING_CANCEL,
                _S.CANCELLED,
                _S.EXPIRED,
            }
        ),
        _S.FILLED: frozenset(),
        _S.CANCELLED: frozenset(),
        _S.REJECTED: frozenset(),
        _S.EXPIRED: frozenset(),
    }
)
"""Legal status moves: ``ORDER_TRANSITIONS[current]`` is the set of allowed next statuses."""


class InvalidTransition(OrderError):  # noqa: N818 - the name the trading layer and docs use
    """An order was asked to move to a status its current status cannot reach."""

    def __init__(self, client_order_id: str, current: OrderStatus, target: OrderStatus) -> None:
        allowed = ", ".join(sorted(ORDER_TRANSITIONS[current])) or "none (terminal)"
        super().__init__(
            f"order {client_order_id!r}: cannot go from {current} to {target}; allowed: {allowed}"
        )
        self.client_order_id = client_order_id
        self.current = current
        self.target = target


@dataclass(frozen=True, slots=True)
class Order:
    """An instruction to trade ``quantity`` shares of ``symbol``; never mutated in place.

    ``stop_loss`` / ``take_profit`` are price levels for exits attached to the position this order
    opens. ``filled_quantity`` and ``average_fill_price`` summarise the fills applied so far
    (``fill_ids`` keeps them idempotent). ``account`` and ``strategy`` say whose order it is;
    ``venue_order_id`` is the broker's id once accepted.
    """

    client_order_id: str
    symbol: str
    side: Side
    quantity: Decimal
    order_type: OrderType = OrderType.MARKET
    time_in_force: TimeInForce = TimeInForce.GTC
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    strategy: str = ""
    tag: str = ""
    created_at: datetime | None = None
    status: OrderStatus = OrderStatus.NEW
    filled_quantity: Decimal = ZERO
    average_fill_price: Decimal | None = None
    fill_ids: tuple[str, ...] = field(default=())
    status_reason: str = ""
    account: str = ""
    venue_order_id: str = ""

    def __post_init__(self) -> None:
        oid = self.client_order_id
        if not self.quantity.is_finite() or not self.quantity > ZERO:
            raise OrderError(f"order {oid!r}: quantity must be > 0 shares, got {self.quantity}")
        kind = OrderType(self.order_type)
        needs_limit = kind in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        needs_stop = kind in (OrderType.STOP, OrderType.STOP_LIMIT)
        if needs_limit != (self.limit_price is not None):
            raise OrderError(
                f"order {oid!r}: limit_price is required for and only for LIMIT and STOP_LIMIT"
            )
        if needs_stop != (self.stop_price is not None):
            raise OrderError(
                f"order {oid!r}: stop_price is required for and only for STOP and STOP_LIMIT"
            )
        for name in ("limit_price", "stop_price", "stop_loss", "take_profit"):
            value = getattr(self, name)
            if value is not None and (not value.is_finite() or not value > ZERO):
                raise OrderError(f"order {oid!r}: {name} must be > 0, got {value}")

    @property
    def remaining_quantity(self) -> Decimal:
        return self.quantity - self.filled_quantity

    @property
    def is_open(self) -> bool:
        """Not in a terminal status (NEW or working)."""
        return bool(ORDER_TRANSITIONS[self.status])

    # ---- events ------------------------------------------------------------------------------
    def apply(self, event: OrderEvent) -> Order:
        """The order after ``event``; raises :class:`InvalidTransition` on an illegal move.

        A fill whose execution id was already applied returns the order unchanged.
        """
        if event.client_order_id != self.client_order_id:
            raise OrderError(
                f"event {event.kind} for order {event.client_order_id!r} applied to order "
                f"{self.client_order_id!r}"
            )
        handler = _HANDLERS.get(type(event))
        if handler is None:
            raise OrderError(f"unknown order event {type(event).__name__}")
        return handler(self, event)

    def _answer(self, event: OrderCancelRejected | OrderModifyRejected) -> Order:
        if self.status not in (OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_REPLACE):
            raise OrderError(f"order {self.client_order_id!r}: {event.kind} while {self.status}")
        return self.transition(self._resting_status(), event.reason)

    def _resting_status(self) -> OrderStatus:
        return OrderStatus.PARTIALLY_FILLED if self.filled_quantity else OrderStatus.ACCEPTED

    def _replace(self, event: OrderReplaced) -> Order:
        if self.status is not OrderStatus.PENDING_REPLACE:
            raise InvalidTransition(self.client_order_id, self.status, OrderStatus.ACCEPTED)
        quantity = self.quantity if event.quantity is None else event.quantity
        if quantity < self.filled_quantity or not quantity > ZERO:
            raise OrderError(
                f"order {self.client_order_id!r}: new quantity {quantity} is below the "
                f"{self.filled_quantity} already filled"
            )
        replaced = Order(
            **{
                **{name: getattr(self, name) for name in _ORDER_FIELDS},
                "quantity": quantity,
                "limit_price": event.limit_price or self.limit_price,
                "stop_price": event.stop_price or self.stop_price,
                "venue_order_id": event.venue_order_id or self.venue_order_id,
            }
        )
        status = OrderStatus.FILLED if quantity == self.filled_quantity else None
        status = status or self._resting_status()
        return replaced._evolve(status=status)

    def transition(self, target: OrderStatus, reason: str = "") -> Order:
        """The same order in ``target`` status; raises :class:`InvalidTransition` if illegal."""
        if target not in ORDER_TRANSITIONS[self.status]:
            raise InvalidTransition(self.client_order_id, self.status, target)
        return self._evolve(status=target, status_reason=reason or self.status_reason)

    def _evolve(self, **changes: object) -> Order:
        # like dataclasses.replace without re-running __post_init__: only state fields change
        # here, and skipping the re-validation keeps million-bar backtests fast
        new = object.__new__(Order)
        for name in _ORDER_FIELDS:
            object.__setattr__(new, name, changes[name] if name in changes else getattr(self, name))
        return new

    # shorthands the engines use (each is one event without building the event object)
    def submit(self) -> Order:
        return self.transition(OrderStatus.SUBMITTED)

    def accept(self, venue_order_id: str = "") -> Order:
        return self.transition(OrderStatus.ACCEPTED)._evolve(
            venue_order_id=venue_order_id or self.venue_order_id
        )

    def cancel(self, reason: str = "cancelled") -> Order:
        return self.transition(OrderStatus.CANCELLED, reason)

    def expire(self, reason: str = "expired") -> Order:
        return self.transition(OrderStatus.EXPIRED, reason)

    def reject(self, reason: str) -> Order:
        return self.transition(OrderStatus.REJECTED, reason)

    def apply_fill(self, fill: Fill) -> Order:
        """The order after ``fill``; a fill already applied (same ``fill_id``) changes nothing."""
        if fill.fill_id in self.fill_ids:
            return self
        if fill.client_order_id != self.client_order_id or fill.side is not self.side:
            raise OrderError(
                f"fill {fill.fill_id!r} ({fill.client_order_id}, {fill.side}) does not belong "
                f"to order {self.client_order_id!r} ({self.side})"
            )
        if fill.quantity > self.remaining_quantity:
            raise OrderError(
                f"fill {fill.fill_id!r}: {fill.quantity} shares exceed the "
                f"{self.remaining_quantity} remaining on order {self.client_order_id!r}"
            )
        filled = self.filled_quantity + fill.quantity
        previous_value = self.filled_quantity * (self.average_fill_price or ZERO)
        average = (previous_value + fill.notional) / filled
        target = OrderStatus.FILLED if filled == self.quantity else OrderStatus.PARTIALLY_FILLED
        if target not in ORDER_TRANSITIONS[self.status]:
            raise InvalidTransition(self.client_order_id, self.status, target)
        return self._evolve(
            status=target,
            filled_quantity=filled,
            average_fill_price=average,
            fill_ids=(*self.fill_ids, fill.fill_id),
        )


_ORDER_FIELDS = tuple(f.name for f in fields(Order))
_S_ = OrderStatus
_HANDLERS: dict[type[Any], Callable[[Order, Any], Order]] = {
    OrderFilled: lambda o, e: o.apply_fill(e.fill),
    OrderSubmitted: lambda o, e: o.transition(_S_.SUBMITTED),
    OrderAccepted: lambda o, e: o.accept(e.venue_order_id),
    OrderRejected: lambda o, e: o.transition(_S_.REJECTED, e.reason),
    OrderCancelRequested: lambda o, e: o.transition(_S_.PENDING_CANCEL),
    OrderCancelled: lambda o, e: o.transition(_S_.CANCELLED, e.reason),
    OrderExpired: lambda o, e: o.transition(_S_.EXPIRED, e.reason),
    OrderModifyRequested: lambda o, e: o.transition(_S_.PENDING_REPLACE),
    OrderCancelRejected: Order._answer,
    OrderModifyRejected: Order._answer,
    OrderReplaced: Order._replace,
}


def replay(created: Order, events: Iterable[OrderEvent]) -> Order:
    """The state of ``created`` (a NEW order) after its event log, applied in order."""
    if created.status is not OrderStatus.NEW:
        raise OrderError(
            f"order {created.client_order_id!r}: replay starts from the NEW order, "
            f"got one in status {created.status}"
        )
    order = created
    for event in events:
        order = order.apply(event)
    return order


__all__ = [
    "ORDER_TRANSITIONS",
    "InvalidTransition",
    "Order",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "TimeInForce",
    "replay",
]
