"""Storage of one signal-strategy run on the 515-symbol shared data: before (every held weight
on every trading day, converted row by row) and after (weight changes only, converted column
by column), in the same process.

    python bench/bench_backtest_storage.py /work/shared/data/us_equities_daily.parquet

prints one JSON line per variant: weight rows, seconds to write the run's tables, SQLite file
size in MB (both variants on today's schema, WITHOUT ROWID run tables), seconds to read the
weights back and to read every table of the run (what ``backtests show`` loads). "Before" reads
through the same (new) loaders, so its read time understates the old path. The run itself is
``ma-crossover`` (SMA 20/50) on the event engine over all 515 symbols, 1999-11 to 2021-12.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.backtest.costs import CostModel
from quantdesk.backtest.event import run_events
from quantdesk.backtest.result import BacktestResult
from quantdesk.data.panel import Panel
from quantdesk.db.database import Database
from quantdesk.db.repositories import backtests as repo
from quantdesk.services.backtest_records import _rebalance_weights
from quantdesk.strategies.ma_crossover import MovingAverageCrossover

FIELDS = ("open", "high", "low", "close", "volume", "adj_close")


def load_panel(path: Path) -> Panel:
    frame = pd.read_parquet(path, columns=["date", "symbol", *FIELDS])
    wide = {f: frame.pivot(index="date", columns="symbol", values=f) for f in FIELDS}
    index = wide["close"].index
    symbols = tuple(str(s) for s in wide["close"].columns)
    fields = {
        f: np.ascontiguousarray(w.reindex(index=index, columns=list(symbols)).to_numpy(float))
        for f, w in wide.items()
    }
    return Panel(pd.DatetimeIndex(index).as_unit("ns").values, symbols, fields)


def dense_weights(result: BacktestResult) -> pd.DataFrame:
    """The table stored before: every non-zero held weight on every rebalance date."""
    rows = result.dates.get_indexer(result.rebalance_dates)
    values = result.weights.to_numpy(dtype=np.float64)[rows]
    row, column = np.nonzero(values)
    return pd.DataFrame(
        {
            "date": np.asarray(result.dates[rows[row]], dtype="datetime64[ns]"),
            "symbol": np.asarray(result.symbols, dtype=object)[column],
            "weight": values[row, column],
        }
    )


def write_row_by_row(connection: Any, run_id: str, weights: pd.DataFrame) -> None:
    """The write path before: one dict and one ``date`` object per value."""
    rows = [
        {"run_id": run_id, "date": d.date().isoformat(), "symbol": str(s), "weight": float(w)}
        for d, s, w in zip(
            pd.DatetimeIndex(weights["date"]).to_pydatetime(),
            weights["symbol"].tolist(),
            weights["weight"].tolist(),
            strict=True,
        )
    ]
    values = [(r["run_id"], r["date"], r["symbol"], r["weight"]) for r in rows]
    connection.exec_driver_sql(
        "INSERT INTO backtest_weights (run_id, date, symbol, weight) VALUES (?, ?, ?, ?)", values
    )


def store(result: BacktestResult, weights: pd.DataFrame, old: bool) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp())
    path = folder / "q.sqlite"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    size_before = path.stat().st_size
    series = pd.DataFrame(
        {
            "equity": result.equity.to_numpy(),
            "returns": result.returns.to_numpy(),
            "cash": result.cash.to_numpy(),
            "turnover": result.turnover.to_numpy(),
        },
        index=pd.DatetimeIndex(result.dates, name="date"),
    )
    fills = result.fills.reindex(columns=list(repo.FILL_COLUMNS)).reset_index(drop=True)
    start = time.perf_counter()
    with database.transaction() as connection:
        repo.insert_run(
            connection,
            {
                "id": "bench",
                "strategy": "ma-crossover",
                "engine": "event",
                "params": {},
                "start_date": date(1999, 11, 1),
                "end_date": date(2021, 12, 30),
                "price_field": "adj_close",
                "initial_cash": 1e6,
                "final_equity": result.final_equity,
                "created_at": pd.Timestamp.now(tz="UTC").to_pydatetime(),
            },
        )
        repo.write_series(connection, "bench", series)
        repo.write_fills(connection, "bench", fills)
        repo.write_trades(connection, "bench", result.trades.reset_index(drop=True))
        if old:
            write_row_by_row(connection, "bench", weights)
        else:
            repo.write_weights(connection, "bench", weights)
    write_seconds = time.perf_counter() - start
    checkpoint = sqlite3.connect(path)  # outside a write transaction, which would block it
    checkpoint.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    checkpoint.close()
    start = time.perf_counter()
    with database.read() as connection:
        repo.load_weights(connection, "bench")
    read_seconds = time.perf_counter() - start
    start = time.perf_counter()
    with database.read() as connection:  # what `backtests show` reads
        for load in (repo.load_series, repo.load_fills, repo.load_trades, repo.load_weights):
            load(connection, "bench")
    read_all_seconds = time.perf_counter() - start
    database.dispose()
    size = sum(p.stat().st_size for p in folder.iterdir())
    return {
        "variant": "before: every held weight, row by row" if old else "after: changes only",
        "weight_rows": len(weights),
        "write_seconds": round(write_seconds, 3),
        "db_mb": round((size - size_before) / 1e6, 2),
        "read_weights_seconds": round(read_seconds, 3),
        "read_run_tables_seconds": round(read_all_seconds, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    args = parser.parse_args()
    panel = load_panel(args.data)
    start = time.perf_counter()
    result = run_events(
        panel,
        MovingAverageCrossover(fast=20, slow=50),
        CostModel(commission_per_order=0.0, commission_bps=1.0),
    )
    engine_seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "symbols": len(panel.symbols),
                "days": len(panel.dates),
                "fills": len(result.fills),
                "engine_seconds": round(engine_seconds, 1),
            }
        )
    )
    print(json.dumps(store(result, dense_weights(result), old=True)))
    print(json.dumps(store(result, _rebalance_weights(result, None), old=False)))


if __name__ == "__main__":
    main()
