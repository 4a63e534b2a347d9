"""Cost of the look-ahead probe for a signal strategy on many symbols (issue 11).

Before: the probe re-ran the whole strategy on every symbol and row once more.
After: it re-runs a 24-symbol sample (real and perturbed), the perturbed run only up to the cut
plus a quarter. Synthetic random walks of the database's size; prints both timings.

    PYTHONPATH=src python bench/bench_lookahead_probe.py [symbols] [rows]
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.backtest.bias import perturb_after, probe_signal
from quantdesk.backtest.event import run_events
from quantdesk.data.panel import Panel
from quantdesk.strategies import default_registry


def main() -> None:
    symbols = int(sys.argv[1]) if len(sys.argv) > 1 else 515
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 5040
    rng = np.random.default_rng(0)
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.015, size=(rows, symbols)), axis=0))
    dates = pd.bdate_range("2000-01-03", periods=rows).to_numpy(dtype="datetime64[ns]")
    panel = Panel(dates, tuple(f"S{j:03d}" for j in range(symbols)), {"close": close})
    cls = default_registry().get("rsi")

    def run(view: Panel, changed: Any = None) -> Any:
        return run_events(view, cls(), None, 1_000_000.0)

    started = time.perf_counter()
    result = run(panel)
    full = time.perf_counter() - started
    started = time.perf_counter()
    run(perturb_after(panel, rows // 2))  # what the probe did before: one more full run
    before = time.perf_counter() - started
    started = time.perf_counter()
    check = probe_signal(cls(), panel, result.orders, run=run, data={})
    after = time.perf_counter() - started
    print(f"rsi on {symbols} symbols x {rows} rows: run {full:.2f} s")
    print(f"look-ahead probe before (full re-run): {before:.2f} s")
    print(f"look-ahead probe after (sample + cut): {after:.2f} s  [{check.status.value}]")
    print(f"  {check.detail}")


if __name__ == "__main__":
    main()
