"""The simulated broker of the event engine: matching on the panel's bars.

It keeps the working orders, fills them by the rules of :mod:`quantdesk.execution.matching`
(market orders at the decision bar's close or the next open, limit/stop orders on a later bar's
open/high/low, attached stop-loss / take-profit exits) and books each fill into the
:class:`~quantdesk.backtest.event_ledger.ArrayLedger` and the
:class:`~quantdesk.backtest.event_recorder.Recorder`. Like a cash account at a real broker it
trims a buy to the cash available and, with shorting off, a sell to the shares held.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from quantdesk.backtest.event_ledger import ArrayLedger
from quantdesk.backtest.event_recorder import Recorder
from quantdesk.core.clock import SimulatedClock
from quantdesk.core.enums import Side
from quantdesk.data.panel import Panel
from quantdesk.execution.costs import CostModel, FillTiming
from quantdesk.execution.events import Fill
from quantdesk.execution.matching import attached_exit, participation_cap, trigger_price
from quantdesk.execution.orders import Order, OrderType, TimeInForce

_NS_PER_DAY = 86_400 * 10**9


@dataclass(slots=True)
class Working:
    """Broker bookkeeping for one live order (mutable on purpose: it is never shown outside)."""

    order: Order
    column: int
    buy: bool
    remaining: float
    level: float
    bar: int
    decision_equity: float
    day: int = -1  # session (days since epoch) of its first fillable bar, for DAY orders


class SimulatedBroker:
    """Fills orders on the panel's bars; ``i`` is the current row (set by the engine loop)."""

    def __init__(
        self,
        panel: Panel,
        price_field: str,
        marks: np.ndarray,
        ledger: ArrayLedger,
        recorder: Recorder,
        *,
        costs: CostModel,
        clock: SimulatedClock,
        fill_timing: FillTiming,
        participation: float | None,
        allow_short: bool,
        fractional: bool,
    ) -> None:
        self.marks = marks
        self.open, self.high, self.low = _adjusted_ohlc(panel, price_field, marks)
        self.volume = panel.fields.get("volume")
        self.days = panel.dates.astype("datetime64[ns]").view(np.int64) // _NS_PER_DAY
        self.symbols = panel.symbols
        self.ledger = ledger
        self.recorder = recorder
        self.costs = costs
        self.clock = clock
        self.close_fills = fill_timing is FillTiming.CLOSE
        self.participation = participation
        self.allow_short = allow_short
        self.fractional = fractional
        self.i = 0
        self.last = len(panel.dates) - 1
        # the queues are mutated in place: the engine loop holds references to them
        self.new: list[Working] = []
        self.working: list[Working] = []
        self.exits: dict[int, tuple[float | None, float | None]] = {}
        self.pending_exits: dict[str, tuple[float | None, float | None]] = {}

    # ---- requests ----------------------------------------------------------------------------
    def submit(self, item: Working, exits: tuple[float | None, float | None] | None) -> None:
        if exits is not None:
            self.pending_exits[item.order.client_order_id] = exits
        self.new.append(item)

    def cancel(self, client_order_id: str) -> bool:
        """Cancel a working order; False if it is unknown or already done."""
        for queue in (self.new, self.working):
            for k, item in enumerate(queue):
                if item.order.client_order_id == client_order_id:
                    self._finish(queue.pop(k), "cancelled by strategy", cancel=True)
                    return True
        return False

    # ---- matching (called by the engine loop) -----------------------------------------------
    def after_bar(self) -> None:
        """Fill this bar's market orders at the close (CLOSE timing) and park the rest."""
        new = self.new[:]
        self.new.clear()
        if self.i == self.last:
            for item in new:
                self._finish(item, "end of data: no later bar to fill on")
            return
        for item in new:
            if self.close_fills and item.order.order_type is OrderType.MARKET:
                self.execute(item, float(self.marks[self.i, item.column]), slipped=True)
                if item.remaining > 0.0 and self.participation is not None:
                    self.working.append(item)
            else:
                self.working.append(item)

    def match_working(self) -> None:
        i = self.i
        still: list[Working] = []
        for item in self.working:
            if item.order.time_in_force is TimeInForce.DAY:
                if item.day < 0:
                    item.day = int(self.days[i])
                elif self.days[i] != item.day:
                    self._finish(item, "DAY order not filled in its session")
                    continue
            j = item.column
            opening = float(self.open[i, j])
            if not opening > 0.0:  # no bar for this symbol: the order waits
                still.append(item)
                continue
            kind = item.order.order_type
            if kind is OrderType.MARKET:
                price: float | None = opening
            else:
                side = Side.BUY if item.buy else Side.SELL
                price = trigger_price(
                    side,
                    kind,
                    item.level,
                    open_=opening,
                    high=float(self.high[i, j]),
                    low=float(self.low[i, j]),
                )
            if price is not None:
                self.execute(item, price, slipped=kind is not OrderType.LIMIT)
            if item.remaining > 0.0 and item.order.status.is_working:
                still.append(item)
        self.working[:] = still

    def exit_hit(self, j: int) -> tuple[float, bool] | None:
        """The attached exit of column ``j`` hit on this bar: (level, is the stop-loss)."""
        stop_loss, take_profit = self.exits[j]
        held = self.ledger.positions[j]
        if held == 0.0:
            del self.exits[j]
            return None
        i = self.i
        opening = float(self.open[i, j])
        if not opening > 0.0:
            return None
        hit = attached_exit(
            held > 0,
            stop_loss,
            take_profit,
            open_=opening,
            high=float(self.high[i, j]),
            low=float(self.low[i, j]),
        )
        if hit is None:
            return None
        level, reason = hit
        return level, reason == "stop_loss"

    def execute(self, item: Working, raw_price: float, slipped: bool) -> None:
        """Fill as much of ``item`` as cash, holdings and volume allow at ``raw_price``."""
        i, j = self.i, item.column
        costs, ledger = self.costs, self.ledger
        side = Side.BUY if item.buy else Side.SELL
        price = costs.fill_price(side, raw_price) if slipped else raw_price
        quantity = item.remaining
        if self.participation is not None and self.volume is not None:
            quantity = participation_cap(quantity, float(self.volume[i, j]), self.participation)
        held = ledger.positions[j]
        commission = costs.commission(quantity, price)
        trimmed = False
        if item.buy and quantity * price + commission > ledger.cash:
            quantity = costs.affordable_shares(ledger.cash, price)
            quantity = quantity if self.fractional else float(np.floor(quantity))
            commission = costs.commission(quantity, price)
            trimmed = self.fractional
        elif not item.buy and not self.allow_short:
            quantity = min(quantity, max(held, 0.0))
            commission = costs.commission(quantity, price)
            if ledger.cash + (quantity * price - commission) < 0.0:
                quantity = 0.0  # the flat fee would exceed both the proceeds and the cash
        if not quantity > 0.0:
            reason = "insufficient cash" if item.buy else "nothing to sell (shorting is off)"
            self._finish(item, reason, reject=item.order.filled_quantity == 0)
            return
        self.recorder.pre_trade_equity.setdefault(i, item.decision_equity)
        if trimmed:
            commission = ledger.spend_all(i, j, quantity, price)
        else:
            ledger.trade(i, j, item.buy, quantity, price, commission)
        self._record_fill(item, quantity, price, commission, quantity * abs(price - raw_price))
        item.remaining -= quantity
        if item.order.status.is_working and item.remaining > 0.0 and self.participation is None:
            self._finish(item, "trimmed: cash or holding covered only part of the order")

    def expire_all(self) -> None:
        for item in [*self.new, *self.working]:
            self._finish(item, "end of data: still working")
        self.new.clear()
        self.working.clear()

    # ---- internals ---------------------------------------------------------------------------
    def _record_fill(
        self, item: Working, quantity: float, price: float, commission: float, slippage: float
    ) -> None:
        order = item.order
        oid = order.client_order_id
        fill = Fill(
            fill_id=f"{oid}-f{len(order.fill_ids) + 1}",
            client_order_id=oid,
            symbol=order.symbol,
            side=order.side,
            quantity=exact(quantity),
            price=exact(price),
            commission=exact(commission),
            filled_at=self.clock.now(),
            strategy=order.strategy,
        )
        item.order = order.apply_fill(fill)
        row = (self.i, item.column, item.buy, quantity, price, commission, oid)
        self.recorder.filled(item.order, fill, row, commission + slippage)
        levels = self.pending_exits.pop(oid, None)
        if levels is not None:
            self.exits[item.column] = levels

    def _finish(
        self, item: Working, reason: str, *, cancel: bool = False, reject: bool = False
    ) -> None:
        order = item.order
        if not order.status.is_working:
            return
        if reject:
            order = order.reject(reason)
        elif cancel or order.filled_quantity > 0:
            order = order.cancel(reason)
        else:
            order = order.expire(reason)
        item.order = order
        self.recorder.order_changed(order)
        self.pending_exits.pop(order.client_order_id, None)


def exact(value: float) -> Decimal:
    """``value`` as a Decimal; the shortest repr round-trips to the same float and keeps Decimal
    sums exact at 28 digits."""
    return Decimal(repr(float(value)))


def _adjusted_ohlc(
    panel: Panel, price_field: str, valuation: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Open/high/low on the valuation basis; missing fields fall back to the valuation price."""
    adjust = price_field == "adj_close" and "close" in panel.fields
    out = []
    for name in ("open", "high", "low"):
        values = panel.fields.get(name)
        if values is None:
            out.append(valuation)
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            # same operation order as the vectorised engine, so fills round alike
            scaled = values * panel["adj_close"] / panel["close"] if adjust else values
            # a missing bar trades at the last price, like the vectorised engine
            out.append(np.where(scaled > 0, scaled, valuation))
    return out[0], out[1], out[2]


__all__ = ["SimulatedBroker", "Working", "exact"]
