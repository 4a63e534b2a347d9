"""A report built from synthetic data (no database): two years of daily equity against a
benchmark, positions over a very long symbol list, trades, and a non-ASCII annotation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from quantdesk.analytics.trades import trade_statistics
from quantdesk.reports import Annotation, Report, SubjectKind, parse_period
from quantdesk.reports.performance import performance
from quantdesk.reports.sections import Holding, TradeLine, positions_table, trades_table

LONG_LIST = 600  # symbols held at the end: tables must split across pages


def synthetic_report(
    *, benchmark: bool = True, trades: bool = True, period: str = "2023"
) -> Report:
    generator = np.random.default_rng(11)
    days = pd.bdate_range("2022-01-03", "2023-12-29")
    returns = pd.Series(generator.normal(0.0006, 0.012, len(days)), index=days)
    equity = 1_000_000.0 * (1.0 + returns).cumprod()
    bench = (
        pd.Series(100.0 * (1.0 + generator.normal(0.0003, 0.01, len(days))).cumprod(), index=days)
        if benchmark
        else None
    )
    clipped = parse_period(period).clipped(days[0].date(), days[-1].date())
    part = performance(
        name="synthetic",
        equity=equity,
        returns=returns,
        period=clipped,
        benchmark_prices=bench,
        benchmark_name="BENCH" if benchmark else None,
        trades=trade_statistics([100.0, -50.0, 25.0]) if trades else None,
        inception_trades=trade_statistics([100.0, -50.0, 25.0, 10.0]) if trades else None,
    )
    end_equity = float(equity.iloc[-1])
    holdings = [
        Holding(f"S{k:04d}", 10.0 + k, 50.0, (10.0 + k) * 50.0, (10.0 + k) * 50.0 / end_equity)
        for k in range(LONG_LIST)
    ]
    lines = (
        [
            TradeLine(date(2023, 3, 1), "S0001", "buy", 100.0, 50.05, 50.0, 10.0, 1.0),
            TradeLine(date(2023, 6, 1), "S0002", "sell", 40.0, 49.95, 50.0, 10.0, 1.0),
        ]
        if trades
        else []
    )
    return Report(
        title="Synthetic report",
        subject_kind=SubjectKind.BACKTEST,
        subject="synthetic strategy",
        period=clipped,
        generated_at=datetime(2024, 1, 2, 21, 0, tzinfo=UTC),
        data_as_of=date(2023, 12, 29),
        currency="USD",
        metrics=part.metrics,
        equity=part.equity,
        drawdown=part.drawdown,
        monthly_returns=part.monthly,
        tables=(
            positions_table(holdings, None, {"S0001": "Énergie"}, date(2023, 12, 29)),
            trades_table(lines, "the close"),
        ),
        annotations=(
            Annotation(
                datetime(2023, 5, 2, tzinfo=UTC),
                "portfolio",
                "Thèse : la dynamique reste forte — 日本 exposure trimmed, € hedged",
            ),
        ),
        parameters=(("lookback", "252"), ("universe", "all")),
        notes=("A note for the reader.",),
    )


@pytest.fixture(scope="module")
def report() -> Report:
    return synthetic_report()


@pytest.fixture
def make_report() -> Callable[..., Report]:
    """:func:`synthetic_report` itself, for tests that vary it (test modules cannot import
    from a conftest reliably)."""
    return synthetic_report
