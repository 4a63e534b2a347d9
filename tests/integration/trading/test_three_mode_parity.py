"""Acceptance 2 of the trading issue: one strategy object, three modes. A paper replay
(``trade run --replay``: bar by bar through the order manager, the paper broker and the Decimal
ledger, everything stored) equals the event backtest of the same run, equity to 1e-9 relative
on every session, for momentum-12-1, sector-rotation and ma-crossover on real data.

Data: 2016–2019 of ``us_equities_daily.parquet`` — 30 stocks, the 11 sector ETFs, AAPL and
MSFT — imported once per backend; each test replays 2017–2019 on a fresh portfolio.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from quantdesk.config import Settings
from quantdesk.core.clock import SimulatedClock
from quantdesk.db.database import Database
from quantdesk.db.repositories import orders as orders_repo
from quantdesk.db.repositories import paper as paper_repo
from quantdesk.execution import CostModel
from quantdesk.services import Services, build_services

START, END = date(2017, 1, 3), date(2019, 12, 30)
CASH = 1_000_000
TOLERANCE = 1e-9


@dataclass(frozen=True)
class RealData:
    url: str
    folder: Path
    stocks: tuple[str, ...]


@dataclass(frozen=True)
class ParityFiles:
    bars: Path
    instruments: Path
    stocks: tuple[str, ...]


@pytest.fixture(scope="session")
def parity_files(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> ParityFiles:
    """The subset as CSV files, written once for both backends."""
    folder = tmp_path_factory.mktemp("parity_files")
    symbols = pd.read_csv(shared_data / "us_equities_symbols.csv")
    stocks = tuple(sorted(symbols[symbols.asset_type == "stock"].symbol)[::17][:30])
    etfs = tuple(symbols[symbols.asset_type == "etf"].symbol)
    wanted = sorted({*stocks, *etfs, "AAPL", "MSFT"})
    bars = pd.read_parquet(
        shared_data / "us_equities_daily.parquet",
        filters=[
            ("symbol", "in", wanted),
            ("date", ">=", pd.Timestamp("2016-01-01")),
            ("date", "<=", pd.Timestamp("2019-12-31")),
        ],
    )
    files = ParityFiles(folder / "bars.csv", folder / "instruments.csv", stocks)
    bars.to_csv(files.bars, index=False)
    symbols[symbols.symbol.isin(wanted)].to_csv(files.instruments, index=False)
    return files


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def real_data(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    parity_files: ParityFiles,
) -> Iterator[RealData]:
    folder = tmp_path_factory.mktemp("parity")
    schema = admin = None
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'quantdesk.sqlite'}"
    else:
        # a schema of our own: the shared one is truncated by other tests' fixtures
        base = request.getfixturevalue("postgres_schema_url").split("?")[0]
        schema = f"qd_parity_{uuid.uuid4().hex[:10]}"
        admin = create_engine(base)
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        url = f"{base}?options=-csearch_path%3D{schema}"
    services = _services(url, folder)
    services.data.import_files([parity_files.bars])
    services.data.import_instruments(parity_files.instruments)
    services.close()
    yield RealData(url, folder, parity_files.stocks)
    if admin is not None:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _services(url: str, folder: Path) -> Services:
    """Services on a clock before the replay (each test its own, so each replays from START)."""
    return build_services(
        Settings(data_dir=folder / "data", database_url=url),
        clock=SimulatedClock(datetime(2016, 12, 30, 21, 0, tzinfo=UTC)),
        database=Database(url),
    )


def _replay_equals_backtest(
    data: RealData, strategy: str, universe: str | None, costs: CostModel | None = None
) -> tuple[int, float]:
    services = _services(data.url, data.folder)
    try:
        trading = services.trading
        name = f"{strategy.replace('-', '')}{uuid.uuid4().hex[:6]}"
        trading.create_portfolio(name, CASH, strategy=strategy)
        costs = costs if costs is not None else trading.backtest_costs(strategy)
        replayed = trading.run_strategy(
            name, strategy, START, END, universe=universe, costs=costs, fractional=True
        )
        backtest = services.backtest.run(
            strategy,
            start=START,
            end=END,
            universe=universe,
            engine="event",
            costs=costs,
            initial_cash=CASH,
            store=False,
        )
        history = trading.history(name)
        paper = pd.Series(
            [float(s.equity) for s in history.snapshots],
            index=pd.DatetimeIndex([s.date for s in history.snapshots]),
        )
        expected = backtest.series["equity"]
        expected.index = pd.DatetimeIndex(expected.index).normalize()
        assert list(paper.index) == list(expected.index)  # one snapshot per backtest session
        relative = ((paper - expected).abs() / expected).max()
        assert relative <= TOLERANCE, f"{strategy}: equity differs by {relative:.3g} relative"
        assert replayed.orders > 0
        assert abs(float(replayed.final_equity) / expected.iloc[-1] - 1) <= TOLERANCE
        # everything the venue did is stored once, on both sides, and the books agree
        record = trading.get_portfolio(name)
        with services.database.read() as connection:
            ours = orders_repo.executions(connection, record.account)
            _, venue = paper_repo.load(connection, record.account)
        assert sorted(str(f.fill_id) for f in ours) == sorted(str(f.fill_id) for f in venue)
        assert backtest.result is not None
        assert len(ours) == replayed.orders == len(backtest.result.fills)
        assert trading.reconcile(name).clean
        return replayed.orders, float(relative)
    finally:
        services.close()


def test_momentum_12_1_replay_equals_the_event_backtest(real_data: RealData) -> None:
    orders, _ = _replay_equals_backtest(real_data, "momentum-12-1", ",".join(real_data.stocks))
    assert orders > 60  # monthly rebalances of three names over three years


def test_sector_rotation_replay_equals_the_event_backtest_with_slippage(
    real_data: RealData,
) -> None:
    # the paper broker's own costs (5 bp slippage, $1 an order) on both sides
    costs = CostModel(commission_per_order=1.0, slippage_bps=5.0)
    _replay_equals_backtest(real_data, "sector-rotation", None, costs)


def test_ma_crossover_replay_equals_the_event_backtest(real_data: RealData) -> None:
    _replay_equals_backtest(real_data, "ma-crossover", "AAPL,MSFT")


def test_a_replay_at_the_raw_close_fills_at_the_close_not_the_adjusted_one(
    real_data: RealData,
) -> None:
    services = _services(real_data.url, real_data.folder)
    try:
        trading = services.trading
        name = f"closes{uuid.uuid4().hex[:6]}"
        trading.create_portfolio(name, CASH, strategy="ma-crossover")
        trading.run_strategy(
            name, "ma-crossover", START, date(2017, 6, 30), universe="AAPL", price_field="close"
        )
        first = trading.list_orders(name)[0]
        assert first.created_at is not None
        bar = services.data.load_panel(
            ["AAPL"], ("close", "adj_close"), first.created_at.date(), first.created_at.date()
        )
        close, adjusted = float(bar["close"][0, 0]), float(bar["adj_close"][0, 0])
        assert abs(close / adjusted - 1) > 0.01  # dividends: the two differ
        # the paper broker's defaults: 5 bp against the side
        assert first.average_fill_price is not None
        assert float(first.average_fill_price) == pytest.approx(close * 1.0005, rel=1e-12)
    finally:
        services.close()
