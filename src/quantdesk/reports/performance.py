"""The performance part of a report, from daily returns: the summary metrics (over the period
and since inception), the equity and drawdown curves and the monthly returns table.

Metrics are :func:`quantdesk.analytics.summary` (quantstats definitions: daily simple returns,
252 days a year, sample standard deviation) on the returns inside the period, and on every
return from inception to the period's end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import pandas as pd

from quantdesk.analytics import drawdown_series, monthly_returns_table, summary
from quantdesk.analytics.summary import MetricsSummary
from quantdesk.analytics.trades import TradeStatistics
from quantdesk.reports.model import Column, ColumnFormat, Curve, Metric, Table
from quantdesk.reports.period import ReportError, ReportPeriod

P = ColumnFormat.PERCENT
R = ColumnFormat.RATIO
# (key, label, format): the summary table, in order
SUMMARY_ROWS: tuple[tuple[str, str, ColumnFormat], ...] = (
    ("total_return", "Return", P),
    ("benchmark_return", "Benchmark return", P),
    ("cagr", "CAGR", P),
    ("volatility", "Volatility (annualised)", P),
    ("sharpe_ratio", "Sharpe ratio", R),
    ("sortino_ratio", "Sortino ratio", R),
    ("calmar_ratio", "Calmar ratio", R),
    ("max_drawdown", "Max drawdown", P),
    ("alpha", "Alpha (annualised)", P),
    ("beta", "Beta", R),
    ("win_rate", "Win rate (days)", P),
    ("profit_factor", "Profit factor (days)", R),
    ("best_month", "Best month", P),
    ("worst_month", "Worst month", P),
    ("value_at_risk", "Daily VaR 95%", P),
    ("trade_win_rate", "Win rate (closed trades)", P),
    ("closed_trades", "Closed trades", ColumnFormat.INTEGER),
    ("end_equity", "Equity at end", ColumnFormat.CURRENCY),
)


@dataclass(frozen=True)
class Performance:
    metrics: tuple[Metric, ...]
    equity: tuple[Curve, ...]
    drawdown: tuple[Curve, ...]
    monthly: Table | None
    period_returns: pd.Series
    period: ReportPeriod


Frame = TypeVar("Frame", pd.Series, pd.DataFrame)


def period_slice(values: Frame, period: ReportPeriod) -> Frame:
    """The rows of ``values`` (dated) inside ``period``."""
    index = pd.DatetimeIndex(values.index)
    mask = np.ones(len(index), dtype=bool)
    if period.start is not None:
        mask &= index >= pd.Timestamp(period.start)
    if period.end is not None:
        mask &= index <= pd.Timestamp(period.end)
    return values[mask]


def performance(
    *,
    name: str,
    equity: pd.Series,
    returns: pd.Series,
    period: ReportPeriod,
    benchmark_prices: pd.Series | None = None,
    benchmark_name: str | None = None,
    trades: TradeStatistics | None = None,
    inception_trades: TradeStatistics | None = None,
) -> Performance:
    """Metrics and curves of ``equity`` (currency, dated) and its daily ``returns``
    (fractions, dated) over ``period`` (already clipped to the history)."""
    if equity.empty:
        raise ReportError(f"{name} has no equity history")
    in_period = period_slice(returns.dropna(), period)
    equity_in = period_slice(equity, period)
    if equity_in.empty:
        raise ReportError(f"{name} has no data in period {period.label}")
    to_end = returns.dropna()
    if period.end is not None:
        to_end = to_end[pd.DatetimeIndex(to_end.index) <= pd.Timestamp(period.end)]
    bench_returns = None
    bench_in = None
    if benchmark_prices is not None and benchmark_prices.notna().sum() > 2:
        bench_returns = benchmark_prices.dropna().pct_change().dropna()
        bench_in = period_slice(bench_returns, period)
    period_figures = _figures(in_period, bench_in)
    inception_figures = _figures(to_end, bench_returns)
    values: dict[str, tuple[float | None, float | None]] = {}
    for key, _, _ in SUMMARY_ROWS:
        values[key] = (_get(period_figures, key), _get(inception_figures, key))
    values["benchmark_return"] = (
        _compounded(bench_in),
        _compounded(None if bench_returns is None else _upto(bench_returns, period)),
    )
    values["trade_win_rate"] = (_trade(trades, "win_rate"), _trade(inception_trades, "win_rate"))
    values["closed_trades"] = (_trade(trades, "trades"), _trade(inception_trades, "trades"))
    values["end_equity"] = (float(equity_in.iloc[-1]), float(equity_in.iloc[-1]))
    metrics = tuple(
        Metric(key, label, kind, *values[key])
        for key, label, kind in SUMMARY_ROWS
        if not (key in ("benchmark_return", "alpha", "beta") and bench_returns is None)
        and not (key in ("trade_win_rate", "closed_trades") and trades is None)
    )
    curves = [Curve(name, equity_in.astype(float))]
    drawdowns = []
    if len(in_period):
        drawdowns.append(Curve(name, drawdown_series(in_period)))
    if benchmark_prices is not None and bench_in is not None and len(bench_in):
        prices = period_slice(benchmark_prices.dropna(), period)
        if len(prices):
            rebased = prices / float(prices.iloc[0]) * float(equity_in.iloc[0])
            curves.append(Curve(benchmark_name or "benchmark", rebased.astype(float)))
            drawdowns.append(Curve(benchmark_name or "benchmark", drawdown_series(bench_in)))
    return Performance(
        metrics=metrics,
        equity=tuple(curves),
        drawdown=tuple(drawdowns),
        monthly=monthly_table(in_period) if len(in_period) else None,
        period_returns=in_period,
        period=period,
    )


def monthly_table(returns: pd.Series) -> Table:
    """Year × month compounded returns (fractions) with the year's total."""
    frame = monthly_returns_table(returns)
    columns = [Column("year", "Year", ColumnFormat.TEXT)] + [
        Column(str(c), str(c) if c != "Year" else "Total", ColumnFormat.PERCENT)
        for c in frame.columns
    ]
    rows = [
        (str(year), *(None if pd.isna(v) else float(v) for v in values))
        for year, values in zip(frame.index, frame.itertuples(index=False), strict=True)
    ]
    return Table.of("monthly_returns", "Monthly returns", columns, rows)


def _figures(returns: pd.Series, benchmark: pd.Series | None) -> MetricsSummary | None:
    if returns.empty:
        return None
    paired = benchmark
    if benchmark is not None:
        common = pd.DatetimeIndex(returns.index).intersection(pd.DatetimeIndex(benchmark.index))
        # alpha/beta need two paired days with a moving benchmark
        paired = benchmark if len(common) >= 3 else None
    return summary(returns, paired)


def _get(figures: MetricsSummary | None, key: str) -> float | None:
    if figures is None or not hasattr(figures, key):
        return None
    value = getattr(figures, key)
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _trade(stats: TradeStatistics | None, key: str) -> float | None:
    if stats is None:
        return None
    number = float(getattr(stats, key))
    return None if math.isnan(number) else number


def _compounded(returns: pd.Series | None) -> float | None:
    if returns is None or returns.empty:
        return None
    return float(np.prod(1.0 + returns.to_numpy(dtype=np.float64))) - 1.0


def _upto(returns: pd.Series, period: ReportPeriod) -> pd.Series:
    if period.end is None:
        return returns
    return returns[pd.DatetimeIndex(returns.index) <= pd.Timestamp(period.end)]
