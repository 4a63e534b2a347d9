"""How long a yearly PDF (and the workbook) of a 500-stock, 20-year backtest takes, and where
the time goes (issue 10: ≤ 5 s for the yearly PDF).

    .venv/bin/python bench/bench_reports.py [--parquet PATH] [--year 2020] [--keep DIR]

Imports the 504 S&P 500 stocks of ``shared/data/us_equities_daily.parquet`` (1999-11 to
2021-04, with their GICS sectors) and the S&P 500 index into a fresh SQLite database (``--keep``
reuses one), stores a quarterly ``momentum-12-1`` run (top 10 %), then builds the report of
``--year`` through the reports service and renders it. Prints one table: each phase's seconds,
then the ten functions that took longest (cumulative) inside the report build and the PDF.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from quantdesk.config import Settings
from quantdesk.core.clock import SimulatedClock
from quantdesk.reports import Report
from quantdesk.services import Services, build_services

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
FIELDS = ["date", "symbol", "open", "high", "low", "close", "volume", "adj_close"]


def prepare(folder: Path, parquet: Path) -> tuple[Services, str]:
    """The database with the stocks, the index and one stored run (made once per folder)."""
    url = f"sqlite:///{folder / 'bench.sqlite'}"
    services = build_services(
        Settings(data_dir=folder / "data", database_url=url),
        clock=SimulatedClock(datetime(2021, 5, 1, tzinfo=UTC)),
    )
    runs = services.backtest.list_runs()
    if runs:
        return services, runs[0].run_id
    symbols = pd.read_csv(SHARED / "us_equities_symbols.csv")
    stocks = symbols[symbols["asset_type"] == "stock"]
    instruments = folder / "instruments.csv"
    stocks[["symbol", "name", "sector", "asset_type"]].to_csv(instruments, index=False)
    services.data.import_instruments(instruments)
    frame = pd.read_parquet(parquet, columns=FIELDS)
    frame = frame[frame["symbol"].isin(set(stocks["symbol"]))]
    services.data.import_frame(frame, source="bench", target=str(parquet))
    index = pd.read_csv(SHARED / "ap03_sector_etfs_vix" / "indices_daily.csv.gz")
    index = index[index["symbol"] == "^GSPC"]
    services.data.import_frame(index[FIELDS], source="bench", target="indices_daily.csv.gz")
    run = services.backtest.run(
        "momentum-12-1",
        {"frequency": "quarterly", "top_fraction": 0.1},
        universe="all",
        benchmark="^GSPC",
    )
    return services, run.run_id


def _import_pdf_writer() -> None:
    import quantdesk.reports.pdf  # noqa: F401 (timed: a CLI run pays it once)


def _charts(report: Report) -> None:
    """The PDF's charts alone, converted as the writer does."""
    from reportlab.lib.pagesizes import A4

    from quantdesk.reports import charts
    from quantdesk.reports.fonts import register_fonts
    from quantdesk.reports.pdf import MARGIN, _chart

    register_fonts()
    width = A4[0] - 2 * MARGIN
    _chart(charts.line_chart(report.equity, "Equity", "equity", False), width)
    _chart(charts.line_chart(report.drawdown, "Drawdown", "%", True), width)
    if report.monthly_returns is not None:
        _chart(charts.monthly_heatmap(report.monthly_returns), width)


def main() -> None:  # noqa: PLR0915 (a script: the phases in order, then the table)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parquet", type=Path, default=SHARED / "us_equities_daily.parquet")
    parser.add_argument("--year", default="2020")
    parser.add_argument("--keep", type=Path, help="reuse (or create) the database in this folder")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="qd-bench-reports-"))
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    services, run_id = prepare(folder, args.parquet)
    setup = time.perf_counter() - started
    run = services.backtest.get_run(run_id)
    in_year = run.fills[pd.DatetimeIndex(run.fills["date"]).year == int(args.year[:4])]

    timings: list[tuple[str, float, float]] = []
    reports = services.reports
    out = folder / "out"

    def timed(label: str, work: Callable[[], object]) -> object:
        start, cpu = time.perf_counter(), time.process_time()
        value = work()
        timings.append((label, time.perf_counter() - start, time.process_time() - cpu))
        return value

    report = timed(
        "build the report model (stored run, prices, metrics, attribution)",
        lambda: reports.backtest_report(run_id, args.year),
    )
    assert isinstance(report, Report)
    timed("import the PDF writer (reportlab, matplotlib, svglib)", _import_pdf_writer)
    timed("render the PDF", lambda: reports.write(report, "pdf", out / "year.pdf"))
    pdf_total = sum(seconds for _, seconds, _ in timings)
    pdf_cpu = sum(cpu for _, _, cpu in timings)
    timed("  of which the charts (matplotlib → SVG → drawing)", lambda: _charts(report))
    timed("render the Excel workbook", lambda: reports.write(report, "xlsx", out / "year.xlsx"))
    timed("write the CSV files", lambda: reports.write(report, "csv", out / "csv"))
    timed("render the HTML tear sheet", lambda: reports.write(report, "html", out / "year.html"))
    profile = cProfile.Profile()
    profile.enable()  # a second model + PDF, profiled apart (the profiler slows what it sees)
    reports.write(reports.backtest_report(run_id, args.year), "pdf", out / "profiled.pdf")
    profile.disable()

    console = Console(width=120)
    table = Table(
        title=f"Yearly report ({args.year}) of a {len(run.series)}-day, "
        f"{run.fills['symbol'].nunique()}-symbol momentum-12-1 run: {len(in_year)} fills in "
        f"the year (setup {setup:.0f} s, not counted)"
    )
    table.add_column("phase")
    table.add_column("seconds", justify="right")
    table.add_column("CPU seconds", justify="right")
    for label, seconds, cpu in timings:
        table.add_row(label, f"{seconds:.2f}", f"{cpu:.2f}")
    table.add_row(
        "[bold]yearly PDF from a fresh process: model + import + render (target ≤ 5 s)",
        f"[bold]{pdf_total:.2f}",
        f"[bold]{pdf_cpu:.2f}",
    )
    console.print(
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: on a busy machine the "
        "CPU seconds (this process's own work) are the fairer figure"
    )
    console.print(table)
    buffer = io.StringIO()
    stats = pstats.Stats(profile, stream=buffer).sort_stats("cumulative")
    stats.print_stats(r"quantdesk/|svglib.py|doctemplate.py|figure.py", 16)
    console.print("where the time goes (a second model + PDF, profiled; cumulative seconds):")
    for line in buffer.getvalue().splitlines():
        parts = line.split()
        if len(parts) == 6 and "/" in parts[-1]:
            where = parts[-1].split("site-packages/")[-1].split("src/")[-1]
            console.print(f"  {float(parts[3]):6.2f} s  {where}", highlight=False)
    services.close()


if __name__ == "__main__":
    main()
