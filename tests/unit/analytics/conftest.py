"""Real return series from ../shared/data, read in place (never copied into the repo)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

SHARED = Path(__file__).resolve().parents[4] / "shared"  # beside the repository
SAMPLES = SHARED / "data/pypi_samples"
STOCKS = ("AAPL", "JPM", "XOM", "GE")


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"shared data file missing: {path}")
    return path


@pytest.fixture(scope="session")
def spy_returns() -> pd.Series:
    """SPY daily total returns 1993-02-01..2018-04-27 (zipline sample), tz-naive dates."""
    frame = pd.read_csv(
        _require(SAMPLES / "zipline__SPY_benchmark_returns.csv.gz"),
        parse_dates=["date"],
        index_col="date",
    )
    series = frame["return"].astype(float)
    series.index = pd.DatetimeIndex(series.index).tz_localize(None)
    return series.rename("SPY")


@pytest.fixture(scope="session")
def stock_returns() -> pd.DataFrame:
    """Daily simple returns of a few S&P 500 stocks 1990..2022 (skfolio adjusted closes)."""
    prices = pd.read_csv(
        _require(SAMPLES / "skfolio__sp500_dataset.csv.gz"), parse_dates=["Date"], index_col="Date"
    )
    return prices.loc[:, list(STOCKS)].pct_change().iloc[1:]


@pytest.fixture(scope="session")
def index_returns() -> pd.Series:
    """S&P 500 index daily returns on the same dates as ``stock_returns``."""
    prices = pd.read_csv(
        _require(SAMPLES / "skfolio__sp500_index.csv.gz"), parse_dates=["Date"], index_col="Date"
    )
    return prices["SP500"].pct_change().iloc[1:].rename("SP500")


@pytest.fixture(scope="session")
def real_series(spy_returns: pd.Series, stock_returns: pd.DataFrame) -> dict[str, pd.Series]:
    """Every real series the cross-checks run on, by name."""
    series = {"SPY": spy_returns}
    for symbol in STOCKS:
        series[symbol] = stock_returns[symbol].rename(symbol)
    return series
