"""Order model shared by the event-driven backtest and, later, paper and live trading.

An :class:`Order` is a frozen value. Every change of state goes through :meth:`Order.transition`
(or the helpers built on it), which consults :data:`ORDER_TRANSITIONS` and raises
:class:`InvalidTransition` on an illegal move; the caller keeps the new value. Quantities are in
shares and prices in the instrument's currency, both as :class:`~decimal.Decimal`
(engines convert floats through their shortest ``repr``, which round-trips to the same float).

Fill rules (pure functions, used by the event engine and the paper broker):

* market orders fill at the price the engine chooses (signal-bar close or next open);
* limit and stop orders are matched against a later bar's open/high/low: a buy limit fills at the
  limit when ``low <= limit``, a sell limit when ``high >= limit``; a buy stop triggers when
  ``high >= stop``, a sell stop when ``low <= stop``. When the bar *opens* beyond the level (a gap)
  the fill is at the open, which is the price actually available;
* attached exits of a position (stop-loss / take-profit): when one bar's range touches both levels
  we cannot know which came first, so we assume the **pessimistic** one, the stop-loss. A gap
  through either level fills at the open.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from quantdesk.core.errors import QuantdeskError

ZERO = Decimal(0)


class OrderSide(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for a sell (the sign of the position change)."""
        return 1 if self is OrderSide.BUY else -1


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"


class TimeInForce(StrEnum):
    """How long an unfilled order stays working.

    ``DAY`` lives through the session (calendar date) of the first bar it can fill on and expires
    before the first bar of a later date; ``GTC`` lives until filled or cancelled.
    """

    DAY = "day"
    GTC = "gtc"


class OrderStatus(StrEnum):
    NEW = "new"
    SUBMITTED = "submitted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        return not ORDER_TRANSITIONS[self]

    @property
    def is_working(self) -> bool:
        """Submitted to the market and still able to fill."""
        return self in (OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED)


ORDER_TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = MappingProxyType(
    {
        OrderStatus.NEW: frozenset(
            {OrderStatus.SUBMITTED, OrderStatus.CANCELLED, OrderStatus.REJECTED}
        ),
        OrderStatus.SUBMITTED: frozenset(
            {
                OrderStatus.PARTIALLY_FILLED,
                OrderStatus.FILLED,
                OrderStatus.CANCELLED,
                OrderStatus.REJECTED,
                OrderStatus.EXPIRED,
            }
        ),
        # a second partial fill keeps the status, hence the self-loop
        OrderStatus.PARTIALLY_FILLED: frozenset(
            {
                OrderStatus.PARTIALLY_FILLED,
                OrderStatus.FILLED,
                OrderStatus.CANCELLED,
                OrderStatus.EXPIRED,
            }
        ),
        OrderStatus.FILLED: frozenset(),
        OrderStatus.CANCELLED: frozenset(),
        OrderStatus.REJECTED: frozenset(),
        OrderStatus.EXPIRED: frozenset(),
    }
)
"""Legal status moves: ``ORDER_TRANSITIONS[current]`` is the set of allowed next statuses."""


class OrderError(QuantdeskError):
    """An order is malformed (missing limit price, non-positive quantity, …)."""


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


