"""Trading speed (issue 8): a 500-name rebalance and a strategy replay beside the event backtest.

    .venv/bin/python bench/bench_trading.py [--data DIR] [--names 500] [--replay-years 2]
        [--database-url URL]

Section 1 (alone with ``--rebalance-only``): a paper portfolio of ``--names`` stocks from
``us_equities_daily.parquet`` is rebalanced to equal weights from all cash, then to rank
weights: trade list (the shared targets → trades rule), the pre-trade risk hook over the whole
batch, 500 orders through the order manager and the paper broker, fills, the Decimal ledger,
every order event, execution and position written, then the day's snapshot. Wall-clock per
rebalance (target: ≤ 1 s) and this process's CPU time (on a loaded machine the wall clock
mostly measures the wait for a core).

Section 2: momentum-12-1 on the same stocks, replayed day by day through the paper broker over
the last ``--replay-years`` years (every session: prices, on rebalance dates one batch, a
snapshot), beside the event-driven backtest of the same strategy and window.
"""

from __future__ import annotations

import argparse
import cProfile
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
from quantdesk.services.trading import TradingService

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


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


def rebalance_table(trading: TradingService, symbols: list[str], profile: Path | None) -> Table:
    """Section 1: two 500-order rebalances (from cash, then to rank weights), each with its
    snapshot; wall and CPU seconds."""
    rows = []
    trading.create_portfolio("bench", Decimal(50_000_000))
    equal = {s: 1.0 / len(symbols) for s in symbols}
    ranked = {s: (i + 1) / (len(symbols) * (len(symbols) + 1) / 2) for i, s in enumerate(symbols)}
    profiler = cProfile.Profile() if profile else None
    for label, targets in (("equal weights from cash", equal), ("to rank weights", ranked)):
        if profiler is not None:
            profiler.enable()
        started, cpu = time.perf_counter(), time.process_time()
        result = trading.rebalance("bench", targets=targets, execute=True)
        trading.snapshot("bench")
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        if profiler is not None:
            profiler.disable()
        rows.append([label, str(len(result.orders)), f"{seconds:.2f}", f"{cpu:.2f}"])
    if profiler is not None:
        profiler.dump_stats(profile)
    out = Table(title=f"1. rebalance of a {len(symbols)}-name paper portfolio (target ≤ 1 s)")
    # CPU: this process only (SQLite does all its work here; a PostgreSQL server does not)
    for column in ("rebalance", "orders", "seconds", "CPU seconds"):
        out.add_column(column)
    for row in rows:
        out.add_row(*row)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--names", type=int, default=500)
    parser.add_argument("--replay-years", type=int, default=2)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--rebalance-only", action="store_true", help="Section 1 only (skip the replay)."
    )
    parser.add_argument("--profile", type=Path, default=None, help="cProfile section 1 to a file.")
    args = parser.parse_args()
    console = Console()
    home = Path(tempfile.mkdtemp(prefix="bench-trading-"))
    url = args.database_url or f"sqlite:///{home / 'bench.sqlite'}"
    end = date(2021, 4, 20)
    history_start = end - timedelta(days=366 * (args.replay_years + 2))
    frame = load_stocks(args.data, args.names, history_start)
    clock = SimulatedClock(datetime(2021, 4, 20, 21, tzinfo=UTC))
    services = build_services(Settings(data_dir=home, database_url=url), clock=clock)
    started = time.perf_counter()
    services.data.import_frame(frame, source="bench", target="us_equities_daily.parquet")
    console.print(f"imported {len(frame):,} bars in {time.perf_counter() - started:.1f} s ({url})")
    symbols = sorted(frame["symbol"].unique())
    console.print(rebalance_table(services.trading, symbols, args.profile))
    if args.rebalance_only:
        services.close()
        return

    replay_start = end - timedelta(days=365 * args.replay_years)
    universe = ",".join(symbols)
    started = time.perf_counter()
    services.backtest.run(
        "momentum-12-1",
        start=history_start,
        end=end,
        universe=universe,
        engine="event",
        store=False,
    )
    event_seconds = time.perf_counter() - started
    replay_clock = SimulatedClock(datetime.combine(replay_start, datetime.min.time(), tzinfo=UTC))
    replay = build_services(
        Settings(data_dir=home, database_url=url), clock=replay_clock, database=services.database
    )
    replay.trading.create_portfolio("replay", Decimal(1_000_000))
    started = time.perf_counter()
    outcome = replay.trading.run_strategy(
        "replay", "momentum-12-1", replay_start, end, universe=universe
    )
    replay_seconds = time.perf_counter() - started
    out = Table(title=f"2. momentum-12-1 on {len(symbols)} stocks, {replay_start} → {end}")
    for column in ("run", "seconds", "detail"):
        out.add_column(column)
    out.add_row("event backtest (whole history)", f"{event_seconds:.1f}", "")
    out.add_row(
        "paper replay",
        f"{replay_seconds:.1f}",
        f"{outcome.rebalances} rebalances, {outcome.orders} orders",
    )
    console.print(out)
    services.close()


if __name__ == "__main__":
    main()
