"""Price and volume momentum, relative strength and volatility over T×N panels.

Every function takes dates × symbols float64 arrays (NaN = missing) and returns an array of the
same width. Offsets count panel rows (trading days), not calendar days. ``at`` selects the rows to
evaluate (for example :func:`quantdesk.factors.schedule.month_end_rows`); the result then has one
row per entry of ``at``, in that order, and is identical to the full result at those rows.
Returns are fractions (0.05 = 5 %), never percent.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from quantdesk.factors import nb
from quantdesk.factors._arrays import (
    FloatArray,
    Rows,
    as_panel,
    as_rows,
    as_series,
    lagged,
    positive_int,
    simple_returns,
)
from quantdesk.factors.errors import FactorInputError

TRADING_DAYS_PER_YEAR = 252


def window_return(
    close: npt.ArrayLike, lookback: int, skip: int = 0, *, at: Rows = None
) -> FloatArray:
    """Return from ``lookback`` to ``skip`` rows ago: ``close[t-skip] / close[t-lookback] - 1``.

    NaN when either price is missing or ``t - lookback`` is before the first row (a fraction).
    """
    prices = as_panel(close, "close")
    lookback = positive_int(lookback, "lookback")
    skip = positive_int(skip, "skip", minimum=0)
    if skip >= lookback:
        raise FactorInputError(f"skip ({skip}) must be smaller than lookback ({lookback})")
    rows = as_rows(at, prices.shape[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        out = lagged(prices, rows, skip) / lagged(prices, rows, lookback) - 1.0
    out[~np.isfinite(out)] = np.nan
    return out


def momentum_12_1(close: npt.ArrayLike, *, at: Rows = None) -> FloatArray:
    """Classic 12-1 momentum: ``close[t-21] / close[t-252] - 1`` (trading days, a fraction).

    The most recent month is skipped to avoid the short-term reversal effect. NaN if either
    price is missing.
    """
    return window_return(close, 252, 21, at=at)


def price_momentum(
    close: npt.ArrayLike,
    horizons: Sequence[int] = (63, 126, 252),
    skip: int = 0,
    *,
    at: Rows = None,
) -> FloatArray:
    """Mean of the horizon returns ``close[t-skip] / close[t-h] - 1`` over ``horizons``.

    Every horizon must be available: a symbol with too short a history for the longest horizon
    (or a missing price at any endpoint) gets NaN, so short-history names are not scored on
    their short horizons alone. A fraction.
    """
    if not horizons:
        raise FactorInputError("horizons must name at least one lookback")
    total: FloatArray | None = None
    for horizon in horizons:
        part = window_return(close, horizon, skip, at=at)
        total = part if total is None else total + part
    assert total is not None
    return total / len(horizons)


def relative_strength(
    close: npt.ArrayLike,
    benchmark: npt.ArrayLike,
    lookback: int = 252,
    skip: int = 21,
    *,
    at: Rows = None,
) -> FloatArray:
    """Relative strength vs a benchmark: ``(1 + stock return) / (1 + benchmark return) - 1``.

    Both returns run over the same window, ``t-lookback`` to ``t-skip`` rows. ``benchmark`` is one
    price per panel date (for example the S&P 500 close). A fraction: 0.10 means the stock beat
    the benchmark by 10 % in growth terms. NaN where either return is missing.
    """
    prices = as_panel(close, "close")
    bench = as_series(benchmark, "benchmark", prices.shape[0])
    stock_return = window_return(prices, lookback, skip, at=at)
    bench_return = window_return(bench[:, None], lookback, skip, at=at)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (1.0 + stock_return) / (1.0 + bench_return) - 1.0
    out[~np.isfinite(out)] = np.nan
    return out


def rolling_mean(
    values: npt.ArrayLike, window: int, min_periods: int | None = None, *, at: Rows = None
) -> FloatArray:
    """Trailing mean over ``window`` rows ending at t, skipping NaN.

    NaN when fewer than ``min_periods`` (default: ``window``) valid values are in the window,
    which matches ``pandas.DataFrame.rolling(window, min_periods).mean()``.
    """
    array = as_panel(values, "values")
    window = positive_int(window, "window")
    needed = window if min_periods is None else positive_int(min_periods, "min_periods")
    rows = as_rows(at, array.shape[0])
    mean, _ = nb.rolling_mean_std_at_nb(array, rows, window, needed, 1)
    return mean


def volume_momentum(
    volume: npt.ArrayLike, short: int = 20, long: int = 120, *, at: Rows = None
) -> FloatArray:
    """Mean volume over the last ``short`` days / mean over the last ``long`` days - 1 (a fraction).

    Both windows end at t and need every day valid; NaN when the long mean is zero.
    """
    short = positive_int(short, "short")
    long = positive_int(long, "long")
    if short >= long:
        raise FactorInputError(f"short ({short}) must be smaller than long ({long})")
    recent = rolling_mean(volume, short, at=at)
    base = rolling_mean(volume, long, at=at)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = recent / base - 1.0
    out[~np.isfinite(out)] = np.nan
    return out


def volatility(
    close: npt.ArrayLike, window: int = 63, min_periods: int | None = None, *, at: Rows = None
) -> FloatArray:
    """Annualised volatility: sample standard deviation (ddof=1) of daily **simple** returns × √252.

    Simple returns follow quantstats. The window holds the ``window`` daily returns ending at t;
    a return is missing when either of its two prices is. NaN with fewer than ``min_periods``
    (default ``window``) valid returns. A fraction per year (0.2 = 20 % annualised).
    """
    prices = as_panel(close, "close")
    window = positive_int(window, "window", minimum=2)
    needed = window if min_periods is None else positive_int(min_periods, "min_periods", 2)
    rows = as_rows(at, prices.shape[0])
    _, std = nb.rolling_mean_std_at_nb(simple_returns(prices), rows, window, needed, 1)
    annualised: FloatArray = std * np.sqrt(TRADING_DAYS_PER_YEAR)
    return annualised


def sharpe_like(
    close: npt.ArrayLike, window: int = 252, min_periods: int | None = None, *, at: Rows = None
) -> FloatArray:
    """Annualised mean / standard deviation of daily simple returns over ``window`` (no risk-free).

    Used as a return-stability ("quality") proxy for instruments without fundamentals.
    NaN when the standard deviation is zero or fewer than ``min_periods`` returns are valid.
    """
    prices = as_panel(close, "close")
    window = positive_int(window, "window", minimum=2)
    needed = window if min_periods is None else positive_int(min_periods, "min_periods", 2)
    rows = as_rows(at, prices.shape[0])
    mean, std = nb.rolling_mean_std_at_nb(simple_returns(prices), rows, window, needed, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = mean / std * np.sqrt(TRADING_DAYS_PER_YEAR)
    out[~np.isfinite(out)] = np.nan
    return out


def distance_from_high(
    close: npt.ArrayLike, window: int = 252, min_periods: int | None = None, *, at: Rows = None
) -> FloatArray:
    """``close[t] / max(close over the window rows ending at t) - 1``: 0 at a new high, < 0 below.

    NaN when the price at t is missing or fewer than ``min_periods`` (default ``window``) prices
    in the window are valid. A fraction (-0.25 = 25 % below the high).
    """
    prices = as_panel(close, "close")
    window = positive_int(window, "window")
    needed = window if min_periods is None else positive_int(min_periods, "min_periods")
    rows = as_rows(at, prices.shape[0])
    high = nb.rolling_max_at_nb(prices, rows, window, needed)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = prices[rows] / high - 1.0
    out[~np.isfinite(out)] = np.nan
    return out
