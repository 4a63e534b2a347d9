"""Input checks shared by the analytics modules (private)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

ReturnsLike = pd.Series | np.ndarray | Sequence[float]
"""Daily simple returns as fractions (0.01 = +1 %): a Series, a 1-d array or a list."""

TRADING_DAYS_PER_YEAR = 252


def as_returns(returns: ReturnsLike, name: str = "returns") -> pd.Series:
    """Return ``returns`` as a float Series without missing observations.

    Missing values are dropped rather than filled: quantstats' statistics skip NaN, and a
    day without data is not a flat day. Infinite values are rejected because they always
    come from a division by a zero price upstream.
    """
    if isinstance(returns, pd.DataFrame):
        raise TypeError(f"{name} must be one series of returns, got a DataFrame")
    if isinstance(returns, pd.Series):
        series = returns.astype(float)
    else:
        values = np.asarray(returns, dtype=float)
        if values.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional, got shape {values.shape}")
        series = pd.Series(values)
    if np.isinf(series.to_numpy()).any():
        position = series.index[np.isinf(series.to_numpy())][0]
        raise ValueError(f"{name} contains an infinite value at {position!r}")
    series = series.dropna()
    if series.empty:
        raise ValueError(f"{name} has no observations (empty or all missing)")
    return series


def as_dated_returns(returns: ReturnsLike, name: str = "returns") -> pd.Series:
    """Like :func:`as_returns` but the index must be a sorted, unique DatetimeIndex."""
    series = as_returns(returns, name)
    if not isinstance(series.index, pd.DatetimeIndex):
        raise TypeError(
            f"{name} needs a DatetimeIndex for calendar metrics, got {type(series.index).__name__}"
        )
    if not series.index.is_monotonic_increasing:
        raise ValueError(f"{name} index is not sorted by date")
    if series.index.has_duplicates:
        duplicated = series.index[series.index.duplicated()][0]
        raise ValueError(f"{name} index has a duplicate date: {duplicated}")
    return series


def daily_risk_free(rf: float, periods: int) -> float:
    """De-annualise an annual risk-free rate (fraction) to one period, compounding."""
    if rf <= -1.0:
        raise ValueError(f"rf must be above -1 (a fraction per year), got {rf}")
    if periods <= 0:
        raise ValueError(f"periods must be positive, got {periods}")
    return float((1.0 + rf) ** (1.0 / periods) - 1.0)
