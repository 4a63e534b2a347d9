"""A paper broker whose whole book (cash, positions, working orders, executions) is a JSON
document, so the trading service can persist it apart from its own records — like a real venue,
it may be ahead of us after a crash, and reconciliation must catch up.

Market orders fill at once at the latest price ± slippage (against the side) with the cost
model's commission; limit orders fill when the latest price crosses the limit (checked on
submit and on :meth:`PaperBroker.on_prices`); DAY orders expire at :meth:`end_of_day`.
Deterministic: execution ids are ``f"{account}-x{n}"``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from quantdesk.core.clock import Clock
from quantdesk.core.enums import Side
from quantdesk.execution import (
    AccountSnapshot,
    BrokerError,
    CostModel,
    EventListener,
    Fill,
    Order,
    OrderAccepted,
    OrderCancelled,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderReplaced,
    OrderStatus,
    OrderType,
    TimeInForce,
)

ZERO = Decimal(0)
TICK = Decimal("0.000001")
"""Fill prices and commissions are rounded to this (a millionth of the currency unit)."""
PriceSource = Callable[[str], Decimal | None]


class PaperBroker:
    """One paper account; implements :class:`quantdesk.execution.Broker`."""

    def __init__(
        self,
        account_id: str,
        prices: PriceSource,
        clock: Clock,
        costs: CostModel | None = None,
    ) -> None:
        self._account = account_id
        self._prices = prices
        self._clock = clock
        self._costs = costs if costs is not None else CostModel(slippage_bps=5.0)
        self._listeners: list[EventListener] = []
        self.cash = ZERO
        self._positions: dict[str, Decimal] = {}
        self._orders: dict[str, Order] = {}
        self._executions: list[Fill] = []

    # -- the port ------------------------------------------------------------------------------
    @property
    def account_id(self) -> str:
        return self._account

    def subscribe(self, listener: EventListener) -> None:
        self._listeners.append(listener)

    def submit(self, order: Order) -> None:
        cid = order.client_order_id
        if cid in self._orders or any(f.client_order_id == cid for f in self._executions):
            raise BrokerError(f"paper broker {self._account!r}: duplicate client order id {cid!r}")
        accepted = order.accept(f"P{cid}")
        self._orders[cid] = accepted
        self._emit(OrderAccepted(cid, self._clock.now(), accepted.venue_order_id))
        self._try_fill(cid)

    def cancel(self, client_order_id: str) -> None:
        order = self._working(client_order_id)
        del self._orders[order.client_order_id]
        self._emit(OrderCancelled(client_order_id, self._clock.now()))

    def modify(
        self,
        client_order_id: str,
        *,
        quantity: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> None:
        order = self._working(client_order_id)
        self._orders[client_order_id] = replace(
            order,
            quantity=quantity or order.quantity,
            limit_price=limit_price or order.limit_price,
            stop_price=stop_price or order.stop_price,
        )
        self._emit(
            OrderReplaced(client_order_id, self._clock.now(), quantity, limit_price, stop_price)
        )
        self._try_fill(client_order_id)

    def open_orders(self) -> Sequence[Order]:
        return tuple(self._orders.values())

    def positions(self) -> Mapping[str, Decimal]:
        return {s: q for s, q in sorted(self._positions.items()) if q != ZERO}

    def account(self) -> AccountSnapshot:
        return AccountSnapshot(self._account, self._clock.now(), self.cash, self.positions())

    def executions_since(self, since: datetime | None = None) -> Sequence[Fill]:
        return tuple(f for f in self._executions if since is None or f.filled_at >= since)

    # -- the venue's own operations ------------------------------------------------------------
    def deposit(self, amount: Decimal) -> None:
        """Cash moved into (> 0) or out of (< 0) the account."""
        self.cash += amount

    def book_external(self, fill: Fill) -> None:
        """A trade done outside the paper venue (manual entry) that the account now holds."""
        self._executions.append(fill)
        self.cash += fill.cash_change
        self._positions[fill.symbol] = (
            self._positions.get(fill.symbol, ZERO) + fill.side.sign * fill.quantity
        )

    def on_prices(self) -> None:
        """Match resting orders against the latest prices."""
        for cid in list(self._orders):
            self._try_fill(cid)

    def end_of_day(self) -> None:
        """DAY orders still working expire at the close."""
        for cid, order in list(self._orders.items()):
            if order.time_in_force is TimeInForce.DAY:
                del self._orders[cid]
                self._emit(OrderExpired(cid, self._clock.now(), "DAY order expired at the close"))

    # -- persistence ---------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """The whole book as JSON-safe values (decimals as strings)."""
        return {
            "cash": str(self.cash),
            "positions": {s: str(q) for s, q in self._positions.items()},
            "orders": [_order_state(o) for o in self._orders.values()],
            "executions": [_fill_state(f) for f in self._executions],
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        self.cash = Decimal(state["cash"])
        self._positions = {s: Decimal(q) for s, q in state["positions"].items()}
        self._orders = {o["client_order_id"]: _order_from(o) for o in state["orders"]}
        self._executions = [_fill_from(f) for f in state["executions"]]

    # -- internals -----------------------------------------------------------------------------
    def _working(self, client_order_id: str) -> Order:
        try:
            return self._orders[client_order_id]
        except KeyError:
            raise BrokerError(
                f"paper broker {self._account!r}: no working order {client_order_id!r}"
            ) from None

    def _try_fill(self, cid: str) -> None:
        order = self._orders[cid]
        price = self._prices(order.symbol)
        if price is None:
            return
        if order.order_type is OrderType.MARKET:
            fill_price = _tick(Decimal(repr(self._costs.fill_price(order.side, float(price)))))
        elif order.order_type is OrderType.LIMIT and order.limit_price is not None:
            crosses = (
                price <= order.limit_price if order.side is Side.BUY else price >= order.limit_price
            )
            if not crosses:
                return
            fill_price = price
        else:
            return  # stops rest until the paper broker of execution/ handles them
        quantity = order.remaining_quantity
        commission = _tick(
            Decimal(repr(self._costs.commission(float(quantity), float(fill_price))))
        )
        fill = Fill(
            fill_id=f"{self._account}-x{len(self._executions) + 1}",
            client_order_id=cid,
            symbol=order.symbol,
            side=order.side,
            quantity=quantity,
            price=fill_price,
            commission=commission,
            filled_at=self._clock.now(),
            account=self._account,
            strategy=order.strategy,
        )
        self._executions.append(fill)
        self.cash += fill.cash_change
        held = self._positions.get(order.symbol, ZERO) + order.side.sign * quantity
        self._positions[order.symbol] = held
        filled = order.apply_fill(fill)
        if filled.status is OrderStatus.FILLED:
            del self._orders[cid]
        else:
            self._orders[cid] = filled
        self._emit(OrderFilled(cid, fill.filled_at, fill))

    def _emit(self, event: OrderEvent) -> None:
        for listener in self._listeners:
            listener(event)


def _tick(value: Decimal) -> Decimal:
    return value.quantize(TICK)


def _order_state(order: Order) -> dict[str, Any]:
    return {
        "client_order_id": order.client_order_id,
        "symbol": order.symbol,
        "side": str(order.side),
        "quantity": str(order.quantity),
        "order_type": str(order.order_type),
        "time_in_force": str(order.time_in_force),
        "limit_price": None if order.limit_price is None else str(order.limit_price),
        "stop_price": None if order.stop_price is None else str(order.stop_price),
        "strategy": order.strategy,
        "account": order.account,
        "status": str(order.status),
        "filled_quantity": str(order.filled_quantity),
        "venue_order_id": order.venue_order_id,
        "created_at": None if order.created_at is None else order.created_at.isoformat(),
    }


def _order_from(raw: Mapping[str, Any]) -> Order:
    order = Order(
        client_order_id=raw["client_order_id"],
        symbol=raw["symbol"],
        side=Side(raw["side"]),
        quantity=Decimal(raw["quantity"]),
        order_type=OrderType(raw["order_type"]),
        time_in_force=TimeInForce(raw["time_in_force"]),
        limit_price=None if raw["limit_price"] is None else Decimal(raw["limit_price"]),
        stop_price=None if raw["stop_price"] is None else Decimal(raw["stop_price"]),
        strategy=raw["strategy"],
        account=raw["account"],
        created_at=None if raw["created_at"] is None else datetime.fromisoformat(raw["created_at"]),
    )
    order = order.submit().accept(raw["venue_order_id"])
    filled = Decimal(raw["filled_quantity"])
    if filled:
        order = replace(order, filled_quantity=filled, status=OrderStatus(raw["status"]))
    return order


def _fill_state(fill: Fill) -> dict[str, Any]:
    return {
        "fill_id": str(fill.fill_id),
        "client_order_id": str(fill.client_order_id),
        "symbol": fill.symbol,
        "side": str(fill.side),
        "quantity": str(fill.quantity),
        "price": str(fill.price),
        "commission": str(fill.commission),
        "filled_at": fill.filled_at.isoformat(),
        "account": fill.account,
        "strategy": fill.strategy,
    }


def _fill_from(raw: Mapping[str, Any]) -> Fill:
    return Fill(
        fill_id=raw["fill_id"],
        client_order_id=raw["client_order_id"],
        symbol=raw["symbol"],
        side=Side(raw["side"]),
        quantity=Decimal(raw["quantity"]),
        price=Decimal(raw["price"]),
        commission=Decimal(raw["commission"]),
        filled_at=datetime.fromisoformat(raw["filled_at"]),
        account=raw["account"],
        strategy=raw["strategy"],
    )
