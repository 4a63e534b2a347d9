"""The thin context a signal strategy trades through in the event engine.

:class:`EventStrategyContext` implements the whole ``StrategyContext`` protocol by reading the
:class:`~quantdesk.backtest.event_ledger.ArrayLedger` and sending through ``BacktestOrders``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from quantdesk.backtest.event_ledger import ArrayLedger
from quantdesk.backtest.event_orders import BacktestOrders
from quantdesk.core.enums import Side
from quantdesk.data.panel import Panel
from quantdesk.execution.orders import TimeInForce


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


__all__ = ["EventStrategyContext"]

if TYPE_CHECKING:  # mypy proves the context implements the whole protocol
    from quantdesk.strategies.base import StrategyContext

    _CONTEXT_IS_A_STRATEGY_CONTEXT: type[StrategyContext] = EventStrategyContext
