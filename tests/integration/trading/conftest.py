"""Trading fixtures: services on a fresh database with three symbols of synthetic daily bars
(January–June 2024, one bar per NYSE session, closes chosen so fills are easy to check by hand)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quantdesk.data.calendar import TradingCalendar
from quantdesk.services import Services

SYMBOLS = {"AAA": 100.0, "BBB": 50.0, "CCC": 20.0}


def write_bars(path: Path) -> Path:
    days = TradingCalendar("XNYS").sessions(
        pd.Timestamp("2024-01-02").date(), pd.Timestamp("2024-06-28").date()
    )
    rows = []
    for symbol, start in SYMBOLS.items():
        growth = {"AAA": 0.001, "BBB": -0.0005, "CCC": 0.002}[symbol]
        closes = start * np.exp(growth * np.arange(len(days)))
        for day, close in zip(days, closes, strict=True):
            c = round(float(close), 2)
            rows.append((day.date().isoformat(), symbol, c, c, c, c, 1_000_000))
    frame = pd.DataFrame(rows, columns=["date", "symbol", "open", "high", "low", "close", "volume"])
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def trading_services(services: Services, tmp_path: Path) -> Services:
    services.data.import_files([write_bars(tmp_path / "bars.csv")])
    return services
