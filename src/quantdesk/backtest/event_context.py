"""The context a signal strategy trades through in the event-driven engine, and its matching.

:class:`EventContext` implements ``StrategyContext`` on a panel: cash, positions, the average
cost of each long holding, the order intake and the fill rules the engine loop of
:mod:`quantdesk.backtest.event` drives (the rules are stated there).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import numpy as np
import pandas as pd

from quantdesk.backtest.costs import CostModel, FillTiming
from quantdesk.backtest.orders import (
    ClientOrderIds,
    Fill,
    Order,
    OrderSide,
    OrderType,
    TimeInForce,
    attached_exit,
    participation_cap,
    trigger_price,
)
from quantdesk.core.clock import SimulatedClock
from quantdesk.core.errors import NotFoundError
from quantdesk.data.panel import Panel

_NS_PER_DAY = 86_400 * 10**9


@dataclass(slots=True)
class _Working:
    """Engine bookkeeping for one live order (mutable on purpose: it is never shown outside)."""

    order: Order
    column: int
    buy: bool
    remaining: float
    level: float
    bar: int
    decision_equity: float
    day: int = -1  # session (days since epoch) of its first fillable bar, for DAY orders


class EventContext:
    """What a signal strategy sees on each bar (implements ``StrategyContext``).

    Quantities are shares, prices and cash in currency, targets fractions of equity.
    """

    def __init__(
        self,
        panel: Panel,
        *,
        costs: CostModel,
        initial_cash: float,
        clock: SimulatedClock,
        fill_timing: FillTiming,
        strategy_name: str,
        participation: float | None,
        allow_short: bool,
        fractional: bool,
    ) -> None:
        self._panel = panel
        self.price_field, prices = panel.prices()
        self._px = pd.DataFrame(prices).ffill().to_numpy()
        self._open, self._high, self._low = _adjusted_ohlc(panel, self.price_field, self._px)
        self._volume = panel.fields.get("volume")
        self._days = panel.dates.astype("datetime64[ns]").view(np.int64) // _NS_PER_DAY
        self._costs = costs
        self._clock = clock
        self._close_fills = fill_timing is FillTiming.CLOSE
        self._participation = participation
        self._allow_short = allow_short
        self.fractional = fractional
        self._ids = ClientOrderIds(strategy_name)
        self._strategy = strategy_name
        self._columns = {symbol: j for j, symbol in enumerate(panel.symbols)}
        self._symbols = panel.symbols
        self._i = 0
        self._last = len(panel.dates) - 1
        self._cash = float(initial_cash)
        self._positions = [0.0] * len(panel.symbols)
        # average cost of each long holding (NaN when not long), as the vectorised kernel keeps it
        self._entry = np.full(len(panel.symbols), np.nan)
        self._new: list[_Working] = []
        self._working: list[_Working] = []
        self._exits: dict[int, tuple[float | None, float | None]] = {}
        self._pending_exits: dict[str, tuple[float | None, float | None]] = {}
        self.orders: dict[str, Order] = {}
        self.fills: list[Fill] = []
        self._fill_rows: list[tuple[int, int, bool, float, float, float, str]] = []
        self._order_rows: list[tuple[int, int, bool, float, float, str]] = []
        self._cash_log: dict[int, float] = {}
        self._position_log: list[tuple[int, int, float]] = []
        self._pre_trade_equity: dict[int, float] = {}
        self._costs_paid: dict[int, float] = {}
        self._equity_key = (-1, -1)
        self._equity_value = self._cash

    # ---- StrategyContext --------------------------------------------------------------------
    @property
    def index(self) -> int:
        return self._i

    @property
    def time(self) -> datetime:
        return self._clock.now()

    @property
    def symbols(self) -> tuple[str, ...]:
        return self._symbols

    @property
    def is_last_bar(self) -> bool:
        """True on the final bar, where orders can no longer fill."""
        return self._i == self._last

    @property
    def cash(self) -> float:
        return self._cash

    @property
    def equity(self) -> float:
        key = (self._i, len(self._fill_rows))
        if key != self._equity_key:
            row = self._px[self._i]
            held = sum(q * row[j] for j, q in enumerate(self._positions) if q != 0.0)
            self._equity_key, self._equity_value = key, self._cash + held
        return self._equity_value

    def history(self, field: str = "close", bars: int | None = None) -> np.ndarray:
        values = self._panel[field]
        start = 0 if bars is None else max(0, self._i + 1 - bars)
        return values[start : self._i + 1]

    def price(self, symbol: str) -> float:
        return float(self._px[self._i, self._column(symbol)])

    def position(self, symbol: str) -> float:
        try:
            return self._positions[self._columns[symbol]]
        except KeyError:
            return self._positions[self._column(symbol)]

    def average_cost(self, symbol: str) -> float:
        """Average fill price (after slippage, before commission) of the long holding in
        ``symbol`` since it was last flat; NaN when it is not long."""
        return float(self._entry[self._column(symbol)])

    def buy(
        self,
        symbol: str,
        quantity: float,
        *,
        limit_price: float | None = None,
        stop_price: float | None = None,
        stop_loss: float | None = None,
        take_profit: float | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        tag: str = "",
    ) -> str:
        """Send a buy of ``quantity`` shares; ``stop_loss``/``take_profit`` attach exit levels."""
        return self._submit(
            OrderSide.BUY,
            symbol,
            quantity,
            limit_price=limit_price,
            stop_price=stop_price,
            stop_loss=stop_loss,
            take_profit=take_profit,
            time_in_force=time_in_force,
            tag=tag,
        )

    def sell(
        self,
        symbol: str,
        quantity: float,
        *,
        limit_price: float | None = None,
        stop_price: float | None = None,
        stop_loss: float | None = None,
        take_profit: float | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        tag: str = "",
    ) -> str:
        """Send a sell of ``quantity`` shares (capped at the holding unless shorting is on)."""
        return self._submit(
            OrderSide.SELL,
            symbol,
            quantity,
            limit_price=limit_price,
            stop_price=stop_price,
            stop_loss=stop_loss,
            take_profit=take_profit,
            time_in_force=time_in_force,
            tag=tag,
        )

    def cancel(self, client_order_id: str) -> bool:
        """Cancel a working order; False if it is unknown or already done."""
        for queue in (self._new, self._working):
            for k, item in enumerate(queue):
                if item.order.client_order_id == client_order_id:
                    self._finish(queue.pop(k), "cancelled by strategy", cancel=True)
                    return True
        return False

    def order_target_percent(self, symbol: str, target: float) -> str | None:
        """Trade toward ``target`` (fraction of current equity) at the current price.

        Returns None when nothing needs trading or the trade is below the cost model's thresholds.
        """
        j = self._column(symbol)
        price = float(self._px[self._i, j])
        if not price > 0.0:
            return None
        delta = target * self.equity / price - self._positions[j]
        return self._order_delta(symbol, delta, price, closes=target == 0.0)

    def close_position(self, symbol: str) -> str | None:
        held = self._positions[self._column(symbol)]
        if held == 0.0:
            return None
        side = OrderSide.SELL if held > 0 else OrderSide.BUY
        return self._submit(side, symbol, abs(held))

    # ---- order intake -----------------------------------------------------------------------
    def _column(self, symbol: str) -> int:
        try:
            return self._columns[symbol]
        except KeyError:
            raise NotFoundError(f"symbol {symbol!r} is not in the backtest panel") from None

    def _order_delta(self, symbol: str, delta: float, price: float, closes: bool) -> str | None:
        if delta == 0.0:
            return None
        if not closes and self._costs.is_below_threshold(delta * price, self.equity):
            return None
        side = OrderSide.BUY if delta > 0 else OrderSide.SELL
        return self._submit(side, symbol, abs(delta))

    def _submit(
        self,
        side: OrderSide,
        symbol: str,
        quantity: float,
        *,
        limit_price: float | None = None,
        stop_price: float | None = None,
        stop_loss: float | None = None,
        take_profit: float | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        tag: str = "",
    ) -> str:
        j = self._column(symbol)
        order_type = (
            OrderType.LIMIT
            if limit_price is not None
            else OrderType.STOP
            if stop_price is not None
            else OrderType.MARKET
        )
        order = Order(
            client_order_id=self._ids.next(),
            symbol=symbol,
            side=side,
            quantity=_exact(quantity),
            order_type=order_type,
            time_in_force=TimeInForce(time_in_force),
            limit_price=_decimal(limit_price),
            stop_price=_decimal(stop_price),
            stop_loss=_decimal(stop_loss),
            take_profit=_decimal(take_profit),
            strategy=self._strategy,
            tag=tag,
            created_at=self._clock.now(),
        ).submit()
        level = limit_price if limit_price is not None else stop_price
        item = _Working(
            order,
            j,
            side is OrderSide.BUY,
            float(quantity),
            np.nan if level is None else level,
            self._i,
            self.equity,
        )
        if stop_loss is not None or take_profit is not None:
            self._pending_exits[order.client_order_id] = (stop_loss, take_profit)
        self.orders[order.client_order_id] = order
        self._order_rows.append(
            (
                self._i,
                j,
                item.buy,
                float(quantity),
                _decision_price(self._px[self._i, j], level),
                order.client_order_id,
            )
        )
        self._new.append(item)
        return order.client_order_id

    # ---- matching (called by the engine loop) -----------------------------------------------
    def _after_bar(self) -> None:
        """Fill this bar's market orders at the close (CLOSE timing) and park the rest."""
        new = self._new[:]
        self._new.clear()  # cleared in place: the engine loop holds a reference
        if self._i == self._last:
            for item in new:
                self._finish(item, "end of data: no later bar to fill on")
            return
        for item in new:
            if self._close_fills and item.order.order_type is OrderType.MARKET:
                self._execute(item, float(self._px[self._i, item.column]), slipped=True)
                if item.remaining > 0.0 and self._participation is not None:
                    self._working.append(item)
            else:
                self._working.append(item)

    def _match_working(self) -> None:
        i = self._i
        still: list[_Working] = []
        for item in self._working:
            if item.order.time_in_force is TimeInForce.DAY:
                if item.day < 0:
                    item.day = int(self._days[i])
                elif self._days[i] != item.day:
                    self._finish(item, "DAY order not filled in its session")
                    continue
            j = item.column
            opening = float(self._open[i, j])
            if not opening > 0.0:  # no bar for this symbol: the order waits
                still.append(item)
                continue
            kind = item.order.order_type
            if kind is OrderType.MARKET:
                price: float | None = opening
            else:
                side = OrderSide.BUY if item.buy else OrderSide.SELL
                price = trigger_price(
                    side,
                    kind,
                    item.level,
                    open_=opening,
                    high=float(self._high[i, j]),
                    low=float(self._low[i, j]),
                )
            if price is not None:
                self._execute(item, price, slipped=kind is not OrderType.LIMIT)
            if item.remaining > 0.0 and item.order.status.is_working:
                still.append(item)
        self._working[:] = still

    def _check_exits(self) -> None:
        i = self._i
        for j, (stop_loss, take_profit) in list(self._exits.items()):
            held = self._positions[j]
            if held == 0.0:
                del self._exits[j]
                continue
            opening = float(self._open[i, j])
            if not opening > 0.0:
                continue
            hit = attached_exit(
                held > 0,
                stop_loss,
                take_profit,
                open_=opening,
                high=float(self._high[i, j]),
                low=float(self._low[i, j]),
            )
            if hit is None:
                continue
            level, reason = hit
            is_stop = reason == "stop_loss"
            side = OrderSide.SELL if held > 0 else OrderSide.BUY
            oid = self._submit(
                side,
                self._symbols[j],
                abs(held),
                limit_price=None if is_stop else level,
                stop_price=level if is_stop else None,
                tag=str(reason),
            )
            item = self._new.pop()
            self._execute(item, level, slipped=is_stop)
            del self._exits[j]
            assert item.order.client_order_id == oid

    def _execute(self, item: _Working, raw_price: float, slipped: bool) -> None:
        """Fill as much of ``item`` as cash, holdings and volume allow at ``raw_price``."""
        i, j = self._i, item.column
        side = OrderSide.BUY if item.buy else OrderSide.SELL
        price = self._costs.fill_price(side, raw_price) if slipped else raw_price
        quantity = item.remaining
        if self._participation is not None and self._volume is not None:
            quantity = participation_cap(quantity, float(self._volume[i, j]), self._participation)
        held = self._positions[j]
        commission = self._costs.commission(quantity, price)
        trimmed = False
        if item.buy and quantity * price + commission > self._cash:
            quantity = self._costs.affordable_shares(self._cash, price)
            quantity = quantity if self.fractional else float(np.floor(quantity))
            commission = self._costs.commission(quantity, price)
            trimmed = self.fractional
        elif not item.buy and not self._allow_short:
            quantity = min(quantity, max(held, 0.0))
            commission = self._costs.commission(quantity, price)
            if self._cash + (quantity * price - commission) < 0.0:
                quantity = 0.0  # the flat fee would exceed both the proceeds and the cash
        if not quantity > 0.0:
            reason = "insufficient cash" if item.buy else "nothing to sell (shorting is off)"
            self._finish(item, reason, reject=item.order.filled_quantity == 0)
            return
        self._pre_trade_equity.setdefault(i, item.decision_equity)
        if trimmed:
            # the trimmed buy spends exactly the cash left; float rounding goes to the fee
            commission = self._cash - quantity * price
            self._cash = 0.0
            self._positions[j] = held + quantity
        elif item.buy:
            self._cash = self._cash - (quantity * price + commission)
            self._positions[j] = held + quantity
        else:
            self._cash = self._cash + (quantity * price - commission)
            self._positions[j] = held - quantity
        self._track_entry(j, held, quantity if item.buy else -quantity, price)
        self._cash_log[i] = self._cash
        self._position_log.append((i, j, self._positions[j]))
        slippage = quantity * abs(price - raw_price)
        self._costs_paid[i] = self._costs_paid.get(i, 0.0) + commission + slippage
        self._record_fill(item, quantity, price, commission)
        item.remaining -= quantity
        if item.order.status.is_working and item.remaining > 0.0 and self._participation is None:
            self._finish(item, "trimmed: cash or holding covered only part of the order")

    def _track_entry(self, j: int, before: float, quantity: float, price: float) -> None:
        """Keep the average cost (``nb._track_entry_nb``'s rule and arithmetic, for parity)."""
        after = self._positions[j]
        if not after > 0.0:
            self._entry[j] = np.nan
        elif not before > 0.0:
            self._entry[j] = price
        elif quantity > 0.0:
            self._entry[j] = (before * float(self._entry[j]) + quantity * price) / after

    def _record_fill(
        self, item: _Working, quantity: float, price: float, commission: float
    ) -> None:
        order = item.order
        fill = Fill(
            fill_id=f"{order.client_order_id}-f{len(order.fill_ids) + 1}",
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=order.side,
            quantity=_exact(quantity),
            price=_exact(price),
            commission=_exact(commission),
            filled_at=self._clock.now(),
        )
        item.order = order.apply_fill(fill)
        self.orders[order.client_order_id] = item.order
        self.fills.append(fill)
        self._fill_rows.append(
            (self._i, item.column, item.buy, quantity, price, commission, order.client_order_id)
        )
        levels = self._pending_exits.pop(order.client_order_id, None)
        if levels is not None:
            self._exits[item.column] = levels

    def _finish(
        self, item: _Working, reason: str, *, cancel: bool = False, reject: bool = False
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
        self.orders[order.client_order_id] = order
        self._pending_exits.pop(order.client_order_id, None)

    def _expire_all(self) -> None:
        for item in [*self._new, *self._working]:
            self._finish(item, "end of data: still working")
        self._new.clear()
        self._working.clear()


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else _exact(value)


def _exact(value: float) -> Decimal:
    # the shortest repr round-trips to the same float and keeps Decimal sums exact at 28 digits
    return Decimal(repr(float(value)))


def _decision_price(price: float, level: float | None) -> float:
    return float(price) if level is None else float(level)


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


__all__ = ["EventContext"]
