"""The base of the built-in long/flat signal strategies: one BUY/SELL/HOLD array per panel.

A :class:`PrecomputedSignalStrategy` computes its view in :meth:`~PrecomputedSignalStrategy.
signals` (causal: row ``t`` from rows ``≤ t``) and trades it bar by bar in :meth:`on_bar`, so the
same object runs in the event engine, paper and live trading. :meth:`init` precomputes the rows
of the panel it is given — the whole history in a backtest, only the warm-up on a live feed — and
a bar beyond them is decided from ``context.history(field, n)`` alone (``n`` =
:meth:`~PrecomputedSignalStrategy.history_bars`), with the same orders as the precomputed run. The
backtest package runs the same arrays in a numba kernel (``quantdesk.backtest.signal_nb``); this
module imports nothing from it, so strategies never depend on the backtest engines.
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
# int8 scalars: np.where builds the int8 signals directly, not an int64 array of the panel's size
_BUY, _SELL, _HOLD = np.int8(BUY), np.int8(SELL), np.int8(HOLD)


def threshold_signals(values: np.ndarray, lower: float, upper: float) -> np.ndarray:
    """``int8``: ``+1`` where ``values < lower``, ``-1`` where ``values > upper``, else ``0``
    (NaN → 0)."""
    with np.errstate(invalid="ignore"):
        return np.where(values < lower, _BUY, np.where(values > upper, _SELL, _HOLD))


def breakout_signals(close: np.ndarray, resistance: np.ndarray, support: np.ndarray) -> np.ndarray:
    """``int8``: ``+1`` where ``close > resistance``, ``-1`` where ``close < support``, else 0."""
    with np.errstate(invalid="ignore"):
        return np.where(close > resistance, _BUY, np.where(close < support, _SELL, _HOLD))


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
        # rows precomputed by init; later bars are decided from the context's history
        self._rows = 0
        self._fields: tuple[str, ...] = ()
        self._current: tuple[int, list[int], np.ndarray] | None = None

    @abstractmethod
    def signals(self, data: Panel) -> np.ndarray:
        """``int8 (T, N)``: +1 buy, −1 sell, 0 hold, per bar and symbol."""

    def confidences(self, data: Panel, signals: np.ndarray) -> np.ndarray:
        """``float (T, N)`` in [0, 1]: conviction of each signal (default 1, and 0 on HOLD)."""
        return np.where(signals != HOLD, 1.0, 0.0)

    def entry_weight(self, data: Panel) -> float:
        """Fraction of equity one entry orders: ``1 / N`` of the panel's symbols."""
        return 1.0 / max(1, len(data.symbols))

    def history_bars(self) -> int | None:
        """Rows of history (the current bar included) one bar's decision reads: the declared
        warm-up plus one. ``None`` means all of it (path-dependent indicators such as Wilder's
        smoothing)."""
        return self.data_requirements(self.params).warmup + 1

    def init(self, data: Panel) -> None:
        """Precompute the view of ``data``'s rows (the whole panel in a backtest, the warm-up
        on a live feed); bars after them are decided from the context's history."""
        self._symbols = data.symbols
        self._fields = tuple(data.fields)
        self._weight = self.entry_weight(data)
        self._rows = len(data.dates)
        self._current = None
        if self._rows == 0:
            self._actions = [[] for _ in data.symbols]
            self._confidence = np.zeros((0, len(data.symbols)))
            return
        signals = self.signals(data)
        # python lists per symbol: indexing them is several times cheaper than numpy scalars
        self._actions = [column.tolist() for column in signals.T]
        self._confidence = self.confidences(data, signals)

    def signal(self, context: StrategyContext, symbol: str) -> Signal:
        """This strategy's view of ``symbol`` at the current bar."""
        j = self._symbols.index(symbol)
        i = context.index
        if i < self._rows:
            return Signal(symbol, _ACTIONS[self._actions[j][i]], float(self._confidence[i, j]))
        actions, confidence = self._latest(context)
        return Signal(symbol, _ACTIONS[actions[j]], float(confidence[j]))

    def on_bar(self, context: StrategyContext) -> None:
        i = context.index
        if i < self._rows:
            for symbol, actions in zip(self._symbols, self._actions, strict=True):
                self._trade(context, symbol, actions[i])
            return
        latest, _ = self._latest(context)
        for symbol, action in zip(self._symbols, latest, strict=True):
            self._trade(context, symbol, action)

    def _trade(self, context: StrategyContext, symbol: str, action: int) -> None:
        if action == BUY:
            if context.position(symbol) == 0.0:
                context.order_target_percent(symbol, self._weight)
        elif action == SELL and context.position(symbol) > 0.0:
            context.close_position(symbol)

    def _latest(self, context: StrategyContext) -> tuple[list[int], np.ndarray]:
        """(action per symbol, confidence per symbol) at the current bar, from the context's
        history (computed once per bar)."""
        i = context.index
        if self._current is not None and self._current[0] == i:
            return self._current[1], self._current[2]
        view = self.history_panel(context)
        signals = self.signals(view)
        confidence = self.confidences(view, signals)[-1]
        self._current = (i, signals[-1].tolist(), confidence)
        return self._current[1], confidence

    def history_panel(self, context: StrategyContext) -> Panel:
        """The last :meth:`history_bars` rows of the fields :meth:`init` saw, as a panel.

        A window in which a symbol has a gap (some values missing, not all) is widened to the
        whole history, so indicators that skip gaps see as many observations as in a run over
        the whole panel. The dates are row numbers: the built-in signals read values only.
        """
        bars = self.history_bars()
        fields = {name: context.history(name, bars) for name in self._fields}
        if bars is not None and any(_has_gap(values) for values in fields.values()):
            fields = {name: context.history(name, None) for name in self._fields}
        rows = len(next(iter(fields.values()))) if fields else 0
        return Panel(np.arange(rows).astype("datetime64[D]"), self._symbols, fields)


def _has_gap(values: np.ndarray) -> bool:
    """True when a column has some missing values but not only missing ones."""
    missing = np.isnan(values)
    return bool((missing.any(axis=0) & ~missing.all(axis=0)).any())


_ACTIONS = {BUY: SignalAction.BUY, SELL: SignalAction.SELL, HOLD: SignalAction.HOLD}

__all__ = [
    "BUY",
    "HOLD",
    "SELL",
    "PrecomputedSignalStrategy",
    "breakout_signals",
    "threshold_signals",
]
