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

from quantdesk.factors._arrays import (
    FloatArray,
    Rows,
    as_panel,
    as_rows,
    as_series,
    lagged,
    positive_int,
    running_sum,
    simple_returns,
)
from quantdesk.factors.errors import FactorInputError
from quantdesk.factors.windows import rolling_max_at, rolling_mean_at, rolling_mean_std_at

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
    min_fraction: float = 0.8,
    at: Rows = None,
) -> FloatArray:
    """Relative strength vs a benchmark: the annualised **alpha** of the stock over the 12-1
    window (Jensen's alpha, no risk-free rate).

    Over the daily simple returns from ``t-lookback`` to ``t-skip`` rows (the same price
    endpoints as :func:`window_return`), regress the stock on the benchmark by least squares,
    ``r_stock = alpha + beta * r_bench + e``, and return ``alpha * 252`` (a fraction per year:
    0.10 = the stock earned 10 % a year more than its benchmark exposure explains).

    Why not the growth ratio ``(1 + r_stock) / (1 + r_bench) - 1``: on one date every stock
    shares the benchmark term, so after cross-sectional normalisation that ratio ranks exactly
    like the stock's own 12-1 return and the benchmark cancels. The alpha depends on each
    stock's beta to the benchmark, so the benchmark changes the scores (a stock that only
    amplified the market has a high 12-1 return and an alpha near 0).

    ``benchmark`` is one price per panel date. Days where either return is missing are left out
    of the regression; NaN when fewer than ``min_fraction`` of the window's returns are valid,
    when the window starts before the first row, or when the benchmark did not move.
    """
    prices = as_panel(close, "close")
    bench = as_series(benchmark, "benchmark", prices.shape[0])
    lookback = positive_int(lookback, "lookback")
    skip = positive_int(skip, "skip", minimum=0)
    if skip >= lookback:
        raise FactorInputError(f"skip ({skip}) must be smaller than lookback ({lookback})")
    if not (np.isfinite(min_fraction) and 0.0 < min_fraction <= 1.0):
        raise FactorInputError(f"min_fraction must be in (0, 1], got {min_fraction}")
    rows = as_rows(at, prices.shape[0])
    stock = simple_returns(prices)
    market = simple_returns(bench[:, None])
    valid = np.isfinite(stock) & np.isfinite(market)
    x = np.where(valid, market, 0.0)
    y = np.where(valid, stock, 0.0)
    # window sums from cumulative sums: the returns of rows t-lookback+1 .. t-skip
    high, low = rows - skip + 1, rows - lookback + 1
    inside = low >= 1
    high, low = np.where(inside, high, 1), np.where(inside, low, 0)

    def window_sum(values: FloatArray) -> FloatArray:
        total = running_sum(values)
        out: FloatArray = total[high] - total[low]
        return out

    n = window_sum(valid.astype(np.float64))
    sx, sy, sxy, sxx = (window_sum(v) for v in (x, y, x * y, x * x))
    with np.errstate(divide="ignore", invalid="ignore"):
        beta = (n * sxy - sx * sy) / (n * sxx - sx * sx)
        alpha = (sy - beta * sx) / n * TRADING_DAYS_PER_YEAR
    enough = n >= np.ceil(min_fraction * (lookback - skip)) - 1e-9
    alpha[~(enough & inside[:, None])] = np.nan
    alpha[~np.isfinite(alpha)] = np.nan
    # a benchmark that (nearly) never moved gives no regression: 0/0 up to rounding
    flat = np.abs(n * sxx - sx * sx) <= 1e-20 * np.maximum(n * n, 1.0)
    alpha[flat] = np.nan
    return alpha


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
    return rolling_mean_at(array, rows, window, needed)


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
    _, std = rolling_mean_std_at(simple_returns(prices), rows, window, needed, 1)
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
    mean, std = rolling_mean_std_at(simple_returns(prices), rows, window, needed, 1)
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
    high = rolling_max_at(prices, rows, window, needed)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = prices[rows] / high - 1.0
    out[~np.isfinite(out)] = np.nan
    return out
