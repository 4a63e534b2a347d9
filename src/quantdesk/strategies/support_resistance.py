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
    close, support, resistance = _levels_by_symbol(data, window)
    return close.T, np.ascontiguousarray(support.T), np.ascontiguousarray(resistance.T)


def _levels_by_symbol(data: Panel, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(close, support, resistance)`` arrays ``(N, T)``: one contiguous row per symbol, what
    TA-Lib reads (one transpose per field instead of a strided copy per symbol)."""
    field, prices = data.prices()
    close = np.ascontiguousarray(prices.T)
    factor: np.ndarray | None = None
    if field == "adj_close" and "close" in data.fields:
        with np.errstate(invalid="ignore", divide="ignore"):
            factor = close / np.ascontiguousarray(data["close"].T)
    high, low = (_on_basis(data, name, close, factor) for name in ("high", "low"))
    support = np.full(close.shape, np.nan)
    resistance = np.full(close.shape, np.nan)
    for j in range(close.shape[0]):
        # levels from the previous `window` bars: shift TA-Lib's trailing window by one bar
        resistance[j, 1:] = talib.MAX(high[j], timeperiod=window)[:-1]
        support[j, 1:] = talib.MIN(low[j], timeperiod=window)[:-1]
    return close, support, resistance


def _on_basis(data: Panel, name: str, close: np.ndarray, factor: np.ndarray | None) -> np.ndarray:
    """``(N, T)`` highs or lows times the adjustment ``factor`` (the closes without them)."""
    if name not in data.fields:
        return close
    values = np.ascontiguousarray(data[name].T)
    if factor is not None:
        values *= factor  # element by element: the same products as on the (T, N) panel
    return values


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
        close, support, resistance = _levels_by_symbol(data, self.params.window)
        return np.ascontiguousarray(breakout_signals(close, resistance, support).T)


__all__ = ["SupportResistance", "SupportResistanceParams", "support_resistance_levels"]
