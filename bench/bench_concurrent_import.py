"""Concurrent imports into one database: 4 and 8 processes at once (issue 7, item 8).

    .venv/bin/python bench/bench_concurrent_import.py [--postgres URL] [--symbols 10]

Each worker process imports its own slice of ``shared/data/us_equities_daily.parquet``
(``--symbols`` symbols per worker, written as a CSV) plus one symbol every worker shares, all
released at the same moment into a fresh database. Prints one table: failed imports, rows lost
(expected bars minus stored bars) and the wall time. Run it with another checkout's sources
first on ``PYTHONPATH`` to compare (e.g. main before the fix).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
COLUMNS = ["date", "symbol", "open", "high", "low", "close", "volume", "adj_close"]


def worker_files(parquet: Path, folder: Path, workers: int, symbols: int) -> tuple[list[Path], int]:
    """One CSV per worker and the number of distinct bars they hold together."""
    frame = pd.read_parquet(parquet, columns=COLUMNS)
    names = sorted(frame["symbol"].unique())
    shared = frame[frame["symbol"] == names[0]]
    paths, total = [], len(shared)
    for w in range(workers):
        own = names[1 + w * symbols : 1 + (w + 1) * symbols]
        part = pd.concat([frame[frame["symbol"].isin(own)], shared])
        total += len(part) - len(shared)
        path = folder / f"worker{w}.csv"
        part.assign(date=part["date"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
        paths.append(path)
    return paths, total


def _import(url: str, path: Path, start: object, errors: object) -> None:
    from quantdesk.core.clock import SimulatedClock
    from quantdesk.db.database import Database
    from quantdesk.services.data import DataService

    database = Database(url)
    start.wait()  # type: ignore[attr-defined]
    try:
        clock = SimulatedClock(datetime(2024, 1, 2, tzinfo=UTC))
        DataService(database, clock).import_files([path])
    except Exception as exc:
        errors.put(f"{type(exc).__name__}: {str(exc).splitlines()[0][:80]}")  # type: ignore[attr-defined]
        raise SystemExit(1) from exc
    finally:
        database.dispose()


def run(url: str, paths: list[Path], expected: int) -> tuple[int, int, float, str]:
    from quantdesk.db.database import Database

    Database(url).dispose()  # schema first: this measures imports, not creation
    context = mp.get_context("fork")
    start, errors = context.Event(), context.Queue()
    procs = [context.Process(target=_import, args=(url, p, start, errors)) for p in paths]
    for proc in procs:
        proc.start()
    time.sleep(1.0)  # every worker has opened the database
    began = time.perf_counter()
    start.set()
    for proc in procs:
        proc.join()
    seconds = time.perf_counter() - began
    failed = sum(proc.exitcode != 0 for proc in procs)
    engine = create_engine(url)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT count(*) FROM bars")).scalar_one()
    engine.dispose()
    first_error = errors.get() if failed else ""
    return failed, expected - int(stored), seconds, first_error


def postgres_schema(base: str) -> tuple[str, str]:
    schema = f"qd_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    separator = "&" if "?" in base else "?"
    return schema, f"{base}{separator}options=-csearch_path%3D{schema}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="a PostgreSQL URL (a fresh schema is used)")
    parser.add_argument("--parquet", type=Path, default=SHARED / "us_equities_daily.parquet")
    parser.add_argument("--symbols", type=int, default=10, help="own symbols per worker")
    parser.add_argument("--workers", type=int, nargs="+", default=[4, 8])
    args = parser.parse_args()
    table = Table(title="Concurrent imports (processes released together)")
    for column in ("backend", "workers", "bars", "failed", "rows lost", "seconds", "first error"):
        table.add_column(column, justify="left" if column == "first error" else "right")
    with tempfile.TemporaryDirectory(prefix="qd-bench-concurrent-") as tmp:
        for workers in args.workers:
            folder = Path(tmp) / f"w{workers}"
            folder.mkdir()
            paths, expected = worker_files(args.parquet, folder, workers, args.symbols)
            backends = [("sqlite", f"sqlite:///{folder}/bench.sqlite")]
            if args.postgres:
                schema, url = postgres_schema(args.postgres)
                backends.append(("postgresql", url))
            for name, url in backends:
                failed, lost, seconds, error = run(url, paths, expected)
                table.add_row(
                    name,
                    str(workers),
                    f"{expected:,}",
                    str(failed),
                    str(lost),
                    f"{seconds:.1f}",
                    error,
                )
            if args.postgres:
                admin = create_engine(args.postgres)
                with admin.begin() as connection:
                    connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
                admin.dispose()
    Console().print(table)


if __name__ == "__main__":
    main()
