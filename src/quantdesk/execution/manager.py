"""The order manager: the one way an order reaches a broker.

:meth:`OrderManager.submit` validates an :class:`OrderRequest` (clear one-line errors for an
unknown symbol, a zero/negative/NaN quantity, a limit ≤ 0, …), gives it the next client order
id, runs the pre-trade risk hook and only then records it and sends it. Events coming back from
the broker are folded into the orders (:meth:`Order.apply`), appended to :attr:`events` (the
append-only order event log, in arrival order) and fills are booked into the ledger. A refused
order leaves no trace: no id consumed, nothing recorded, nothing sent.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

from quantdesk.core.clock import Clock
from quantdesk.core.enums import Side
from quantdesk.core.ids import ClientOrderIds
from quantdesk.execution.broker import Broker
from quantdesk.execution.events import (
    ZERO,
    OrderCancelRequested,
    OrderError,
    OrderEvent,
    OrderFilled,
    OrderModifyRequested,
    OrderSubmitted,
)
from quantdesk.execution.ledger import Ledger
from quantdesk.execution.orders import Order, OrderType, TimeInForce
from quantdesk.execution.risk import PreTradeCheck, PreTradeRejected

Number = Decimal | float | int | str


def to_decimal(value: Number, what: str) -> Decimal:
    """``value`` as a finite Decimal (floats via their shortest repr); raises naming ``what``."""
    if isinstance(value, float) and not math.isfinite(value):
        raise OrderError(f"{what} must be a finite number, got {value!r}")
    try:
        number = Decimal(repr(value) if isinstance(value, float) else value)
    except (InvalidOperation, ValueError, TypeError):
        raise OrderError(f"{what} must be a number, got {value!r}") from None
    if not number.is_finite():
        raise OrderError(f"{what} must be a finite number, got {value!r}")
    return number


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What a strategy or a trader asks for; the manager turns it into an :class:`Order`.

    ``quantity`` in shares (> 0); prices in currency. The type follows from the prices given:
    none → MARKET, ``limit_price`` → LIMIT, ``stop_price`` → STOP, both → STOP_LIMIT.
    """

    symbol: str
    side: Side
    quantity: Number
    limit_price: Number | None = None
    stop_price: Number | None = None
    time_in_force: TimeInForce = TimeInForce.DAY
    strategy: str = ""
    tag: str = ""
    stop_loss: Number | None = None
    take_profit: Number | None = None


