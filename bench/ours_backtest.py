"""Time quantdesk's vectorised engine on the shared bench workloads (see shared/bench/README.md).

    python bench/ours_backtest.py s1 DATA.parquet [--repeat 3]

prints one JSON line: workload, engine, first_seconds (includes numba compile or cache load),
warm_median_seconds, final_equity, n_rebalances.  Engine seconds cover strategy signals plus
the simulation and result building, not reading the parquet.  Signal workloads (s2, s3) live in
``bench/ours_signal.py``; add more allocation workloads to ``WORKLOADS`` below.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.backtest import BacktestResult, CostModel, run_allocation
from quantdesk.data import Panel
from quantdesk.strategies.momentum_12_1 import Momentum121

BENCHMARK_SYMBOL = "SPY"  # the market factor in the synthetic data; not tradable


def load_daily_panel(path: Path) -> Panel:
    """Wide closes (index date, one column per symbol) without the benchmark column."""
    wide = pd.read_parquet(path)
    wide = wide.drop(columns=[BENCHMARK_SYMBOL], errors="ignore")
    dates = pd.DatetimeIndex(wide.index).as_unit("ns").values
    closes = np.ascontiguousarray(wide.to_numpy(dtype=np.float64))
    return Panel(dates, tuple(str(c) for c in wide.columns), {"close": closes})


def run_s1(panel: Panel) -> BacktestResult:
    """S1: monthly 12-1 momentum, top 10 %, 10 bp fee, fills at the close, fractional."""
    costs = CostModel(commission_per_order=0.0, commission_bps=10.0)
    return run_allocation(panel, Momentum121(), costs, initial_cash=1_000_000.0)


WORKLOADS: dict[str, tuple[Callable[[Path], Panel], Callable[[Panel], BacktestResult]]] = {
    "s1": (load_daily_panel, run_s1),
}


def measure(workload: str, data: Path, repeat: int) -> dict[str, Any]:
    """Run ``workload`` once cold and ``repeat`` times warm; seconds are wall time."""
    load, run = WORKLOADS[workload]
    panel = load(data)
    start = time.perf_counter()
    result = run(panel)
    first = time.perf_counter() - start
    warm = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = run(panel)
        warm.append(time.perf_counter() - start)
    return {
        "workload": workload,
        "engine": "quantdesk-vector",
        "first_seconds": round(first, 4),
        "warm_median_seconds": round(statistics.median(warm), 4),
        "final_equity": result.final_equity,
        "n_rebalances": result.n_rebalances,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("data", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(measure(args.workload, args.data, max(1, args.repeat))))


if __name__ == "__main__":
    main()
