"""Run one peer on one workload and print one JSON line.

    bench/.venv-peers/bin/python bench/peers/run_peer.py PEER WORKLOAD DATA.parquet [--repeat N]

PEER: reference, vectorbt-numba, vectorbt-rust, bt, backtesting, backtrader.
WORKLOAD: s1 (daily wide closes), s2 (1-minute OHLCV), s3 (the 100-combo grid, 100k bars).

Timed ("engine seconds"): one call of the peer's strategy function on the already loaded
DataFrame -- signals/indicators, the library's backtest object and run, and reading the final
equity.  Not timed: interpreter start, imports, reading the parquet.  The first call of the
process is reported apart (JIT compilation, or loading numba's on-disk cache, lands there);
``--repeat N`` further calls give the warm median (N = 0: one run only, warm = null).

Output: {"workload", "engine", "first_seconds", "warm_median_seconds", "final_equity",
"runs", "per_combo" (S3 only: final equity per (fast, slow), fast-major)} or
``"status": "n/a"`` when the peer cannot express the workload.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

os.environ.setdefault("TQDM_DISABLE", "1")  # backtesting.py's progress bars

from common import load_daily, load_intraday

# peer -> (engine label, module, extra keyword arguments of its s1/s2/s3 functions)
PEERS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "reference": ("reference (numpy loops)", "reference", {}),
    "vectorbt-numba": ("vectorbt (numba)", "vectorbt_peer", {"engine": "numba"}),
    "vectorbt-rust": ("vectorbt (rust)", "vectorbt_peer", {"engine": "rust"}),
    "bt": ("bt", "bt_peer", {}),
    "backtesting": ("backtesting.py", "backtesting_peer", {}),
    "backtrader": ("backtrader", "backtrader_peer", {}),
}
WORKLOADS = ("s1", "s2", "s3")


def time_calls(run: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    seconds, result = [], None
    for _ in range(1 + repeat):
        start = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - start)
    return seconds, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("peer", choices=sorted(PEERS))
    parser.add_argument("workload", choices=WORKLOADS)
    parser.add_argument("data", help="parquet written by ../shared/bench/make_data.py")
    parser.add_argument("--repeat", type=int, default=3, help="warm runs after the first")
    args = parser.parse_args(argv)

    label, module_name, kwargs = PEERS[args.peer]
    module = importlib.import_module(module_name)
    record: dict[str, Any] = {"workload": args.workload, "engine": label}
    strategy = getattr(module, args.workload, None)
    if strategy is None:
        record.update(first_seconds=None, warm_median_seconds=None, final_equity=None)
        record["status"] = "n/a"
        print(json.dumps(record))
        return 0

    data = load_daily(args.data) if args.workload == "s1" else load_intraday(args.data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seconds, result = time_calls(functools.partial(strategy, data, **kwargs), args.repeat)
    per_combo = result if isinstance(result, list) else None
    record.update(
        first_seconds=round(seconds[0], 4),
        warm_median_seconds=round(statistics.median(seconds[1:]), 4) if args.repeat else None,
        final_equity=statistics.fmean(per_combo) if per_combo else result,
        runs=len(seconds),
    )
    if per_combo:
        record["per_combo"] = per_combo
    print(json.dumps(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
