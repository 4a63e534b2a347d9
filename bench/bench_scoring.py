"""Month-end factor scoring speed and coverage on real data (issue 3, acceptance 3 and 4).

    .venv/bin/python bench/bench_scoring.py [--data DIR] [--repeat 3]

Section 1: 500 stocks × the last 20 years of ``us_equities_daily.parquet``; the composite momentum
score with every component except EPS / P/E (relative strength vs the S&P 500, multi-horizon price
momentum, volume momentum), ranks and sector ranks on all ~240 month ends. The benchmark is the
S&P 500 close: ``^GSPC`` from ``ap03_sector_etfs_vix/indices_daily.csv.gz`` (from 2005-09) spliced
with the same index from ``pypi_samples/arch__sp500.csv.gz`` before that.

Section 2: all five components with point-in-time EPS from ``kaggle_us_earnings_2012_2019`` on the
2013-2019 month ends; prints how many symbols had each component.

Times are wall-clock after the panel is loaded: the first run (includes numba JIT compilation)
and the median of ``--repeat`` further runs.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

from quantdesk.data.panel import Panel
from quantdesk.factors import (
    CompositeMomentumConfig,
    align_earnings,
    composite_momentum,
    min_history,
    min_price,
    month_end_rows,
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
YEARS = 20
SYMBOLS = 500


def load_panel(data: Path) -> tuple[Panel, np.ndarray]:
    """500 stocks × 20 years (close, adj_close, volume) and their GICS sectors."""
    meta = pd.read_csv(data / "us_equities_symbols.csv")
    stocks = sorted(meta.loc[meta["asset_type"] == "stock", "symbol"])[:SYMBOLS]
    table = pq.read_table(
        data / "us_equities_daily.parquet",
        columns=["date", "symbol", "close", "volume", "adj_close"],
        filters=[("symbol", "in", stocks)],
    )
    end = pc.max(table["date"]).as_py()
    start = pd.Timestamp(end) - pd.DateOffset(years=YEARS)
    frame = table.to_pandas()
    frame = frame[frame["date"] > start]
    wide = {
        name: frame.pivot(index="date", columns="symbol", values=name).astype("float64")
        for name in ("close", "volume", "adj_close")
    }
    panel = Panel.from_frames(wide)
    sectors = meta.set_index("symbol").loc[list(panel.symbols), "sector"].to_numpy(dtype=object)
    return panel, sectors


def load_benchmark(data: Path, dates: np.ndarray) -> np.ndarray:
    """S&P 500 close on the panel dates (NaN where the index has no close)."""
    indices = pd.read_csv(data / "ap03_sector_etfs_vix" / "indices_daily.csv.gz")
    gspc = indices[indices["symbol"] == "^GSPC"]
    gspc = gspc.set_index(pd.to_datetime(gspc["date"]))
    arch = pd.read_csv(data / "pypi_samples" / "arch__sp500.csv.gz")
    early = arch.set_index(pd.to_datetime(arch["Date"], format="%m/%d/%Y"))["Close"]
    spliced = gspc["close"].combine_first(early[early.index < gspc.index.min()])
    index = pd.DatetimeIndex(dates)
    return spliced.reindex(index).to_numpy(dtype=np.float64)


def load_kaggle_earnings(path: Path) -> pd.DataFrame:
    """The Kaggle earnings CSV as an earnings frame (bench-only loader; the data layer has its own).

    Dates are M/D/YY, ``qtr`` like ``17-Jun`` (month of the fiscal quarter end); rows with an
    unparseable date or EPS are dropped, and so are |EPS| > 100 per quarter (data-entry outliers
    up to 987 in this file; no S&P 500 stock comes near that per quarter).
    """
    raw = pd.read_csv(path, dtype=str)
    report = pd.to_datetime(raw["date"], format="%m/%d/%y", errors="coerce")
    quarter = pd.to_datetime(raw["qtr"], format="%y-%b", errors="coerce") + pd.offsets.MonthEnd(0)
    eps = pd.to_numeric(raw["eps"], errors="coerce")
    frame = pd.DataFrame(
        {
            "symbol": raw["symbol"].str.replace(".", "-", regex=False),
            "fiscal_period_end": quarter,
            "report_date": report,
            "release_time": raw["release_time"].where(raw["release_time"].isin(["pre", "post"])),
            "eps": eps,
            "eps_estimate": pd.to_numeric(raw["eps_est"], errors="coerce"),
        }
    )
    keep = frame["report_date"].notna() & frame["eps"].notna() & (frame["eps"].abs() <= 100)
    return frame[keep].reset_index(drop=True)


def _spread(counts: np.ndarray, when: pd.DatetimeIndex) -> tuple[str, str, str, str]:
    enough = np.flatnonzero(counts >= 100)
    first = str(when[enough[0]].date()) if enough.size else "never"
    return str(counts.min()), str(int(np.median(counts))), str(counts.max()), first


def timed(function: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    started = time.perf_counter()
    result = function()
    first = time.perf_counter() - started
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        runs.append(time.perf_counter() - started)
    return first, statistics.median(runs), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    console = Console()

    started = time.perf_counter()
    panel, sectors = load_panel(args.data)
    bench = load_benchmark(args.data, panel.dates)
    load_seconds = time.perf_counter() - started
    dates = pd.DatetimeIndex(panel.dates)
    console.print(
        f"panel {panel.shape[0]} days × {panel.shape[1]} symbols, {dates[0].date()} .. "
        f"{dates[-1].date()}; benchmark coverage {np.isfinite(bench).mean():.1%}; "
        f"loaded in {load_seconds:.1f} s (not timed below)"
    )

    month_ends = month_end_rows(panel.dates, include_final=True)
    config = CompositeMomentumConfig()
    table = Table(title="Scoring all month ends (seconds)")
    for column in ("step", "dates", "first run (JIT)", f"median of {args.repeat}"):
        table.add_column(column, justify="right" if column != "step" else "left")

    def universe() -> np.ndarray:
        _, prices = panel.prices()
        return min_history(prices, 252) & min_price(panel["close"], 5.0)

    first, median, members = timed(universe, args.repeat)
    table.add_row(
        "universe filters (history ≥ 252, price ≥ 5)", "all", f"{first:.3f}", f"{median:.3f}"
    )

    def score() -> Any:
        return composite_momentum(
            panel, bench, None, config, universe=members, sectors=sectors, at=month_ends
        )

    first, median, result = timed(score, args.repeat)
    table.add_row(
        "composite momentum (RS, price, volume) + rank + sector rank",
        str(len(month_ends)),
        f"{first:.3f}",
        f"{median:.3f}",
    )

    def score_daily() -> Any:
        return composite_momentum(panel, bench, None, config, universe=members, sectors=sectors)

    first, median, _ = timed(score_daily, 1)
    table.add_row(
        "same, every trading day (reference)", str(panel.shape[0]), f"{first:.3f}", f"{median:.3f}"
    )
    console.print(table)
    scored = np.isfinite(result.score).sum(axis=1)
    console.print(
        f"symbols scored per month end: min {scored.min()}, median {int(np.median(scored))}, "
        f"max {scored.max()}"
    )

    # Section 2: all five components, 2013-2019 month ends.
    earnings_path = args.data / "kaggle_us_earnings_2012_2019" / "earnings_latest.csv"
    earnings = load_kaggle_earnings(earnings_path)
    first, median, panels = timed(lambda: align_earnings(earnings, panel.dates, panel.symbols), 1)
    in_window = (dates[month_ends] >= pd.Timestamp("2013-01-01")) & (
        dates[month_ends] <= pd.Timestamp("2019-12-31")
    )
    rows = month_ends[in_window]

    def score_all() -> Any:
        return composite_momentum(
            panel, bench, panels, config, universe=members, sectors=sectors, at=rows
        )

    first_all, median_all, full = timed(score_all, args.repeat)
    timing = Table(title=f"All five components, {len(rows)} month ends 2013-2019 (seconds)")
    for column in ("step", "first run", f"median of {args.repeat}"):
        timing.add_column(column, justify="right" if column != "step" else "left")
    timing.add_row("align earnings (point-in-time panels)", f"{first:.3f}", f"{median:.3f}")
    timing.add_row("composite momentum, 5 components", f"{first_all:.3f}", f"{median_all:.3f}")
    console.print(timing)

    coverage = Table(title="Symbols with each component per month end (in universe)")
    for column in ("component", "weight", "min", "median", "max", "first month end ≥ 100"):
        coverage.add_column(column, justify="right" if column != "component" else "left")
    for name, values in full.raw.items():
        counts = np.isfinite(values).sum(axis=1)
        coverage.add_row(name, f"{config.weights[name]:.2f}", *_spread(counts, dates[rows]))
    counts = np.isfinite(full.score).sum(axis=1)
    coverage.add_row("composite score", "", *_spread(counts, dates[rows]))
    console.print(coverage)
    console.print(
        f"earnings rows used: {len(earnings)} ({earnings['symbol'].isin(panel.symbols).sum()} for "
        f"panel symbols); top 5 on {dates[rows[-1]].date()}: "
        + ", ".join(
            panel.symbols[j] for j in np.argsort(full.rank[-1])[:5] if np.isfinite(full.rank[-1, j])
        )
    )


if __name__ == "__main__":
    main()
