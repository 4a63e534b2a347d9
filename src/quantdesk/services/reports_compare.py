"""The comparison report: several stored runs (or strategy books of a portfolio, see
:mod:`.reports_books`) side by side over their common dates — a metrics table (one row per
subject), equity curves as growth of 100, drawdowns and the correlation matrix of daily
returns."""

from __future__ import annotations

import math
from datetime import date, datetime

import pandas as pd

from quantdesk.analytics import drawdown_series, summary
from quantdesk.reports.model import Column, ColumnFormat, Curve, Report, SubjectKind, Table
from quantdesk.reports.performance import SUMMARY_ROWS, period_slice
from quantdesk.reports.period import ReportError, ReportPeriod
from quantdesk.services.backtest_records import StoredRun

# (metric, short column title): one row per run, one column per metric
COMPARED = (
    ("total_return", "Return"),
    ("cagr", "CAGR"),
    ("volatility", "Volatility"),
    ("sharpe_ratio", "Sharpe"),
    ("sortino_ratio", "Sortino"),
    ("calmar_ratio", "Calmar"),
    ("max_drawdown", "Max DD"),
    ("win_rate", "Win rate"),
    ("profit_factor", "Profit factor"),
    ("best_month", "Best month"),
    ("worst_month", "Worst month"),
)


def comparison_report(
    runs: list[StoredRun], period: ReportPeriod, generated_at: datetime
) -> Report:
    names = _labels(runs)
    runs_table = Table.of(
        "runs",
        "Runs compared",
        [
            Column("name", "Name"),
            Column("run_id", "Run id"),
            Column("strategy", "Strategy"),
            Column("engine", "Engine"),
            Column("universe", "Universe"),
            Column("start", "Start", ColumnFormat.DATE),
            Column("end", "End", ColumnFormat.DATE),
        ],
        [
            (n, r.run_id, r.strategy, r.engine, r.universe or "", r.start, r.end)
            for n, r in zip(names, runs, strict=True)
        ],
    )
    return compare_returns(
        {n: run.series["returns"] for n, run in zip(names, runs, strict=True)},
        period,
        generated_at,
        what="runs",
        subject=", ".join(f"{n} (run {r.run_id[:12]})" for n, r in zip(names, runs, strict=True)),
        data_as_of=max(r.end for r in runs),
        subjects_table=runs_table,
    )


def compare_returns(
    series: dict[str, pd.Series],
    period: ReportPeriod,
    generated_at: datetime,
    *,
    what: str,
    subject: str,
    data_as_of: date,
    subjects_table: Table,
) -> Report:
    """Daily returns (fractions) of several subjects (``what``: "runs", "books") side by side
    over the dates they share: metrics, growth of 100, drawdowns, correlation."""
    names = list(series)
    returns = pd.DataFrame({n: s.astype("float64") for n, s in series.items()}).dropna()
    if returns.empty:
        raise ReportError(f"{what} {', '.join(names)} share no dates; nothing to compare")
    index = pd.DatetimeIndex(returns.index)
    period = period.clipped(index[0].date(), index[-1].date())
    returns = period_slice(returns, period)
    if returns.empty:
        raise ReportError(f"the {what} have no common date in period {period.label}")
    kinds = {key: kind for key, _, kind in SUMMARY_ROWS}
    figures = {name: summary(returns[name]) for name in names}
    key = what[:-1]  # "run", "book": the first column of comparison.csv and summary.csv
    label = key.capitalize()
    metric_table = Table.of(
        "comparison",
        "Metrics side by side",
        [Column(key, label), *(Column(k, title, kinds[k]) for k, title in COMPARED)],
        [(n, *(_plain(getattr(figures[n], k)) for k, _ in COMPARED)) for n in names],
    )
    correlation = returns.corr().to_numpy(dtype=float)
    correlation_table = Table.of(
        "correlation",
        "Correlation of daily returns",
        [Column(key, label), *(Column(n, n, ColumnFormat.RATIO) for n in names)],
        [(n, *(float(v) for v in correlation[i])) for i, n in enumerate(names)],
    )
    growth = tuple(Curve(n, 100.0 * (1.0 + returns[n]).cumprod()) for n in names)
    drawdowns = tuple(Curve(n, drawdown_series(returns[n])) for n in names)
    return Report(
        title="Strategy comparison — " + " vs ".join(names),
        subject_kind=SubjectKind.COMPARISON,
        subject=subject,
        period=period,
        generated_at=generated_at,
        data_as_of=data_as_of,
        currency="USD",
        metrics=(),
        equity=growth,
        drawdown=drawdowns,
        monthly_returns=None,
        tables=(metric_table, correlation_table, subjects_table),
        equity_is_rebased=True,
        notes=(
            f"Compared over the {len(returns)} dates the {what} share. Metrics follow "
            "quantstats (daily simple returns, 252 days a year, sample standard deviation).",
        ),
    )


def _labels(runs: list[StoredRun]) -> list[str]:
    """Strategy names, with the run id's start where two runs share a strategy."""
    strategies = [r.strategy for r in runs]
    return [
        r.strategy if strategies.count(r.strategy) == 1 else f"{r.strategy} {r.run_id[:6]}"
        for r in runs
    ]


def _plain(value: object) -> float | None:
    number = float(str(value)) if value is not None else math.nan
    return None if math.isnan(number) else number