class OrderManager:
    """Orders of one account: validation, ids, the risk hook, the event log and the ledger."""

    def __init__(
        self,
        broker: Broker,
        ledger: Ledger,
        clock: Clock,
        *,
        risk: PreTradeCheck | None = None,
        prices: Callable[[str], Decimal | None],
        ids: ClientOrderIds | None = None,
    ) -> None:
        self.broker = broker
        self.ledger = ledger
        self.account = broker.account_id
        self.clock = clock
        self.risk = risk
        self._prices = prices
        self.ids = ids if ids is not None else ClientOrderIds(self.account)
        self._orders: dict[str, Order] = {}
        self._open: dict[str, Order] = {}  # the orders not yet in a terminal status
        self.events: list[OrderEvent] = []
        broker.subscribe(self.on_event)

    @property
    def orders(self) -> Mapping[str, Order]:
        return self._orders

    def open_orders(self, strategy: str | None = None) -> list[Order]:
        return [o for o in self._open.values() if strategy is None or o.strategy == strategy]

    def restore(self, orders: Iterable[Order]) -> None:
        """Resume after a restart with ``orders`` as stored (replayed from their event log).

        Nothing is recorded or sent; later broker events for them are folded in as usual.
        """
        for order in orders:
            self._orders[order.client_order_id] = order
            if order.is_open:
                self._open[order.client_order_id] = order
            else:
                self._open.pop(order.client_order_id, None)

    # ---- RiskView ----------------------------------------------------------------------------
    def price(self, symbol: str) -> Decimal | None:
        return self._prices(symbol)

    def available_cash(self, strategy: str) -> Decimal:
        reserved = ZERO
        for order in self.open_orders(strategy):
            if order.side is Side.BUY:
                price = order.limit_price or order.stop_price or self._prices(order.symbol) or ZERO
                reserved += order.remaining_quantity * price
        return self.ledger.cash(self.account, strategy) - reserved

    def available_position(self, strategy: str, symbol: str) -> Decimal:
        held = self.ledger.position(self.account, strategy, symbol).quantity
        for order in self.open_orders(strategy):
            if order.side is Side.SELL and order.symbol == symbol:
                held -= order.remaining_quantity
        return held

    # ---- requests ----------------------------------------------------------------------------
    def build(self, request: OrderRequest) -> Order:
        """Validate ``request`` into a NEW order without an id (``client_order_id`` = "")."""
        symbol = request.symbol
        what = f"order for {symbol!r}"
        if not symbol or self._prices(symbol) is None:
            raise OrderError(f"{what}: unknown or unpriced symbol {symbol!r}")
        quantity = to_decimal(request.quantity, f"{what}: quantity")
        if not quantity > ZERO:
            raise OrderError(f"{what}: quantity must be > 0 shares, got {request.quantity!r}")
        prices: dict[str, Decimal | None] = {}
        for name in ("limit_price", "stop_price", "stop_loss", "take_profit"):
            raw = getattr(request, name)
            value = None if raw is None else to_decimal(raw, f"{what}: {name}")
            if value is not None and not value > ZERO:
                raise OrderError(f"{what}: {name} must be > 0, got {raw!r}")
            prices[name] = value
        limit, stop = prices["limit_price"], prices["stop_price"]
        kind = (
            OrderType.STOP_LIMIT
            if limit is not None and stop is not None
            else OrderType.LIMIT
            if limit is not None
            else OrderType.STOP
            if stop is not None
            else OrderType.MARKET
        )
        return Order(
            client_order_id="",
            symbol=symbol,
            side=Side(request.side),
            quantity=quantity,
            order_type=kind,
            time_in_force=TimeInForce(request.time_in_force),
            limit_price=limit,
            stop_price=stop,
            stop_loss=prices["stop_loss"],
            take_profit=prices["take_profit"],
            strategy=request.strategy,
            tag=request.tag,
            created_at=self.clock.now(),
            account=self.account,
        )

    def check(self, order: Order) -> None:
        """Run the pre-trade hook; raises :class:`PreTradeRejected`."""
        if self.risk is not None:
            self.risk.check(order, self)

    def submit(
        self, request: OrderRequest, *, before_send: Callable[[Order], None] | None = None
    ) -> Order:
        """Validate, check, record and send; returns the order as recorded (SUBMITTED or later).

        ``before_send`` sees the recorded order just before the broker does (a caller that must
        recognise the order's events registers it there: a broker may answer synchronously).
        """
        draft = self.build(request)
        self.check(draft)
        order = replace(draft, client_order_id=self.ids.next())
        self._orders[order.client_order_id] = order
        self._open[order.client_order_id] = order
        self._record(OrderSubmitted(order.client_order_id, self.clock.now()))
        if before_send is not None:
            before_send(self._orders[order.client_order_id])
        self.broker.submit(self._orders[order.client_order_id])
        return self._orders[order.client_order_id]

    def cancel(self, client_order_id: str) -> Order:
        order = self._get(client_order_id)
        self._record(OrderCancelRequested(client_order_id, self.clock.now()))
        self.broker.cancel(order.client_order_id)
        return self._orders[client_order_id]

    def modify(
        self,
        client_order_id: str,
        *,
        quantity: Number | None = None,
        limit_price: Number | None = None,
        stop_price: Number | None = None,
    ) -> Order:
        order = self._get(client_order_id)
        what = f"modify of order {client_order_id!r}"
        new_quantity = None if quantity is None else to_decimal(quantity, f"{what}: quantity")
        if new_quantity is not None and not new_quantity > order.filled_quantity:
            raise OrderError(
                f"{what}: quantity must exceed the {order.filled_quantity} shares already filled"
            )
        new_limit = None if limit_price is None else to_decimal(limit_price, f"{what}: limit")
        new_stop = None if stop_price is None else to_decimal(stop_price, f"{what}: stop")
        for name, value in (("limit_price", new_limit), ("stop_price", new_stop)):
            if value is not None and not value > ZERO:
                raise OrderError(f"{what}: {name} must be > 0, got {value}")
        self._record(
            OrderModifyRequested(
                client_order_id, self.clock.now(), new_quantity, new_limit, new_stop
            )
        )
        self.broker.modify(
            client_order_id, quantity=new_quantity, limit_price=new_limit, stop_price=new_stop
        )
        return self._orders[client_order_id]

    # ---- events from the broker --------------------------------------------------------------
    def on_event(self, event: OrderEvent) -> None:
        """Fold one broker event in; unknown orders and re-delivered executions are ignored."""
        order = self._orders.get(event.client_order_id)
        if order is None:
            return  # not ours (another session's order): reconciliation deals with it
        if isinstance(event, OrderFilled) and event.fill.fill_id in order.fill_ids:
            return
        self._record(event)
        if isinstance(event, OrderFilled):
            fill = event.fill
            if fill.account != self.account or fill.strategy != order.strategy:
                fill = replace(fill, account=self.account, strategy=order.strategy)
            self.ledger.book(fill)

    def _record(self, event: OrderEvent) -> None:
        oid = event.client_order_id
        order = self._orders[oid].apply(event)
        self._orders[oid] = order
        if order.is_open:
            self._open[oid] = order
        else:
            self._open.pop(oid, None)
        self.events.append(event)

    def _get(self, client_order_id: str) -> Order:
        try:
            order = self._orders[client_order_id]
        except KeyError:
            raise OrderError(f"no order {client_order_id!r} in account {self.account!r}") from None
        if not order.status.is_working:
            raise OrderError(f"order {client_order_id!r} is {order.status}, not working")
        return order


__all__ = ["OrderManager", "OrderRequest", "PreTradeRejected", "to_decimal"]
