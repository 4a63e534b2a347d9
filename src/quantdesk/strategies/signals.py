"""The base of the built-in long/flat signal strategies: one BUY/SELL/HOLD array per panel.

A :class:`PrecomputedSignalStrategy` computes its whole view in :meth:`~PrecomputedSignalStrategy.
signals` (causal: row ``t`` from rows ``≤ t``) and trades it bar by bar in :meth:`on_bar`, so the
same object runs in the event engine, paper and live trading. The backtest package runs the same
arrays in a numba kernel (``quantdesk.backtest.signal_nb``); this module imports nothing from it,
so strategies never depend on the backtest engines.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import numpy as np

from quantdesk.data.panel import Panel
from quantdesk.strategies.base import (
    Signal,
    SignalAction,
    SignalStrategy,
    StrategyContext,
    StrategyParams,
)

BUY = 1
SELL = -1
HOLD = 0


def threshold_signals(values: np.ndarray, lower: float, upper: float) -> np.ndarray:
    """``int8``: ``+1`` where ``values < lower``, ``-1`` where ``values > upper``, else ``0``
    (NaN → 0)."""
    with np.errstate(invalid="ignore"):
        return np.where(values < lower, BUY, np.where(values > upper, SELL, HOLD)).astype(np.int8)


def breakout_signals(close: np.ndarray, resistance: np.ndarray, support: np.ndarray) -> np.ndarray:
    """``int8``: ``+1`` where ``close > resistance``, ``-1`` where ``close < support``, else 0."""
    with np.errstate(invalid="ignore"):
        return np.where(close > resistance, BUY, np.where(close < support, SELL, HOLD)).astype(
            np.int8
        )


class PrecomputedSignalStrategy(SignalStrategy):
    """A long/flat signal strategy whose view is computed for the whole panel in :meth:`init`.

    Subclasses implement :meth:`signals` (causal: row ``t`` from rows ``≤ t``). On each bar, per
    symbol in panel order: BUY while flat orders ``1 / N`` of equity (the engine trims it to the
    cash), SELL while long closes the position, HOLD does nothing. The backtest's vectorised
    path runs the same arrays with the same rules, so both engines agree fill for fill, and
    :meth:`signal` gives ensembles the per-bar view with a confidence.
    """

    def __init__(self, params: StrategyParams | None = None, **values: Any) -> None:
        super().__init__(params, **values)
        self._actions: list[list[int]] = []
        self._confidence = np.zeros((0, 0))
        self._symbols: tuple[str, ...] = ()
        self._weight = 1.0

    @abstractmethod
    def signals(self, data: Panel) -> np.ndarray:
        """``int8 (T, N)``: +1 buy, −1 sell, 0 hold, per bar and symbol."""

    def confidences(self, data: Panel, signals: np.ndarray) -> np.ndarray:
        """``float (T, N)`` in [0, 1]: conviction of each signal (default 1, and 0 on HOLD)."""
        return np.where(signals != HOLD, 1.0, 0.0)

    def entry_weight(self, data: Panel) -> float:
        """Fraction of equity one entry orders: ``1 / N`` of the panel's symbols."""
        return 1.0 / max(1, len(data.symbols))

    def init(self, data: Panel) -> None:
        signals = self.signals(data)
        # python lists per symbol: indexing them is several times cheaper than numpy scalars
        self._actions = [column.tolist() for column in signals.T]
        self._confidence = self.confidences(data, signals)
        self._symbols = data.symbols
        self._weight = self.entry_weight(data)

    def signal(self, context: StrategyContext, symbol: str) -> Signal:
        """This strategy's view of ``symbol`` at the current bar."""
        j = self._symbols.index(symbol)
        i = context.index
        action = _ACTIONS[self._actions[j][i]]
        return Signal(symbol, action, float(self._confidence[i, j]))

    def on_bar(self, context: StrategyContext) -> None:
        i = context.index
        for symbol, actions in zip(self._symbols, self._actions, strict=True):
            action = actions[i]
            if action == BUY:
                if context.position(symbol) == 0.0:
                    context.order_target_percent(symbol, self._weight)
            elif action == SELL and context.position(symbol) > 0.0:
                context.close_position(symbol)


_ACTIONS = {BUY: SignalAction.BUY, SELL: SignalAction.SELL, HOLD: SignalAction.HOLD}

__all__ = [
    "BUY",
    "HOLD",
    "SELL",
    "PrecomputedSignalStrategy",
    "breakout_signals",
    "threshold_signals",
]
