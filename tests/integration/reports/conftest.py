"""A small market (eight stocks over two years of NYSE sessions, one benchmark, sectors) on
each backend, with two stored momentum runs, a run that never trades and a paper portfolio
replayed over the last six months. Built once per module and backend."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quantdesk.backtest.costs import CostModel
from quantdesk.config import Settings
from quantdesk.core.clock import SimulatedClock
from quantdesk.data.calendar import TradingCalendar
from quantdesk.db.database import Database
from quantdesk.services import Services, build_services

SECTORS = {
    "AAA": "Technology",
    "BBB": "Technology",
    "CCC": "Energy",
    "DDD": "Energy",
    "EEE": "Health Care",
    "FFF": "Health Care",
    "GGG": "Financials",
    "HHH": "Financials",
}
FIRST, LAST = date(2022, 1, 3), date(2023, 12, 29)
PARAMS = {"lookback": 60, "skip": 5, "top_fraction": 0.25, "frequency": "monthly"}
PORTFOLIO = "paper-rotation"
REPLAY_START = date(2023, 7, 3)


@dataclass(frozen=True)
class Market:
    services: Services
    run_id: str
    other_run_id: str
    idle_run_id: str
    portfolio: str = PORTFOLIO


def _bars(folder: Path) -> tuple[Path, Path]:
    days = TradingCalendar("XNYS").sessions(FIRST, LAST)
    generator = np.random.default_rng(3)
    rows = []
    drifts = np.linspace(-0.0004, 0.0012, len(SECTORS))
    for (symbol, _), drift in zip(SECTORS.items(), drifts, strict=True):
        steps = generator.normal(drift, 0.015, len(days))
        closes = 50.0 * np.exp(np.cumsum(steps))
        rows.extend((d.date().isoformat(), symbol, c) for d, c in zip(days, closes, strict=True))
    market = 3000.0 * np.exp(np.cumsum(generator.normal(0.0003, 0.01, len(days))))
    rows.extend((d.date().isoformat(), "BENCH", c) for d, c in zip(days, market, strict=True))
    frame = pd.DataFrame(rows, columns=["date", "symbol", "close"]).round({"close": 4})
    for field in ("open", "high", "low"):
        frame[field] = frame["close"]
    frame["volume"] = 1_000_000
    bars = folder / "bars.csv"
    frame.to_csv(bars, index=False)
    instruments = folder / "instruments.csv"
    pd.DataFrame(
        [
            {"symbol": s, "name": s, "sector": sector, "asset_class": "stock"}
            for s, sector in SECTORS.items()
        ]
        + [{"symbol": "BENCH", "name": "Benchmark index", "sector": "", "asset_class": "index"}]
    ).to_csv(instruments, index=False)
    return bars, instruments


@pytest.fixture(scope="module")
def market(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Market]:
    folder = tmp_path_factory.mktemp("reports")
    url = module_database_url
    database = Database(url)
    settings = Settings(data_dir=folder / "data", database_url=url)
    services = build_services(
        settings, clock=SimulatedClock(datetime(2024, 1, 2, 21, 0, tzinfo=UTC)), database=database
    )
    bars, instruments = _bars(folder)
    services.data.import_instruments(instruments)
    services.data.import_files([bars])
    universe = ",".join(SECTORS)
    costs = CostModel(commission_per_order=0.0, commission_bps=10.0, slippage_bps=5.0)
    run = services.backtest.run(
        "momentum-12-1", PARAMS, universe=universe, benchmark="BENCH", costs=costs
    )
    other = services.backtest.run(
        "momentum-12-1",
        {**PARAMS, "lookback": 120},
        universe=universe,
        benchmark="BENCH",
        costs=costs,
    )
    idle = services.backtest.run(
        "momentum-12-1", {**PARAMS, "lookback": 600}, universe=universe, benchmark="BENCH"
    )
    # a paper portfolio replayed like the demo's, on services with a clock of their own
    clock = SimulatedClock(datetime.combine(REPLAY_START - timedelta(days=1), time(0), UTC))
    replay = build_services(settings, clock=clock, database=database)
    replay.trading.create_portfolio(
        PORTFOLIO, Decimal(100_000), benchmark="BENCH", strategy="momentum-12-1"
    )
    replay.trading.run_strategy(PORTFOLIO, "momentum-12-1", REPLAY_START, LAST, PARAMS, universe)
    replay.trading.journal_add(
        PORTFOLIO, {"thesis": "Thèse : l'énergie mène — 日本 trimmed, € hedged"}
    )
    yield Market(services, run.run_id, other.run_id, idle.run_id)
    services.close()
