"""Imports started at the same moment queue instead of failing ("database is locked").

``bench/bench_concurrent_import.py`` measures 4 and 8 concurrent imports of real data.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from quantdesk.core.clock import SimulatedClock
from quantdesk.db.database import Database
from quantdesk.services.data import DataService

DAYS = 400


def bars_file(folder: Path, worker: int) -> Path:
    """Two symbols of the worker's own and one every worker shares (identical rows)."""
    dates = pd.bdate_range("2010-01-04", periods=DAYS).strftime("%Y-%m-%d")
    rows = [
        (d, symbol, 50.0 + worker)
        for symbol in (f"W{worker}A", f"W{worker}B", "SHARED")
        for d in dates
    ]
    path = folder / f"worker{worker}.csv"
    pd.DataFrame(rows, columns=["date", "symbol", "close"]).assign(
        close=lambda f: f["close"].where(f["symbol"] != "SHARED", 10.0)
    ).to_csv(path, index=False)
    return path


def test_four_imports_at_once_all_succeed_and_lose_no_row(
    database: Database, children: Any, tmp_path: Path
) -> None:
    workers = 4
    files = [bars_file(tmp_path, w) for w in range(workers)]
    clock = SimulatedClock(datetime(2024, 1, 2, 21, 0, tzinfo=UTC))
    gate_read, gate_write = os.pipe()

    def importer(path: Path) -> Any:
        def run() -> None:
            os.close(gate_write)
            os.read(gate_read, 1)  # all start together
            child = Database(database.url)
            DataService(child, clock).import_files([path])
            child.dispose()

        return run

    database.engine.dispose()
    started = [children.start(importer(path)) for path in files]
    os.close(gate_read)
    with database.transaction() as connection:
        # another writer holds the database longer than SQLite's default 5 s lock wait
        connection.exec_driver_sql(
            "INSERT INTO data_sources (name, kind, enabled) VALUES ('busy', 'file', true)"
        )
        os.close(gate_write)
        time.sleep(6)

    assert [children.status(pid) for pid in started] == [0] * workers
    with database.read() as connection:
        bars = connection.exec_driver_sql("SELECT count(*) FROM bars").scalar_one()
        logged = connection.exec_driver_sql("SELECT count(*) FROM fetch_log").scalar_one()
    assert (bars, logged) == ((2 * workers + 1) * DAYS, workers)
