"""Replay speed (issue 8): momentum-12-1 on 500 stocks × 20 years through the paper broker,
beside the event backtest of the same run.

    .venv/bin/python bench/bench_replay.py [--data DIR] [--names 500] [--years 20]
        [--database-url URL]

The stocks of ``us_equities_daily.parquet`` (first ``--names`` by symbol) are imported into a
temporary SQLite database (or ``--database-url``). Both runs use the strategy's backtest cost
model (10 bp of notional), fractional shares and the adjusted close:

* **event backtest**: ``BacktestService.run(engine="event")`` over the window;
* **paper replay**: ``trade run --replay`` of the same window on a fresh portfolio: every session
  through the runner (clock, decision, orders through the order manager to the paper broker,
  Decimal ledger, executions and order events stored, a snapshot per session).

The table shows each run's seconds, orders and final equity, and the largest relative difference
of the replay's stored daily equity from the backtest's (the parity the test suite asserts on a
smaller window).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

from quantdesk.config import Settings
from quantdesk.core.clock import SimulatedClock
from quantdesk.services import build_services

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
END = date(2021, 4, 20)  # the stocks' last common session
STRATEGY = "momentum-12-1"


def load_stocks(data: Path, names: int, start: date) -> pd.DataFrame:
    table = pq.read_table(
        data / "us_equities_daily.parquet",
        columns=["date", "symbol", "open", "high", "low", "close", "volume", "adj_close"],
        filters=[("date", ">=", pd.Timestamp(start))],
    )
    symbols = sorted(set(pc.unique(table["symbol"]).to_pylist()))
    stocks = [s for s in symbols if not s.startswith("XL")][:names]
    frame = table.to_pandas()
    return frame[frame["symbol"].isin(stocks)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--names", type=int, default=500)
    parser.add_argument("--years", type=int, default=20)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    console = Console()
    home = Path(tempfile.mkdtemp(prefix="bench-replay-"))
    url = args.database_url or f"sqlite:///{home / 'bench.sqlite'}"
    start = END - timedelta(days=round(365.25 * args.years))
    frame = load_stocks(args.data, args.names, start - timedelta(days=400))  # + the look-back
    clock = SimulatedClock(datetime.combine(start, datetime.min.time(), tzinfo=UTC))
    services = build_services(Settings(data_dir=home, database_url=url), clock=clock)
    started = time.perf_counter()
    services.data.import_frame(frame, source="bench", target="us_equities_daily.parquet")
    console.print(f"imported {len(frame):,} bars in {time.perf_counter() - started:.1f} s ({url})")
    symbols = sorted(frame["symbol"].unique())
    universe = "all"  # every imported stock (a symbol list would need "symbol:ALL" for ALL)
    trading = services.trading
    costs = trading.backtest_costs(STRATEGY)

    started = time.perf_counter()
    backtest = services.backtest.run(
        STRATEGY,
        start=start,
        end=END,
        universe=universe,
        engine="event",
        costs=costs,
        initial_cash=1_000_000,
        store=False,
    )
    event_seconds = time.perf_counter() - started

    trading.create_portfolio("replay", Decimal(1_000_000), strategy=STRATEGY)
    started = time.perf_counter()
    outcome = trading.run_strategy(
        "replay", STRATEGY, start, END, universe=universe, costs=costs, fractional=True
    )
    replay_seconds = time.perf_counter() - started

    history = trading.history("replay")
    paper = pd.Series(
        [float(s.equity) for s in history.snapshots],
        index=pd.DatetimeIndex([s.date for s in history.snapshots]),
    )
    expected = backtest.series["equity"]
    expected.index = pd.DatetimeIndex(expected.index).normalize()
    relative = float(((paper - expected).abs() / expected).max())
    sessions = len(expected)
    out = Table(
        title=f"{STRATEGY} on {len(symbols)} stocks, {start} → {END} ({sessions:,} sessions)"
    )
    for column in ("run", "seconds", "orders", "final equity", "ms / session"):
        out.add_column(column, justify="right" if column != "run" else "left")
    fills = 0 if backtest.result is None else len(backtest.result.fills)
    out.add_row(
        "event backtest",
        f"{event_seconds:.1f}",
        f"{fills:,}",
        f"{expected.iloc[-1]:,.2f}",
        f"{1000 * event_seconds / sessions:.2f}",
    )
    out.add_row(
        "paper replay (stored)",
        f"{replay_seconds:.1f}",
        f"{outcome.orders:,}",
        f"{float(outcome.final_equity):,.2f}",
        f"{1000 * replay_seconds / sessions:.2f}",
    )
    console.print(out)
    console.print(f"largest relative difference of daily equity: {relative:.2e}")
    services.close()


if __name__ == "__main__":
    main()