class ClientOrderIds:
    """Deterministic client order ids ``f"{prefix}-{seq}"`` (seq from 1), unique per prefix.

    Backtests use the strategy name as prefix, so two runs of one backtest produce the same ids.
    """

    def __init__(self, prefix: str) -> None:
        if not prefix:
            raise OrderError("client order id prefix must not be empty")
        self.prefix = prefix
        self._seq = 0

    def next(self) -> str:
        self._seq += 1
        return f"{self.prefix}-{self._seq}"


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution. ``quantity`` is in shares (> 0), ``price`` per share, ``commission`` in cash.

    ``fill_id`` is unique per order (``f"{client_order_id}-f{n}"`` in backtests) so re-applying the
    same fill is detectable and ignored.
    """

    fill_id: str
    client_order_id: str
    symbol: str
    side: OrderSide
    quantity: Decimal
    price: Decimal
    commission: Decimal
    filled_at: datetime

    def __post_init__(self) -> None:
        if self.quantity <= ZERO:
            raise OrderError(f"fill {self.fill_id!r}: quantity must be > 0, got {self.quantity}")
        if self.price <= ZERO:
            raise OrderError(f"fill {self.fill_id!r}: price must be > 0, got {self.price}")

    @property
    def notional(self) -> Decimal:
        """Unsigned traded value, quantity × price (cash, commission excluded)."""
        return self.quantity * self.price

    @property
    def cash_change(self) -> Decimal:
        """Signed effect on cash: a buy pays notional and commission, a sell receives net of it."""
        return -self.side.sign * self.notional - self.commission


@dataclass(frozen=True, slots=True)
class Order:
    """An instruction to trade ``quantity`` shares of ``symbol``; never mutated in place.

    ``stop_loss`` / ``take_profit`` are price levels for exits attached to the position this order
    opens (see the module docstring for the both-hit rule). ``filled_quantity`` and
    ``average_fill_price`` summarise the fills applied so far (``fill_ids`` keeps them idempotent).
    """

    client_order_id: str
    symbol: str
    side: OrderSide
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

    def __post_init__(self) -> None:
        oid = self.client_order_id
        if self.quantity <= ZERO:
            raise OrderError(f"order {oid!r}: quantity must be > 0 shares, got {self.quantity}")
        needs_limit = self.order_type is OrderType.LIMIT
        needs_stop = self.order_type is OrderType.STOP
        if needs_limit != (self.limit_price is not None):
            raise OrderError(f"order {oid!r}: limit_price is required for and only for LIMIT")
        if needs_stop != (self.stop_price is not None):
            raise OrderError(f"order {oid!r}: stop_price is required for and only for STOP")
        for name in ("limit_price", "stop_price", "stop_loss", "take_profit"):
            value = getattr(self, name)
            if value is not None and value <= ZERO:
                raise OrderError(f"order {oid!r}: {name} must be > 0, got {value}")

    @property
    def remaining_quantity(self) -> Decimal:
        return self.quantity - self.filled_quantity

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

    def submit(self) -> Order:
        return self.transition(OrderStatus.SUBMITTED)

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


def trigger_price(
    side: OrderSide,
    order_type: OrderType,
    level: float,
    *,
    open_: float,
    high: float,
    low: float,
) -> float | None:
    """Fill price of a resting LIMIT or STOP order on one bar, or ``None`` if not reached.

    ``level`` is the limit or stop price. A bar opening beyond the level fills at the open.
    """
    buy = side is OrderSide.BUY
    if order_type is OrderType.LIMIT:
        if buy:
            return open_ if open_ <= level else (level if low <= level else None)
        return open_ if open_ >= level else (level if high >= level else None)
    if order_type is OrderType.STOP:
        if buy:
            return open_ if open_ >= level else (level if high >= level else None)
        return open_ if open_ <= level else (level if low <= level else None)
    raise OrderError(f"trigger_price needs a LIMIT or STOP order, got {order_type}")


class ExitReason(StrEnum):
    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"


def attached_exit(
    long: bool,
    stop_loss: float | None,
    take_profit: float | None,
    *,
    open_: float,
    high: float,
    low: float,
) -> tuple[float, ExitReason] | None:
    """Exit price and reason for a position's stop-loss / take-profit on one bar, or ``None``.

    ``long`` is the position's direction. When the bar's range reaches both levels the
    stop-loss wins (pessimistic: the order of touches inside a bar is unknown).
    """
    # sign flips a short into the long case: adverse moves are then always "down"
    sign = 1.0 if long else -1.0
    o, adverse, favourable = (open_, low, high) if long else (open_, high, low)
    if stop_loss is not None and sign * o <= sign * stop_loss:
        return o, ExitReason.STOP_LOSS
    if take_profit is not None and sign * o >= sign * take_profit:
        return o, ExitReason.TAKE_PROFIT
    if stop_loss is not None and sign * adverse <= sign * stop_loss:
        return stop_loss, ExitReason.STOP_LOSS
    if take_profit is not None and sign * favourable >= sign * take_profit:
        return take_profit, ExitReason.TAKE_PROFIT
    return None


def participation_cap(remaining: float, bar_volume: float, participation: float | None) -> float:
    """Shares fillable on one bar: all of ``remaining`` unless a volume participation cap is set.

    ``participation`` is a fraction of the bar's volume (0.1 = 10 %); ``None`` disables partial
    fills, which is the default everywhere.
    """
    if participation is None:
        return remaining
    if not 0.0 < participation <= 1.0:
        raise OrderError(f"participation must be a fraction in (0, 1], got {participation}")
    return min(remaining, max(bar_volume, 0.0) * participation)
