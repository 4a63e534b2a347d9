"""All period-based metrics of one returns series in a single frozen record."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

import pandas as pd

from quantdesk.analytics._series import TRADING_DAYS_PER_YEAR, ReturnsLike, as_dated_returns
from quantdesk.analytics.drawdown import max_drawdown, max_drawdown_duration
from quantdesk.analytics.metrics import (
    alpha_beta,
    cagr,
    calmar_ratio,
    conditional_value_at_risk,
    monthly_returns,
    profit_factor,
    sharpe_ratio,
    sortino_ratio,
    total_return,
    value_at_risk,
    volatility,
    win_rate,
)


@dataclass(frozen=True, slots=True)
class MetricsSummary:
    """Headline metrics of a daily returns series. Returns and rates are fractions.

    ``alpha`` and ``beta`` are ``None`` without a benchmark. ``value_at_risk`` and
    ``conditional_value_at_risk`` are one-day, 95 %, parametric (negative = loss).
    """

    start: date
    end: date
    observations: int
    total_return: float
    cagr: float
    volatility: float
    sharpe_ratio: float
    sortino_ratio: float
    calmar_ratio: float
    max_drawdown: float
    max_drawdown_duration_days: int
    win_rate: float
    profit_factor: float
    value_at_risk: float
    conditional_value_at_risk: float
    best_month: float
    worst_month: float
    alpha: float | None
    beta: float | None
    risk_free_rate: float
    periods_per_year: int

    def to_dict(self) -> dict[str, float | int | str | None]:
        """Plain JSON-ready values; dates as ISO strings."""
        values: dict[str, float | int | str | None] = {}
        for key, value in asdict(self).items():
            values[key] = value.isoformat() if isinstance(value, date) else value
        return values


def summary(
    returns: ReturnsLike,
    benchmark: ReturnsLike | None = None,
    rf: float = 0.0,
    periods: int = TRADING_DAYS_PER_YEAR,
) -> MetricsSummary:
    """Compute every headline metric of daily simple ``returns`` (fractions).

    ``rf`` is an annual risk-free rate (fraction) used by Sharpe and Sortino only, as in
    quantstats. ``benchmark`` is paired with ``returns`` on common dates for alpha/beta.
    """
    series = as_dated_returns(returns)
    greeks = alpha_beta(series, benchmark, periods) if benchmark is not None else None
    index = pd.DatetimeIndex(series.index)
    months = monthly_returns(series)  # best and worst month from one grouping
    return MetricsSummary(
        start=index[0].date(),
        end=index[-1].date(),
        observations=len(series),
        total_return=total_return(series),
        cagr=cagr(series, periods),
        volatility=volatility(series, periods),
        sharpe_ratio=sharpe_ratio(series, rf, periods),
        sortino_ratio=sortino_ratio(series, rf, periods),
        calmar_ratio=calmar_ratio(series, periods),
        max_drawdown=max_drawdown(series),
        max_drawdown_duration_days=max_drawdown_duration(series),
        win_rate=win_rate(series),
        profit_factor=profit_factor(series),
        value_at_risk=value_at_risk(series),
        conditional_value_at_risk=conditional_value_at_risk(series),
        best_month=float(months.max()),
        worst_month=float(months.min()),
        alpha=greeks.alpha if greeks is not None else None,
        beta=greeks.beta if greeks is not None else None,
        risk_free_rate=rf,
        periods_per_year=periods,
    )
