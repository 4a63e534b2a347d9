"""Input checks shared by the portfolio blocks (private)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from quantdesk.portfolio.errors import PortfolioInputError

# Weights are floats; sums within this tolerance of a bound count as on the bound.
WEIGHT_TOLERANCE = 1e-9


def symbol_series(values: pd.Series | Mapping[str, float], what: str) -> pd.Series:
    """``values`` as a float Series indexed by unique string symbols."""
    series = (
        values.astype("float64")
        if isinstance(values, pd.Series)
        else pd.Series(dict(values), dtype="float64")
    )
    if not series.index.is_unique:
        duplicated = sorted({str(s) for s in series.index[series.index.duplicated()]})
        raise PortfolioInputError(f"{what} has duplicate symbols: {duplicated}")
    return series


def check_weights(weights: pd.Series | Mapping[str, float], what: str = "weights") -> pd.Series:
    """Long-only weights: finite, ≥ 0, summing to at most 1 (fractions of portfolio value)."""
    series = symbol_series(weights, what)
    values = series.to_numpy()
    bad = ~np.isfinite(values)
    if bad.any():
        raise PortfolioInputError(
            f"{what} must be finite; not finite for {list(series.index[bad])}"
        )
    negative = values < 0
    if negative.any():
        raise PortfolioInputError(
            f"{what} must be ≥ 0 (long-only); negative for {list(series.index[negative])}"
        )
    total = float(values.sum())
    if total > 1 + WEIGHT_TOLERANCE:
        raise PortfolioInputError(f"{what} sum to {total:.6f}; they must sum to at most 1")
    return series


def check_fraction(value: float, name: str, *, allow_zero: bool = False) -> float:
    """A fraction in (0, 1] (or [0, 1] with ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PortfolioInputError(f"{name} must be a number, got {value!r}")
    low_ok = value >= 0 if allow_zero else value > 0
    if not (math.isfinite(value) and low_ok and value <= 1):
        bounds = "[0, 1]" if allow_zero else "(0, 1]"
        raise PortfolioInputError(f"{name} must be a fraction in {bounds}, got {value!r}")
    return float(value)
