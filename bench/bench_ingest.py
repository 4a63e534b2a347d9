"""Bar ingestion and panel-load speed on SQLite and PostgreSQL (issue 2, acceptance 2 and 3).

    .venv/bin/python bench/bench_ingest.py [--postgres URL] [--parquet PATH] [--repeat 3]

Imports ``shared/data/us_equities_daily.parquet`` (2.4 M bars) into a fresh database per backend
through the data service (validation + one-transaction upsert), imports it again (must change no
row), then loads the 500-symbol × 20-year close panel straight from the database (median of
``--repeat``) and once more through the panel cache. Prints one table.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text

from quantdesk.config import Settings
from quantdesk.services import build_services
from quantdesk.services.data import DataService

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def run_backend(url: str, parquet: Path, repeat: int) -> dict[str, object]:
    services = build_services(Settings(database_url=url))
    frame = pd.read_parquet(parquet)
    started = time.perf_counter()
    first = services.data.import_frame(frame, source="bench", target=str(parquet))
    first_seconds = time.perf_counter() - started
    started = time.perf_counter()
    again = services.data.import_frame(frame, source="bench", target=str(parquet))
    again_seconds = time.perf_counter() - started
    symbols = sorted(frame["symbol"].unique())[:500]
    uncached = DataService(services.database, services.clock)  # every load reads the database
    loads, cached = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        panel = uncached.load_panel(symbols, ("close",), start=date(2001, 1, 1))
        loads.append(time.perf_counter() - started)
    services.data.load_panel(symbols, ("close",), start=date(2001, 1, 1))  # fills the cache
    for _ in range(repeat):
        started = time.perf_counter()
        services.data.load_panel(symbols, ("close",), start=date(2001, 1, 1))
        cached.append(time.perf_counter() - started)
    services.close()
    return {
        "rows": first.rows_read,
        "inserted": first.inserted,
        "reimport_changed": again.inserted + again.updated,
        "import_s": first_seconds,
        "rows_per_s": first.rows_read / first_seconds,
        "reimport_s": again_seconds,
        "panel_shape": panel.shape,
        "panel_median_s": statistics.median(loads),
        "cached_median_s": statistics.median(cached),
    }


def postgres_schema_url(url: str) -> tuple[str, str]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with create_engine(url).begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}", schema


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parquet", type=Path, default=SHARED / "us_equities_daily.parquet")
    parser.add_argument("--postgres", help="postgresql+psycopg://… (a temporary schema is used)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = run_backend(f"sqlite:///{tmp}/bench.sqlite", args.parquet, args.repeat)
    if args.postgres:
        url, schema = postgres_schema_url(args.postgres)
        try:
            results["postgresql"] = run_backend(url, args.parquet, args.repeat)
        finally:
            with create_engine(args.postgres).begin() as connection:
                connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))

    table = Table(title="quantdesk bar ingestion and panel load")
    for column in (
        "backend",
        "rows",
        "import s",
        "rows/s",
        "re-import s",
        "re-import changed",
        "panel (T×N)",
        "panel load s (median)",
        "cached load s",
    ):
        table.add_column(column, justify="right")
    for backend, r in results.items():
        table.add_row(
            backend,
            f"{r['rows']:,}",
            f"{r['import_s']:.2f}",
            f"{r['rows_per_s']:,.0f}",
            f"{r['reimport_s']:.2f}",
            str(r["reimport_changed"]),
            "×".join(str(x) for x in r["panel_shape"]),  # type: ignore[attr-defined]
            f"{r['panel_median_s']:.2f}",
            f"{r['cached_median_s']:.3f}",
        )
    Console(width=160).print(table)
    print("targets: ≥ 300,000 rows/s import; ≤ 2 s panel load (500 symbols × 20 years)")


if __name__ == "__main__":
    main()
