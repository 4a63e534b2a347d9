"""Time quantdesk on the signal workloads S2 and S3 (see shared/bench/README.md).

    python bench/ours_signal.py {s2|s3} DATA.parquet [--repeat 3] [--engines vector,event]

prints one JSON line per engine: workload, engine (quantdesk-vector | quantdesk-event),
first_seconds (includes numba compile or cache load), warm_median_seconds, final_equity (S3: the
mean over the 100 combinations). Engine seconds cover indicators, simulation and result
building, not reading the parquet. S2: SMA(20/50) long/flat, fills at the signal-bar close, 1 bp
per fill. S3: the same over fast 5..50 step 5 × slow 20..200 step 20.
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

from quantdesk.backtest.costs import CostModel
from quantdesk.backtest.event import run_events
from quantdesk.backtest.signals import run_signal_strategy, sma_crossover_grid
from quantdesk.data.panel import Panel
from quantdesk.strategies.ma_crossover import MovingAverageCrossover

FEE_BPS = 1.0
COSTS = CostModel(commission_per_order=0.0, commission_bps=FEE_BPS)
FAST = tuple(range(5, 51, 5))
SLOW = tuple(range(20, 201, 20))


def load_intraday_panel(path: Path) -> Panel:
    """One-symbol 1-minute OHLCV panel from the bench parquet (columns Open..Volume)."""
    frame = pd.read_parquet(path)
    dates = pd.DatetimeIndex(frame.index).as_unit("ns").values
    fields = {
        name.lower(): np.ascontiguousarray(frame[[name]].to_numpy(dtype=np.float64))
        for name in ("Open", "High", "Low", "Close", "Volume")
    }
    return Panel(dates, ("BENCH",), fields)


def s2_vector(panel: Panel) -> float:
    return run_signal_strategy(panel, MovingAverageCrossover(fast=20, slow=50), COSTS).final_equity


def s2_event(panel: Panel) -> float:
    return run_events(panel, MovingAverageCrossover(fast=20, slow=50), COSTS).final_equity


def s3_vector_finals(panel: Panel) -> np.ndarray:
    close = panel["close"][:, 0]
    return sma_crossover_grid(close, FAST, SLOW, commission_bps=FEE_BPS).reshape(-1)


def s3_event_finals(panel: Panel) -> np.ndarray:
    finals = [
        run_events(panel, MovingAverageCrossover(fast=fast, slow=slow), COSTS).final_equity
        for fast in FAST
        for slow in SLOW
    ]
    return np.asarray(finals)


WORKLOADS: dict[str, dict[str, Callable[[Panel], Any]]] = {
    "s2": {"vector": s2_vector, "event": s2_event},
    "s3": {"vector": s3_vector_finals, "event": s3_event_finals},
}


def measure(workload: str, engine: str, panel: Panel, repeat: int) -> tuple[dict[str, Any], Any]:
    """Run once cold and ``repeat`` times warm; seconds are wall time."""
    run = WORKLOADS[workload][engine]
    start = time.perf_counter()
    value = run(panel)
    first = time.perf_counter() - start
    warm = []
    for _ in range(repeat):
        start = time.perf_counter()
        value = run(panel)
        warm.append(time.perf_counter() - start)
    final = float(np.mean(value))
    line = {
        "workload": workload,
        "engine": f"quantdesk-{engine}",
        "first_seconds": round(first, 4),
        "warm_median_seconds": round(statistics.median(warm), 4),
        "final_equity": final,
    }
    return line, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("data", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--engines", default="vector,event", help="comma-separated subset")
    args = parser.parse_args()
    panel = load_intraday_panel(args.data)
    values = {}
    for engine in args.engines.split(","):
        line, values[engine] = measure(args.workload, engine, panel, max(1, args.repeat))
        print(json.dumps(line), flush=True)
    if len(values) == 2:
        vector, event = (np.asarray(v, dtype=np.float64) for v in values.values())
        worst = float(np.max(np.abs(vector / event - 1.0)))
        print(json.dumps({"workload": args.workload, "max_relative_difference": worst}))


if __name__ == "__main__":
    main()
