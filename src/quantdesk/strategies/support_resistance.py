"""``support-resistance``: buy a breakout above resistance, exit below support.

Resistance at bar ``t`` is the highest high of the ``window`` bars *before* ``t`` and support the
lowest low of those bars (TA-Lib ``MAX``/``MIN`` shifted by one bar, so bar ``t`` never sees
itself or the future). A close above resistance is a BUY, a close below support a SELL; long or
flat per symbol at ``1 / N`` of equity. Highs and lows are put on the valuation basis (scaled by
``adj_close / close`` when the panel has adjusted closes); a panel without them uses closes.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import talib
from pydantic import Field

from quantdesk.data.panel import Panel
from quantdesk.strategies.base import StrategyParams
from quantdesk.strategies.requirements import PRICE, DataRequirements
from quantdesk.strategies.signals import PrecomputedSignalStrategy, breakout_signals


class SupportResistanceParams(StrategyParams):
    """``window`` in bars."""

    window: int = Field(20, ge=2, description="bars before the current one that set the levels")


def support_resistance_levels(
    data: Panel, window: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(close, support, resistance)`` arrays ``(T, N)`` on the valuation price basis."""
    field, close = data.prices()
    factor: np.ndarray | float = 1.0
    if field == "adj_close" and "close" in data.fields:
        with np.errstate(invalid="ignore", divide="ignore"):
            factor = data["adj_close"] / data["close"]
    high = data.fields["high"] * factor if "high" in data.fields else close
    low = data.fields["low"] * factor if "low" in data.fields else close
    support = np.full(close.shape, np.nan)
    resistance = np.full(close.shape, np.nan)
    for j in range(close.shape[1]):
        # levels from the previous `window` bars: shift TA-Lib's trailing window by one bar
        resistance[1:, j] = talib.MAX(np.ascontiguousarray(high[:, j]), timeperiod=window)[:-1]
        support[1:, j] = talib.MIN(np.ascontiguousarray(low[:, j]), timeperiod=window)[:-1]
    return close, support, resistance


class SupportResistance(PrecomputedSignalStrategy):
    """Channel breakout, long or flat per symbol."""

    name: ClassVar[str] = "support-resistance"
    Params: ClassVar[type[StrategyParams]] = SupportResistanceParams
    # highs and lows set the levels; the raw close puts them on the adjusted basis
    requirements: ClassVar[DataRequirements] = DataRequirements(
        fields=(PRICE, "high", "low", "close")
    )
    params: SupportResistanceParams

    def signals(self, data: Panel) -> np.ndarray:
        """``int8 (T, N)``: +1 on close > resistance, −1 on close < support, else 0."""
        close, support, resistance = support_resistance_levels(data, self.params.window)
        return breakout_signals(close, resistance, support)


__all__ = ["SupportResistance", "SupportResistanceParams", "support_resistance_levels"]
