"""Shared fixtures: real adjusted closes of 20 S&P 500 stocks (skfolio's sample data set)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

SHARED = Path(__file__).resolve().parents[4] / "shared"  # beside the repository
SP500_CSV = SHARED / "data/pypi_samples/skfolio__sp500_dataset.csv.gz"


@pytest.fixture(scope="session")
def sp500_prices() -> pd.DataFrame:
    if not SP500_CSV.exists():
        pytest.fail(f"shared data file {SP500_CSV} is not available")
    return pd.read_csv(SP500_CSV, index_col="Date", parse_dates=True)


@pytest.fixture(scope="session")
def sp500_returns(sp500_prices: pd.DataFrame) -> pd.DataFrame:
    """Daily simple returns over the last two years of the file (2021-2022), no gaps."""
    returns = sp500_prices.pct_change().iloc[-504:]
    assert not returns.isna().any().any()
    return returns
