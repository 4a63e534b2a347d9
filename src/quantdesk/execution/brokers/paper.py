"""The paper broker: a simulated account behind the :class:`~quantdesk.execution.broker.Broker`
port, driven by a clock and by the prices it is fed, so the same code runs on replayed history
and on the live clock.

Rules (deterministic: ids are sequential, nothing reads the wall clock):

* a **market** order fills at the latest price ± slippage (default 5 bp, against the side) when
  the market is open; outside market hours it queues and fills at the first price seen after
  the next open (a bar's open);
* **limit**, **stop** and **stop-limit** orders rest and fill when a later bar allows, by the
  rules of :mod:`quantdesk.execution.matching` (a limit at its limit or a better open, a stop at
  its level or a worse open plus slippage, a stop-limit at its trigger when that respects the
  limit);
* commission defaults to $1 per order that fills (any :class:`~quantdesk.execution.costs.CostModel`
  can be given, as for a backtest);
* **DAY** orders expire at the close of their session (the next session when sent while the
  market is closed); **GTC** orders persist;
* a sell of more than is held is rejected unless shorting is allowed; a buy the cash cannot pay
  when it would fill is cancelled with the reason.

Market hours come from anything shaped like :class:`quantdesk.data.calendar.TradingCalendar`
(exchange-calendars); without one the market is always open.

Fill prices and commissions are rounded to ``tick`` (default 1e-10 currency, the scale money is
stored at), so what a database keeps of a fill is exactly what the venue booked.

Persistence (so a trading process can stop and start again, like a real venue that outlives
it): :meth:`PaperBroker.state` is a small JSON-safe document (cash, positions, working orders,
the id sequences, the last prices and the clock position); executions are *not* in it: they are
appended as they happen (:meth:`PaperBroker.unsaved_executions`) and given back to
:meth:`PaperBroker.restore`, so a long replay never rewrites a growing document.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from quantdesk.core.clock import Clock
from quantdesk.core.enums import Side
from quantdesk.execution.broker import AccountSnapshot, BrokerError, EventListener
from quantdesk.execution.costs import CostModel
from quantdesk.execution.events import (
    ZERO,
    Fill,
    OrderAccepted,
    OrderCancelled,
    OrderCancelRejected,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderModifyRejected,
    OrderModifyRequested,
    OrderRejected,
    OrderReplaced,
)
from quantdesk.execution.matching import stop_limit_price, trigger_price
from quantdesk.execution.orders import Order, OrderStatus, OrderType, TimeInForce

PAPER_COSTS = CostModel(commission_per_order=1.0, slippage_bps=5.0)
"""The paper broker's default costs: $1 per order, 5 bp slippage."""
MONEY_TICK = Decimal("1e-10")
"""Fill prices and commissions are rounded to this (the database's money scale)."""
STATE_VERSION = 1


class MarketHours(Protocol):
    """Session hours of an exchange (``TradingCalendar`` has this shape)."""

    @property
    def timezone(self) -> str: ...

    def trading_hours(self, day: date) -> tuple[datetime, datetime] | None: ...

    def next_session(self, day: date) -> date: ...


@dataclass(frozen=True, slots=True)
class Bar:
    """One price bar of one symbol (currency per share)."""

    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal


@dataclass(slots=True)
class _Resting:
    order: Order
    expires_at: datetime | None  # DAY orders: the close of their session


