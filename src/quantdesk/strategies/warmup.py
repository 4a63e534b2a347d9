"""A signal strategy warmed up on history before the traded window.

The service loads ``warmup`` rows before the start (the first decision date) and runs the
engine on the rows from the start only. :func:`warmed_up` hands the strategy those earlier rows
too: a strategy with precomputed signals computes them on the whole history and trades the rows
from the start (both engines then see the same arrays); any other signal strategy is initialised
on the whole history and, on each bar, sees a context whose ``index`` and ``history()`` include
the warm-up rows.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from quantdesk.core.errors import ConfigurationError
from quantdesk.data.panel import Panel
from quantdesk.strategies.base import SignalStrategy, StrategyContext
from quantdesk.strategies.signals import PrecomputedSignalStrategy


def warmed_up(strategy: SignalStrategy, history: Panel, warmup: int) -> SignalStrategy:
    """``strategy`` trading ``history``'s rows from ``warmup`` on, with the rows before as its
    warm-up (``strategy`` itself when ``warmup`` is 0)."""
    if warmup <= 0:
        return strategy
    if warmup >= len(history.dates):
        raise ConfigurationError(
            f"warm-up of {warmup} rows leaves no row of the {len(history.dates)} to trade"
        )
    if isinstance(strategy, PrecomputedSignalStrategy):
        return WarmedSignals(strategy, history, warmup)
    return WarmedUp(strategy, history, warmup)


class WarmedSignals(PrecomputedSignalStrategy):
    """A precomputed signal strategy's view computed on the whole history, served for the
    traded rows (the rows from ``warmup`` on)."""

    name: ClassVar[str] = "warmed-signals"

    def __init__(self, inner: PrecomputedSignalStrategy, history: Panel, warmup: int) -> None:
        super().__init__(inner.params)
        self.inner = inner
        self.name = inner.name  # type: ignore[misc]  # reports under the wrapped name
        signals = inner.signals(history)
        self._signals = np.ascontiguousarray(signals[warmup:])
        self._confidences = inner.confidences(history, signals)[warmup:]

    def _check(self, data: Panel) -> None:
        if len(data.dates) != len(self._signals):
            raise ConfigurationError(
                f"warmed-up signals cover {len(self._signals)} rows, the panel {len(data.dates)}"
            )

    def signals(self, data: Panel) -> np.ndarray:
        self._check(data)
        return self._signals

    def confidences(self, data: Panel, signals: np.ndarray) -> np.ndarray:
        self._check(data)
        return np.asarray(self._confidences)

    def entry_weight(self, data: Panel) -> float:
        return self.inner.entry_weight(data)


class WarmedUp(SignalStrategy):
    """A bar-by-bar signal strategy initialised on the whole history; each bar's context is
    shifted so ``index`` and ``history()`` count the warm-up rows."""

    name: ClassVar[str] = "warmed-up"

    def __init__(self, inner: SignalStrategy, history: Panel, warmup: int) -> None:
        self.inner = inner
        self.params = inner.params
        self.name = inner.name  # type: ignore[misc]  # reports under the wrapped name
        self.history = history
        self.warmup = warmup

    def init(self, data: Panel) -> None:
        if len(data.dates) != len(self.history.dates) - self.warmup:
            raise ConfigurationError(
                f"the traded panel has {len(data.dates)} rows; the warmed-up history leaves "
                f"{len(self.history.dates) - self.warmup}"
            )
        self.inner.init(self.history)

    def on_bar(self, context: StrategyContext) -> None:
        self.inner.on_bar(ShiftedContext(context, self.history, self.warmup))


class ShiftedContext:
    """``context`` seen from a panel that starts ``warmup`` rows earlier (``history``): the
    index and the history include those rows; everything else is ``context``'s."""

    def __init__(self, context: StrategyContext, history: Panel, warmup: int) -> None:
        self._context = context
        self._history = history
        self._warmup = warmup

    @property
    def index(self) -> int:
        return self._context.index + self._warmup

    def history(self, field: str = "close", bars: int | None = None) -> np.ndarray:
        values = self._history[field]
        i = self.index
        start = 0 if bars is None else max(0, i + 1 - bars)
        return values[start : i + 1]

    def __getattr__(self, name: str) -> Any:
        # time, cash, equity, price, position and the order methods are the engine's
        return getattr(self._context, name)


class LiveFeed(SignalStrategy):
    """``inner`` run as on a live feed: :meth:`init` hands it only the first ``warmup`` rows
    of the panel (its declared warm-up), and every later bar is decided from the context's
    ``history()`` alone — what a paper or live runner does, replayed in an engine."""

    name: ClassVar[str] = "live-feed"

    def __init__(self, inner: SignalStrategy, warmup: int) -> None:
        self.inner = inner
        self.params = inner.params
        self.name = inner.name  # type: ignore[misc]  # reports under the wrapped name
        self.warmup = warmup

    def init(self, data: Panel) -> None:
        rows = slice(0, self.warmup)
        head = Panel(data.dates[rows], data.symbols, {k: v[rows] for k, v in data.fields.items()})
        self.inner.init(head)

    def on_bar(self, context: StrategyContext) -> None:
        self.inner.on_bar(context)


__all__ = ["LiveFeed", "ShiftedContext", "WarmedSignals", "WarmedUp", "warmed_up"]
