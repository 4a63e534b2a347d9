"""Intraday bars through the service: 1-minute data, the event engine, daily metrics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quantdesk.core.enums import Timeframe
from quantdesk.services import Services


def minute_bars(path: Path) -> pd.DataFrame:
    """Three sessions of 1-minute bars (09:30-16:00 New York) for one symbol, a random walk."""
    rng = np.random.default_rng(3)
    stamps = pd.DatetimeIndex(
        [
            t
            for day in ("2024-03-04", "2024-03-05", "2024-03-06")
            for t in pd.date_range(f"{day} 14:30", f"{day} 20:59", freq="1min", tz="UTC")
        ]
    )
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.0008, len(stamps))))
    frame = pd.DataFrame(
        {
            "date": stamps.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "symbol": "MINI",
            "open": close,
            "high": close * 1.0005,
            "low": close * 0.9995,
            "close": close,
            "volume": 1000,
        }
    )
    frame.to_csv(path, index=False)
    return frame


def test_ma_crossover_on_minute_bars(services: Services, tmp_path: Path) -> None:
    frame = minute_bars(tmp_path / "minute.csv")
    report = services.data.import_files([tmp_path / "minute.csv"], timeframe=Timeframe.M1)
    assert report.inserted == len(frame)

    run = services.backtest.run(
        "ma-crossover",
        {"fast": 5, "slow": 30},
        universe="MINI",
        benchmark="none",
        engine="event",
        timeframe=Timeframe.M1,
    )

    assert run.result is not None
    assert len(run.result.equity) == len(frame)  # the engine marks every minute
    assert len(run.series) == 3  # stored one row per session
    assert len(run.fills) > 10
    assert run.metrics["observations"] == 2  # three sessions → two daily returns
    daily = run.result.equity.groupby(pd.DatetimeIndex(run.result.dates).normalize()).last()
    assert run.metrics["total_return"] == pytest.approx(daily.iloc[-1] / daily.iloc[0] - 1)
    assert run.equity.tolist() == daily.tolist()
    reloaded = services.backtest.get_run(run.run_id)
    np.testing.assert_allclose(reloaded.equity.to_numpy(), daily.to_numpy(), rtol=1e-12)
    vector = services.backtest.run(
        "ma-crossover",
        {"fast": 5, "slow": 30},
        universe="MINI",
        benchmark="none",
        engine="vector",
        timeframe=Timeframe.M1,
        store=False,
    )
    assert vector.result is not None
    np.testing.assert_allclose(
        vector.result.equity.to_numpy(), run.result.equity.to_numpy(), rtol=1e-9
    )
