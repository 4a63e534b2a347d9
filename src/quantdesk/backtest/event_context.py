"""The event engine's order manager and the thin context a signal strategy trades through.

:class:`BacktestOrders` is the engine's order intake: it names the order (deterministic client
order ids from the strategy name), builds the :class:`~quantdesk.execution.orders.Order`, records
it and hands it to the :class:`~quantdesk.backtest.event_broker.SimulatedBroker`.
:class:`EventStrategyContext` implements the whole ``StrategyContext`` protocol by reading the
:class:`~quantdesk.backtest.event_ledger.ArrayLedger` and sending through ``BacktestOrders``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import numpy as np

from quantdesk.backtest.event_broker import SimulatedBroker, Working, exact
from quantdesk.backtest.event_ledger import ArrayLedger
from quantdesk.backtest.event_recorder import Recorder
from quantdesk.core.clock import SimulatedClock
from quantdesk.core.enums import Side
from quantdesk.core.errors import NotFoundError
from quantdesk.core.ids import ClientOrderIds
from quantdesk.data.panel import Panel
from quantdesk.execution.costs import CostModel
from quantdesk.execution.orders import Order, OrderType, TimeInForce


class BacktestOrders:
    """Order intake of one event-driven run (quantities in shares, prices in currency)."""

    def __init__(
        self,
        broker: SimulatedBroker,
        ledger: ArrayLedger,
        recorder: Recorder,
        clock: SimulatedClock,
        strategy_name: str,
        costs: CostModel,
    ) -> None:
        self.broker = broker
        self.ledger = ledger
        self.recorder = recorder
        self.clock = clock
        self.costs = costs
        self.strategy = strategy_name
        self.ids = ClientOrderIds(strategy_name)
        self.columns = {symbol: j for j, symbol in enumerate(broker.symbols)}

    def column(self, symbol: str) -> int:
        try:
            return self.columns[symbol]
        except KeyError:
            raise NotFoundError(f"symbol {symbol!r} is not in the backtest panel") from None

    def submit(
        self,
        side: Side,
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
        j = self.column(symbol)
        i = self.broker.i
        order_type = (
            OrderType.LIMIT
            if limit_price is not None
            else OrderType.STOP
            if stop_price is not None
            else OrderType.MARKET
        )
        order = Order(
            client_order_id=self.ids.next(),
            symbol=symbol,
            side=side,
            quantity=exact(quantity),
            order_type=order_type,
            time_in_force=TimeInForce(time_in_force),
            limit_price=_decimal(limit_price),
            stop_price=_decimal(stop_price),
            stop_loss=_decimal(stop_loss),
            take_profit=_decimal(take_profit),
            strategy=self.strategy,
            tag=tag,
            created_at=self.clock.now(),
        ).submit()
        level = limit_price if limit_price is not None else stop_price
        buy = side is Side.BUY
        item = Working(
            order,
            j,
            buy,
            float(quantity),
            np.nan if level is None else level,
            i,
            self.ledger.equity(i),
        )
        decision = float(self.ledger.marks[i, j]) if level is None else float(level)
        self.recorder.order_sent(
            order, (i, j, buy, float(quantity), decision, order.client_order_id)
        )
        has_exits = stop_loss is not None or take_profit is not None
        self.broker.submit(item, (stop_loss, take_profit) if has_exits else None)
        return order.client_order_id

    def order_delta(self, symbol: str, delta: float, price: float, closes: bool) -> str | None:
        """Trade ``delta`` shares unless it is zero or under the cost model's thresholds (a
        full close is never skipped)."""
        if delta == 0.0:
            return None
        if not closes and self.costs.is_below_threshold(
            delta * price, self.ledger.equity(self.broker.i)
        ):
            return None
        side = Side.BUY if delta > 0 else Side.SELL
        return self.submit(side, symbol, abs(delta))

    def check_exits(self) -> None:
        """Send and fill the attached stop-loss / take-profit exits this bar reaches."""
        broker = self.broker
        for j in list(broker.exits):
            hit = broker.exit_hit(j)
            if hit is None:
                continue
            level, is_stop = hit
            held = self.ledger.positions[j]
            self.submit(
                Side.SELL if held > 0 else Side.BUY,
                broker.symbols[j],
                abs(held),
                limit_price=None if is_stop else level,
                stop_price=level if is_stop else None,
                tag="stop_loss" if is_stop else "take_profit",
            )
            broker.execute(broker.new.pop(), level, slipped=is_stop)
            del broker.exits[j]


class EventStrategyContext:
    """What a signal strategy sees on each bar (implements ``StrategyContext``).

    Quantities are shares, prices and cash in currency, targets fractions of equity.
    """

    def __init__(
        self,
        panel: Panel,
        price_field: str,
        ledger: ArrayLedger,
        orders: BacktestOrders,
        *,
        fractional: bool,
    ) -> None:
        self._panel = panel
        self.price_field = price_field
        self._ledger = ledger
        self._orders = orders
        self._broker = orders.broker
        self._clock = orders.clock
        self._marks = ledger.marks
        self._symbols = panel.symbols
        self._columns = orders.columns
        self._positions = ledger.positions  # mutated in place by the ledger, never replaced
        self.fractional = fractional
        self.i = 0  # the current row, set by the engine loop with the broker's

    @property
    def index(self) -> int:
        return self.i

    @property
    def time(self) -> datetime:
        return self._clock.now()

    @property
    def symbols(self) -> tuple[str, ...]:
        return self._symbols

    @property
    def is_last_bar(self) -> bool:
        """True on the final bar, where orders can no longer fill."""
        return self.i == self._broker.last

    @property
    def cash(self) -> float:
        return self._ledger.cash

    @property
    def equity(self) -> float:
        return self._ledger.equity(self.i)

    def history(self, field: str = "close", bars: int | None = None) -> np.ndarray:
        values = self._panel[field]
        i = self.i
        start = 0 if bars is None else max(0, i + 1 - bars)
        return values[start : i + 1]

    def price(self, symbol: str) -> float:
        return float(self._marks[self.i, self._orders.column(symbol)])

    def position(self, symbol: str) -> float:
        try:
            return self._positions[self._columns[symbol]]
        except KeyError:
            return self._positions[self._orders.column(symbol)]

    def average_cost(self, symbol: str) -> float:
        """Average fill price (after slippage, before commission) of the long holding in
        ``symbol`` since it was last flat; NaN when it is not long."""
        return float(self._ledger.entry[self._orders.column(symbol)])

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
        return self._orders.submit(
            Side.BUY,
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
        return self._orders.submit(
            Side.SELL,
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
        return self._broker.cancel(client_order_id)

    def order_target_percent(self, symbol: str, target: float) -> str | None:
        """Trade toward ``target`` (fraction of current equity) at the current price.

        Returns None when nothing needs trading or the trade is below the cost model's thresholds.
        """
        j = self._orders.column(symbol)
        price = float(self._marks[self.i, j])
        if not price > 0.0:
            return None
        delta = target * self.equity / price - self._ledger.positions[j]
        return self._orders.order_delta(symbol, delta, price, closes=target == 0.0)

    def close_position(self, symbol: str) -> str | None:
        held = self._ledger.positions[self._orders.column(symbol)]
        if held == 0.0:
            return None
        return self._orders.submit(Side.SELL if held > 0 else Side.BUY, symbol, abs(held))


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else exact(value)


__all__ = ["BacktestOrders", "EventStrategyContext"]
