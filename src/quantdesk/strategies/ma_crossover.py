"""``ma-crossover``: long while the fast simple moving average is above the slow one, else flat.

Moving averages are TA-Lib ``SMA`` of the valuation price (adjusted close where the panel has
one), so bar ``t`` only uses closes ``≤ t``. Each symbol is traded on its own: when its fast SMA
is above its slow SMA and it is flat, the strategy orders ``1 / N`` of equity in it (all the cash
for one symbol; the engine trims the buy to what the cash affords, fees included); when the fast
SMA is not above the slow one (or during the warm-up) any long is closed. With one symbol and a
1 bp fee this is workload S2 of the benchmark.

:func:`quantdesk.backtest.signal_nb.run_signal_strategy` gives the same fills and equity in a
numba kernel, and :func:`quantdesk.backtest.signal_nb.sma_crossover_grid` sweeps many (fast, slow)
pairs at once.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field

from quantdesk.data.panel import Panel
from quantdesk.factors.technical import sma
from quantdesk.strategies.base import StrategyParams
from quantdesk.strategies.requirements import PRICE, DataRequirements
from quantdesk.strategies.signals import BUY, SELL, PrecomputedSignalStrategy


class MovingAverageCrossoverParams(StrategyParams):
    """Window lengths in bars. ``fast >= slow`` is allowed (it simply trades less or never)."""

    fast: int = Field(20, ge=1, description="bars in the fast simple moving average")
    slow: int = Field(50, ge=1, description="bars in the slow simple moving average")


def simple_moving_average(prices: np.ndarray, window: int) -> np.ndarray:
    """SMA of each column of ``prices`` (``(T,)`` or ``(T, N)``); NaN during warm-up.

    Computed over each symbol's valid observations (``GapPolicy.SKIP``): a missing bar is NaN
    itself but does not poison the rest of the series, as raw TA-Lib would.
    """
    values = np.asarray(prices, dtype=np.float64)
    if values.ndim == 1:
        return np.asarray(sma(values[:, None], window)[:, 0])
    return np.asarray(sma(values, window))


class MovingAverageCrossover(PrecomputedSignalStrategy):
    """Fast/slow SMA crossover, long or flat per symbol."""

    name: ClassVar[str] = "ma-crossover"
    Params: ClassVar[type[StrategyParams]] = MovingAverageCrossoverParams
    requirements: ClassVar[DataRequirements] = DataRequirements(fields=(PRICE,))
    params: MovingAverageCrossoverParams

    def signals(self, data: Panel) -> np.ndarray:
        """``int8 (T, N)``: +1 where fast SMA > slow SMA (be long), −1 otherwise (be flat)."""
        _, prices = data.prices()
        # one row per symbol for TA-Lib; only the int8 signals are turned back to (T, N)
        series = np.ascontiguousarray(prices.T, dtype=np.float64)
        fast = sma(series, self.params.fast, by_symbol=True)
        slow = sma(series, self.params.slow, by_symbol=True)
        return np.ascontiguousarray(np.where(fast > slow, np.int8(BUY), np.int8(SELL)).T)


__all__ = [
    "MovingAverageCrossover",
    "MovingAverageCrossoverParams",
    "simple_moving_average",
]
