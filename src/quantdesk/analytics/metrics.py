"""Performance metrics over a daily simple-returns series, following quantstats 0.0.86.

Inputs are simple returns as fractions (0.01 = +1 %), one per period, as a pandas Series
(DatetimeIndex needed for calendar metrics) or a 1-d array. Missing values are dropped.
Annualisation uses ``periods`` = 252 trading days; standard deviations are sample (ddof=1).
``rf`` is an *annual* risk-free rate as a fraction, de-annualised per period by compounding.
Every definition and each difference from quantstats is listed in ``docs/metrics.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

import numpy as np
import pandas as pd

from quantdesk.analytics._series import (
    TRADING_DAYS_PER_YEAR,
    ReturnsLike,
    as_dated_returns,
    as_returns,
    daily_risk_free,
)
from quantdesk.analytics.drawdown import max_drawdown

MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DEFAULT_ROLLING_WINDOW = 126

VarMethod = Literal["parametric", "historical"]


@dataclass(frozen=True, slots=True)
class AlphaBeta:
    """CAPM-style regression of strategy on benchmark returns.

    ``alpha`` is annualised (daily intercept × periods) as a fraction per year; ``beta`` is
    unitless. ``observations`` is the number of paired dates used.
    """

    alpha: float
    beta: float
    observations: int


def total_return(returns: ReturnsLike) -> float:
    """Compounded return over the whole series as a fraction (0.5 = +50 %)."""
    series = as_returns(returns)
    growth = np.prod(series.add(1.0).to_numpy())
    return float(growth) - 1.0


def cagr(returns: ReturnsLike, periods: int = TRADING_DAYS_PER_YEAR) -> float:
    """Compound annual growth rate as a fraction per year.

    Years are counted as observations / ``periods`` (quantstats 0.0.86), not calendar days.
    NaN when terminal wealth is negative (no real growth rate).
    """
    series = as_returns(returns)
    wealth = 1.0 + total_return(series)
    if wealth < 0.0:
        return math.nan
    years = len(series) / periods
    return float(wealth ** (1.0 / years) - 1.0)


def volatility(
    returns: ReturnsLike, periods: int = TRADING_DAYS_PER_YEAR, annualize: bool = True
) -> float:
    """Sample standard deviation of returns, × √periods when annualised (fraction)."""
    std = float(as_returns(returns).std(ddof=1))
    return std * math.sqrt(periods) if annualize else std


def sharpe_ratio(
    returns: ReturnsLike,
    rf: float = 0.0,
    periods: int = TRADING_DAYS_PER_YEAR,
    annualize: bool = True,
) -> float:
    """Mean excess return over its sample standard deviation, × √periods when annualised.

    ``rf`` is an annual fraction. NaN when the returns never change (zero deviation).
    """
    excess = as_returns(returns) - daily_risk_free(rf, periods)
    # a constant series has a rounding-noise std (~1e-19), which would give a huge ratio
    if len(excess) < 2 or np.ptp(excess.to_numpy()) == 0.0:
        return math.nan
    std = float(excess.std(ddof=1))
    ratio = float(excess.mean()) / std
    return ratio * math.sqrt(periods) if annualize else ratio


def sortino_ratio(
    returns: ReturnsLike,
    rf: float = 0.0,
    periods: int = TRADING_DAYS_PER_YEAR,
    annualize: bool = True,
) -> float:
    """Mean excess return over the downside deviation, × √periods when annualised.

    Downside deviation = sqrt(sum(min(r, 0)²) / n) over all n observations (Red Rock Capital,
    as quantstats). NaN when there is no losing period.
    """
    excess = as_returns(returns) - daily_risk_free(rf, periods)
    values = excess.to_numpy()
    downside = math.sqrt(float(np.square(values[values < 0.0]).sum()) / len(values))
    if downside == 0.0:
        return math.nan
    ratio = float(excess.mean()) / downside
    return ratio * math.sqrt(periods) if annualize else ratio


def calmar_ratio(returns: ReturnsLike, periods: int = TRADING_DAYS_PER_YEAR) -> float:
    """CAGR over the absolute maximum drawdown (unitless); NaN without any drawdown."""
    series = as_returns(returns)
    depth = max_drawdown(series)
    if depth == 0.0:
        return math.nan
    return cagr(series, periods) / abs(depth)


def alpha_beta(
    returns: ReturnsLike, benchmark: ReturnsLike, periods: int = TRADING_DAYS_PER_YEAR
) -> AlphaBeta:
    """Beta = cov(r, b) / var(b) (sample), alpha = (mean r − beta × mean b) × periods.

    Two Series are paired on their common dates; arrays must have equal length. As
    ``qs.stats.greeks``, no risk-free rate is subtracted. Beta and alpha are NaN when the
    benchmark does not move.
    """
    strategy = as_returns(returns, "returns")
    market = as_returns(benchmark, "benchmark")
    if isinstance(returns, pd.Series) and isinstance(benchmark, pd.Series):
        paired = pd.concat([strategy, market], axis=1, join="inner").dropna()
    elif len(strategy) == len(market):
        paired = pd.DataFrame({0: strategy.to_numpy(), 1: market.to_numpy()})
    else:
        raise ValueError(
            f"returns ({len(strategy)}) and benchmark ({len(market)}) differ in length; "
            "pass Series with dates to pair them"
        )
    if len(paired) < 2:
        raise ValueError(f"returns and benchmark share {len(paired)} dates; need at least 2")
    left = paired.iloc[:, 0].to_numpy()
    right = paired.iloc[:, 1].to_numpy()
    # the range, not the variance: a constant benchmark has a rounding-noise variance
    if np.ptp(right) == 0.0:
        return AlphaBeta(alpha=math.nan, beta=math.nan, observations=len(paired))
    matrix = np.cov(left, right)
    beta = float(matrix[0, 1] / matrix[1, 1])
    alpha = (float(left.mean()) - beta * float(right.mean())) * periods
    return AlphaBeta(alpha=alpha, beta=beta, observations=len(paired))


def win_rate(returns: ReturnsLike) -> float:
    """Share of positive periods among non-zero periods (fraction); NaN if all are zero."""
    values = as_returns(returns).to_numpy()
    non_zero = np.count_nonzero(values)
    if non_zero == 0:
        return math.nan
    return float(np.count_nonzero(values > 0.0) / non_zero)


def profit_factor(returns: ReturnsLike) -> float:
    """Sum of non-negative returns over the absolute sum of negative returns.

    Infinite when nothing is lost, NaN when the series is all zeros.
    """
    values = as_returns(returns).to_numpy()
    gains = float(values[values >= 0.0].sum())
    losses = abs(float(values[values < 0.0].sum()))
    if losses == 0.0:
        return math.nan if gains == 0.0 else math.inf
    return gains / losses


def _check_confidence(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be a fraction in (0, 1), got {confidence}")
    return 1.0 - confidence


def value_at_risk(
    returns: ReturnsLike,
    confidence: float = 0.95,
    method: VarMethod = "parametric",
    sigma: float = 1.0,
) -> float:
    """One-period value at risk as a return (negative fraction = loss).

    ``parametric``: the (1 − confidence) quantile of a normal with the sample mean and
    ``sigma`` × sample std (``qs.stats.var``). ``historical``: the empirical quantile with
    linear interpolation.
    """
    tail = _check_confidence(confidence)
    series = as_returns(returns)
    if method == "parametric":
        # stdlib NormalDist (Wichura AS241, ~1e-16) rather than scipy.stats: importing scipy
        # costs half a second on every CLI run that reports metrics
        mean, spread = float(series.mean()), sigma * float(series.std(ddof=1))
        if spread == 0.0 or math.isnan(spread):  # a flat (or one-point) series: no spread
            return mean
        return float(NormalDist(mean, spread).inv_cdf(tail))
    if method == "historical":
        return float(series.quantile(tail))
    raise ValueError(f"method must be 'parametric' or 'historical', got {method!r}")


def conditional_value_at_risk(
    returns: ReturnsLike,
    confidence: float = 0.95,
    method: VarMethod = "parametric",
    sigma: float = 1.0,
) -> float:
    """Expected return in the worst (1 − confidence) tail (negative fraction = loss).

    ``parametric``: normal expected shortfall mu − sd·φ(Φ⁻¹(α))/α with sd = ``sigma`` × std.
    ``historical``: mean of returns at or below the empirical quantile (``qs.stats.cvar``).
    """
    tail = _check_confidence(confidence)
    series = as_returns(returns)
    if method == "parametric":
        mean = float(series.mean())
        std = sigma * float(series.std(ddof=1))
        if std == 0.0 or math.isnan(std):
            return mean
        standard = NormalDist()
        return float(mean - std * standard.pdf(standard.inv_cdf(tail)) / tail)
    if method == "historical":
        threshold = float(series.quantile(tail))
        return float(series[series <= threshold].mean())
    raise ValueError(f"method must be 'parametric' or 'historical', got {method!r}")


def monthly_returns(returns: ReturnsLike) -> pd.Series:
    """Compounded return of each calendar month (fraction), indexed by (year, month).

    Only months with at least one observation appear. Dates are taken in the index's own
    timezone.
    """
    series = as_dated_returns(returns)
    index = pd.DatetimeIndex(series.index)
    grouped = series.add(1.0).groupby([index.year, index.month]).prod() - 1.0
    grouped.index = grouped.index.set_names(["year", "month"])
    return grouped.rename("return")


def best_month(returns: ReturnsLike) -> float:
    """Highest compounded calendar-month return (fraction)."""
    return float(monthly_returns(returns).max())


def worst_month(returns: ReturnsLike) -> float:
    """Lowest compounded calendar-month return (fraction)."""
    return float(monthly_returns(returns).min())


def monthly_returns_table(returns: ReturnsLike) -> pd.DataFrame:
    """Year × month table of compounded returns (fractions) plus a compounded ``Year`` column.

    Rows are calendar years (int), columns ``Jan`` … ``Dec`` then ``Year``. Months without
    any observation are NaN (quantstats shows 0).
    """
    months = monthly_returns(returns)
    table = months.unstack("month").reindex(columns=range(1, 13))
    table.columns = pd.Index(MONTH_NAMES)
    yearly = months.add(1.0).groupby(level="year").prod() - 1.0
    table["Year"] = yearly
    table.index = table.index.astype("int64").rename("year")
    table.columns.name = None
    return table


def rolling_volatility(
    returns: ReturnsLike,
    window: int = DEFAULT_ROLLING_WINDOW,
    periods: int = TRADING_DAYS_PER_YEAR,
) -> pd.Series:
    """Annualised sample volatility over a trailing window (NaN until the window is full)."""
    _check_window(window)
    series = as_returns(returns)
    return (series.rolling(window).std() * math.sqrt(periods)).rename("rolling_volatility")


def rolling_sharpe(
    returns: ReturnsLike,
    window: int = DEFAULT_ROLLING_WINDOW,
    rf: float = 0.0,
    periods: int = TRADING_DAYS_PER_YEAR,
) -> pd.Series:
    """Annualised Sharpe ratio over a trailing window (NaN until the window is full)."""
    _check_window(window)
    excess = as_returns(returns) - daily_risk_free(rf, periods)
    rolling = excess.rolling(window)
    ratio = rolling.mean() / rolling.std() * math.sqrt(periods)
    return ratio.rename("rolling_sharpe")


def _check_window(window: int) -> None:
    if window < 2:
        raise ValueError(f"window must be at least 2 periods, got {window}")
