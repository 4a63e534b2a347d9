"""``rsi``: buy when the RSI is oversold (below ``lower``), sell when overbought (above ``upper``).

RSI is TA-Lib's (Wilder smoothing) over ``period`` bars of the valuation price, so bar ``t`` only
uses closes ``≤ t``. Long or flat per symbol, ``1 / N`` of equity per entry; between the bands
the strategy holds what it has. Confidence grows with the distance beyond the band: a BUY at RSI
``r`` has ``(lower − r) / lower``, a SELL ``(r − upper) / (100 − upper)``.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field, model_validator

from quantdesk.data.panel import Panel
from quantdesk.factors.technical import rsi
from quantdesk.strategies.base import StrategyParams
from quantdesk.strategies.requirements import PRICE, DataRequirements
from quantdesk.strategies.signals import PrecomputedSignalStrategy, threshold_signals


class RsiParams(StrategyParams):
    """``period`` in bars; ``lower`` and ``upper`` are RSI levels on its 0–100 scale."""

    period: int = Field(14, ge=2, description="bars in the RSI")
    lower: float = Field(30.0, gt=0, lt=100, description="buy below this RSI")
    upper: float = Field(70.0, gt=0, lt=100, description="sell above this RSI")

    @model_validator(mode="after")
    def _ordered_bands(self) -> RsiParams:
        if self.lower >= self.upper:
            raise ValueError(f"lower ({self.lower}) must be below upper ({self.upper})")
        return self


def relative_strength_index(prices: np.ndarray, period: int) -> np.ndarray:
    """Wilder RSI (TA-Lib) of each column of ``prices`` ``(T, N)`` on the 0–100 scale; NaN in
    warm-up. Computed over each symbol's valid observations, so one missing bar does not leave
    the rest of the series at RSI 0 as raw TA-Lib would."""
    return np.asarray(rsi(np.asarray(prices, dtype=np.float64), period))


class RelativeStrengthIndex(PrecomputedSignalStrategy):
    """Mean reversion on RSI bands, long or flat per symbol."""

    name: ClassVar[str] = "rsi"
    Params: ClassVar[type[StrategyParams]] = RsiParams
    requirements: ClassVar[DataRequirements] = DataRequirements(fields=(PRICE,))
    params: RsiParams

    def history_bars(self) -> int | None:
        """All of it: Wilder's smoothing carries every earlier change, so a window of the last
        bars would give a (slightly) different RSI than the run over the whole history."""
        return None

    def _rsi_by_symbol(self, data: Panel) -> np.ndarray:
        """``(N, T)``: one row per symbol, TA-Lib's layout (no transpose of the result)."""
        _, prices = data.prices()
        series = np.ascontiguousarray(prices.T, dtype=np.float64)
        return rsi(series, self.params.period, by_symbol=True)

    def signals(self, data: Panel) -> np.ndarray:
        """``int8 (T, N)``: +1 where RSI < lower, −1 where RSI > upper, else 0."""
        lower, upper = self.params.lower, self.params.upper
        return np.ascontiguousarray(threshold_signals(self._rsi_by_symbol(data), lower, upper).T)

    def confidences(self, data: Panel, signals: np.ndarray) -> np.ndarray:
        strength = self._rsi_by_symbol(data).T
        lower, upper = self.params.lower, self.params.upper
        with np.errstate(invalid="ignore"):
            buy = np.clip((lower - strength) / lower, 0.0, 1.0)
            sell = np.clip((strength - upper) / (100.0 - upper), 0.0, 1.0)
        return np.where(signals > 0, buy, np.where(signals < 0, sell, 0.0))


__all__ = ["RelativeStrengthIndex", "RsiParams", "relative_strength_index"]
