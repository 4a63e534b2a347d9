"""Serial against a process pool for parameter sweeps of different sizes.

    python bench/bench_executors.py [--tasks 2,4,8,16,32] [--workers 2]

Each task is a momentum-12-1 backtest (one parameter set) on a synthetic 500 × 2,520 panel that
every process builds once and caches, as sweep workers cache their inputs. Wall time includes
starting the pool (its workers fork from a server that preloaded the engines), so the table
shows from how many tasks ``local:N`` beats ``serial``: the threshold
``executors.MIN_POOL_TASKS`` that the default ``local`` executor uses.
"""

from __future__ import annotations

import argparse
import functools
import os
import time

import numpy as np
import pandas as pd

from quantdesk.backtest.executors import LocalExecutor, SerialExecutor


@functools.cache
def _panel() -> object:
    from quantdesk.data.panel import Panel

    rng = np.random.default_rng(0)
    close = 50 * np.exp(np.cumsum(rng.normal(0.0003, 0.02, (2520, 500)), axis=0))
    dates = pd.bdate_range("2000-01-03", periods=2520).values
    return Panel(dates, tuple(f"S{j:03d}" for j in range(500)), {"close": close})


def trial(top_fraction: float) -> float:
    from quantdesk.backtest import CostModel, run_allocation
    from quantdesk.strategies.momentum_12_1 import Momentum121

    panel = _panel()
    costs = CostModel(commission_per_order=0.0, commission_bps=10.0)
    return run_allocation(panel, Momentum121(top_fraction=top_fraction), costs).final_equity  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="2,4,8,16,32")
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()
    trial(0.1)  # the serial runs use this warm process, as a sweep's parent would
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'tasks':>5} {'serial s':>9} {f'local:{options.workers} s':>10} {'faster':>7}")
    for count in (int(n) for n in options.tasks.split(",")):
        items = [0.05 + 0.3 * k / count for k in range(count)]
        start = time.perf_counter()
        list(SerialExecutor().map_unordered(trial, items))
        serial = time.perf_counter() - start
        start = time.perf_counter()
        with LocalExecutor(max_workers=options.workers) as pool:
            list(pool.map_unordered(trial, items))
        pooled = time.perf_counter() - start
        winner = "pool" if pooled < serial else "serial"
        print(f"{count:>5} {serial:>9.2f} {pooled:>10.2f} {winner:>7}")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