class PaperBroker:
    """One simulated account. Feed it prices with :meth:`on_bar` / :meth:`on_price`."""

    def __init__(
        self,
        account: str,
        clock: Clock,
        *,
        hours: MarketHours | None = None,
        costs: CostModel = PAPER_COSTS,
        cash: Decimal = ZERO,
        allow_short: bool = False,
        tick: Decimal = MONEY_TICK,
    ) -> None:
        self._account = account
        self.clock = clock
        self.hours = hours
        self.costs = costs
        self.allow_short = allow_short
        self.tick = tick
        self._zone = ZoneInfo(hours.timezone) if hours is not None else None
        # the venue's book is cash and shares (lots and P&L are the trader's ledger's business)
        self._cash = cash
        self._holdings: dict[str, Decimal] = {}
        self._listeners: list[EventListener] = []
        self._resting: dict[str, _Resting] = {}
        self._last: dict[str, Decimal] = {}
        self._executions: list[Fill] = []
        self._seen: set[str] = set()
        self._filled: set[str] = set()  # order ids with an execution
        self._sessions: dict[date, tuple[datetime, datetime] | None] = {}
        self._venue_seq = 0
        self._exec_seq = 0
        self._saved_executions = 0

    # ---- Broker port -------------------------------------------------------------------------
    @property
    def account_id(self) -> str:
        return self._account

    def subscribe(self, listener: EventListener) -> None:
        self._listeners.append(listener)

    def submit(self, order: Order) -> None:
        oid = order.client_order_id
        if oid in self._seen:
            raise BrokerError(f"paper account {self._account!r}: duplicate order id {oid!r}")
        self._seen.add(oid)
        now = self.clock.now()
        if order.side is Side.SELL and not self.allow_short:
            held = self._holdings.get(order.symbol, ZERO)
            if order.quantity > held - self._reserved_sells(order.symbol):
                self._emit(
                    OrderRejected(oid, now, f"sells {order.quantity} {order.symbol}, holds {held}")
                )
                return
        self._venue_seq += 1
        venue_id = f"P{self._venue_seq}"
        accepted = OrderAccepted(oid, now, venue_id)
        working = order.apply(accepted) if order.status is OrderStatus.SUBMITTED else order
        expires = self._day_close(now) if order.time_in_force is TimeInForce.DAY else None
        self._resting[oid] = _Resting(working, expires)
        self._emit(accepted)
        if order.order_type is OrderType.MARKET and self._is_open(now):
            price = self._last.get(order.symbol)
            if price is not None:
                self._fill(self._resting[oid], price, slipped=True)

    def cancel(self, client_order_id: str) -> None:
        now = self.clock.now()
        resting = self._resting.pop(client_order_id, None)
        if resting is None:
            self._emit(OrderCancelRejected(client_order_id, now, "not working at the broker"))
            return
        self._emit(OrderCancelled(client_order_id, now, "cancelled on request"))

    def modify(
        self,
        client_order_id: str,
        *,
        quantity: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> None:
        now = self.clock.now()
        resting = self._resting.get(client_order_id)
        if resting is None:
            self._emit(OrderModifyRejected(client_order_id, now, "not working at the broker"))
            return
        order = resting.order
        if quantity is not None and quantity <= order.filled_quantity:
            reason = f"quantity {quantity} not above the {order.filled_quantity} filled"
            self._emit(OrderModifyRejected(client_order_id, now, reason))
            return
        replaced = OrderReplaced(client_order_id, now, quantity, limit_price, stop_price)
        requested = OrderModifyRequested(client_order_id, now, quantity, limit_price, stop_price)
        resting.order = order.apply(requested).apply(replaced)
        self._emit(replaced)

    def open_orders(self) -> Sequence[Order]:
        return [resting.order for resting in self._resting.values()]

    def positions(self) -> Mapping[str, Decimal]:
        return {s: q for s, q in sorted(self._holdings.items()) if q != ZERO}

    def account(self) -> AccountSnapshot:
        return AccountSnapshot(self._account, self.clock.now(), self._cash, self.positions())

    def executions_since(self, since: datetime | None = None) -> Sequence[Fill]:
        if since is None:
            return list(self._executions)
        return [fill for fill in self._executions if fill.filled_at >= since]

    # ---- market data (drives the simulation) -------------------------------------------------
    def deposit(self, amount: Decimal) -> None:
        """Fund the paper account (currency; a negative amount withdraws)."""
        self._cash += amount

    @property
    def cash(self) -> Decimal:
        """The account's cash (currency)."""
        return self._cash

    def book_external(self, fill: Fill) -> None:
        """A trade done outside the paper venue (a manual entry) that the account now holds."""
        self._seen.add(str(fill.client_order_id))
        self._book(fill)

    def last_price(self, symbol: str) -> Decimal | None:
        return self._last.get(symbol)

    def on_price(self, symbol: str, price: Decimal) -> None:
        """A trade at ``price`` now: queued market orders of ``symbol`` fill at it if open."""
        self.expire_due()
        self._last[symbol] = price
        if self._is_open(self.clock.now()):
            for resting in self._matching(symbol):
                if resting.order.order_type is OrderType.MARKET:
                    self._fill(resting, price, slipped=True)

    def on_bar(self, symbol: str, bar: Bar) -> None:
        """A bar of ``symbol`` stamped at the clock's time; resting orders match against it."""
        self.expire_due()
        now = self.clock.now()
        if self._is_open(now):
            for resting in self._matching(symbol):
                self._match_bar(resting, bar)
        self._last[symbol] = bar.close

    def expire_due(self) -> None:
        """Expire the DAY orders whose session has closed by the clock's time."""
        now = self.clock.now()
        for oid, resting in list(self._resting.items()):
            if resting.expires_at is not None and now >= resting.expires_at:
                del self._resting[oid]
                self._emit(OrderExpired(oid, now, "DAY order not filled by the close"))

    # ---- persistence -------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """The venue's book without its executions, as JSON-safe values (decimals as text)."""
        return {
            "version": STATE_VERSION,
            "cash": str(self.cash),
            "positions": {s: str(q) for s, q in self.positions().items()},
            "orders": [
                {
                    **_order_state(r.order),
                    "expires_at": None if r.expires_at is None else r.expires_at.isoformat(),
                }
                for r in self._resting.values()
            ],
            # ids that ended without a fill (rejected, cancelled, expired): still never reusable
            "unfilled": sorted(self._seen - self._filled - set(self._resting)),
            "venue_seq": self._venue_seq,
            "exec_seq": self._exec_seq,
            "last": {s: str(p) for s, p in sorted(self._last.items())},
            "clock": self.clock.now().isoformat(),
        }

    def unsaved_executions(self) -> list[Fill]:
        """Executions since the last :meth:`mark_saved` (oldest first): what to append."""
        return self._executions[self._saved_executions :]

    def mark_saved(self) -> None:
        """Every execution so far is stored."""
        self._saved_executions = len(self._executions)

    def restore(self, state: Mapping[str, Any], executions: Iterable[Fill] = ()) -> None:
        """Become the broker that :meth:`state` and its stored ``executions`` describe."""
        self._executions = list(executions)
        self._filled = {str(f.client_order_id) for f in self._executions}
        self._saved_executions = len(self._executions)
        self._cash = Decimal(state["cash"])
        self._holdings = {s: Decimal(q) for s, q in state["positions"].items()}
        self._resting = {}
        for raw in state["orders"]:
            expires = raw.get("expires_at")
            order = _order_from(raw)
            self._resting[order.client_order_id] = _Resting(
                order, None if expires is None else datetime.fromisoformat(expires)
            )
        self._seen = set(state.get("unfilled", ())) | set(self._resting) | self._filled
        self._venue_seq = int(state.get("venue_seq", 0))
        self._exec_seq = int(state.get("exec_seq", len(self._executions)))
        self._last = {s: Decimal(p) for s, p in state.get("last", {}).items()}

    # ---- internals ---------------------------------------------------------------------------
    def _matching(self, symbol: str) -> list[_Resting]:
        return [r for r in self._resting.values() if r.order.symbol == symbol]

    def _match_bar(self, resting: _Resting, bar: Bar) -> None:
        order = resting.order
        o, h, lo = float(bar.open), float(bar.high), float(bar.low)
        kind = order.order_type
        if kind is OrderType.MARKET:
            self._fill(resting, bar.open, slipped=True)
            return
        if kind is OrderType.STOP_LIMIT:
            assert order.stop_price is not None
            assert order.limit_price is not None
            price = stop_limit_price(
                order.side,
                float(order.stop_price),
                float(order.limit_price),
                open_=o,
                high=h,
                low=lo,
            )
        else:
            level = order.limit_price if kind is OrderType.LIMIT else order.stop_price
            assert level is not None
            price = trigger_price(order.side, kind, float(level), open_=o, high=h, low=lo)
        if price is not None:
            self._fill(resting, Decimal(repr(price)), slipped=kind is OrderType.STOP)

    def _fill(self, resting: _Resting, raw: Decimal, *, slipped: bool) -> None:
        order = resting.order
        oid, now = order.client_order_id, self.clock.now()
        quantity = order.remaining_quantity
        price = raw
        if slipped:
            price = self.costs.decimal_fill_price(order.side, raw)
        price = price.quantize(self.tick, ROUND_HALF_EVEN)
        commission = self.costs.decimal_commission(quantity, price).quantize(
            self.tick, ROUND_HALF_EVEN
        )
        if order.side is Side.BUY and quantity * price + commission > self._cash:
            del self._resting[oid]
            self._emit(OrderCancelled(oid, now, "insufficient cash at fill"))
            return
        self._exec_seq += 1
        fill = Fill(
            fill_id=f"{self._account}-x{self._exec_seq}",
            client_order_id=oid,
            symbol=order.symbol,
            side=order.side,
            quantity=quantity,
            price=price,
            commission=commission,
            filled_at=now,
            account=self._account,
            strategy=order.strategy,
        )
        self._book(fill)
        resting.order = order.apply_fill(fill)
        if not resting.order.status.is_working:
            del self._resting[oid]
        self._emit(OrderFilled(oid, now, fill))

    def _book(self, fill: Fill) -> None:
        self._executions.append(fill)
        self._filled.add(str(fill.client_order_id))
        self._cash += fill.cash_change
        held = self._holdings.get(fill.symbol, ZERO) + fill.side.sign * fill.quantity
        self._holdings[fill.symbol] = held

    def _reserved_sells(self, symbol: str) -> Decimal:
        return sum(
            (
                r.order.remaining_quantity
                for r in self._resting.values()
                if r.order.symbol == symbol and r.order.side is Side.SELL
            ),
            ZERO,
        )

    def _session(self, now: datetime) -> tuple[date, tuple[datetime, datetime] | None]:
        """The exchange-local date of ``now`` and its session hours (cached per date: the
        calendar lookup costs far more than a fill)."""
        assert self.hours is not None
        day = now.astimezone(self._zone).date()
        if day not in self._sessions:
            self._sessions[day] = self.hours.trading_hours(day)
        return day, self._sessions[day]

    def _is_open(self, now: datetime) -> bool:
        if self.hours is None:
            return True
        hours = self._session(now)[1]
        return hours is not None and hours[0] <= now < hours[1]

    def _day_close(self, now: datetime) -> datetime | None:
        """Close of the session a DAY order sent ``now`` lives in (today's, or the next one's)."""
        if self.hours is None:
            return None
        day, hours = self._session(now)
        if hours is None or now >= hours[1]:
            hours = self.hours.trading_hours(self.hours.next_session(day))
        return None if hours is None else hours[1]

    def _emit(self, event: OrderEvent) -> None:
        for listener in self._listeners:
            listener(event)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _number(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _order_state(order: Order) -> dict[str, Any]:
    return {
        "client_order_id": order.client_order_id,
        "symbol": order.symbol,
        "side": str(order.side),
        "quantity": str(order.quantity),
        "order_type": str(order.order_type),
        "time_in_force": str(order.time_in_force),
        "limit_price": _text(order.limit_price),
        "stop_price": _text(order.stop_price),
        "strategy": order.strategy,
        "tag": order.tag,
        "account": order.account,
        "status": str(order.status),
        "filled_quantity": str(order.filled_quantity),
        "average_fill_price": _text(order.average_fill_price),
        "fill_ids": list(order.fill_ids),
        "venue_order_id": order.venue_order_id,
        "created_at": None if order.created_at is None else order.created_at.isoformat(),
    }


def _order_from(raw: Mapping[str, Any]) -> Order:
    created = raw.get("created_at")
    return Order(
        client_order_id=raw["client_order_id"],
        symbol=raw["symbol"],
        side=Side(raw["side"]),
        quantity=Decimal(raw["quantity"]),
        order_type=OrderType(raw["order_type"]),
        time_in_force=TimeInForce(raw["time_in_force"]),
        limit_price=_number(raw.get("limit_price")),
        stop_price=_number(raw.get("stop_price")),
        strategy=raw.get("strategy", ""),
        tag=raw.get("tag", ""),
        account=raw.get("account", ""),
        created_at=None if created is None else datetime.fromisoformat(created),
        status=OrderStatus(raw["status"]),
        filled_quantity=Decimal(raw["filled_quantity"]),
        average_fill_price=_number(raw.get("average_fill_price")),
        fill_ids=tuple(raw.get("fill_ids", ())),
        venue_order_id=raw.get("venue_order_id", ""),
    )


__all__ = ["MONEY_TICK", "PAPER_COSTS", "Bar", "MarketHours", "PaperBroker"]
