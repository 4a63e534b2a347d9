"""Peak memory of the S1 backtest (momentum-12-1 on the vectorised engine) as N × T grows.

    python bench/bench_memory.py [--sizes 500x5040,1000x5040,2000x10080]

Each size runs in a fresh interpreter on a synthetic close-only panel (random walks with gaps,
like the bench data) and reports: RSS after imports, the panel's own size, peak RSS of the
whole run, peak RSS minus imports, and the extra bytes per panel cell (peak − imports − panel,
divided by N × T): a flat figure means memory grows linearly in N × T.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = """
import json, resource, sys
import numpy as np, pandas as pd
from quantdesk.backtest import CostModel, run_allocation
from quantdesk.data import Panel
from quantdesk.strategies.momentum_12_1 import Momentum121

def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

n, t = int(sys.argv[1]), int(sys.argv[2])
tiny = Panel(pd.bdate_range("2000-01-03", periods=300).values, ("A", "B"),
             {"close": np.linspace(10, 20, 600).reshape(300, 2)})
run_allocation(tiny, Momentum121(), CostModel(commission_per_order=0.0))  # load the kernels
imports = rss_mb()
rng = np.random.default_rng(0)
close = 50 * np.exp(np.cumsum(rng.normal(0.0003, 0.02, (t, n)), axis=0))
close[: t // 10, : n // 10] = np.nan  # late listings
dates = pd.bdate_range("1990-01-01", periods=t).values
panel = Panel(dates, tuple(f"S{j:04d}" for j in range(n)), {"close": close})
costs = CostModel(commission_per_order=0.0, commission_bps=10.0)
result = run_allocation(panel, Momentum121(), costs, initial_cash=1_000_000.0)
print(json.dumps({"imports_mb": imports, "panel_mb": close.nbytes / 2**20, "peak_mb": rss_mb(),
                  "final_equity": float(result.final_equity)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500x5040,1000x5040,2000x10080")
    options = parser.parse_args()
    print(
        f"{'N':>5} {'T':>6} {'imports MB':>10} {'panel MB':>9} {'peak MB':>8} "
        f"{'run MB':>7} {'extra B/cell':>12}"
    )
    for size in options.sizes.split(","):
        n, t = (int(x) for x in size.split("x"))
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(n), str(t)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(done.stderr[-800:])
        row = json.loads(done.stdout.strip().splitlines()[-1])
        run = row["peak_mb"] - row["imports_mb"]
        extra = (run - row["panel_mb"]) * 2**20 / (n * t)
        print(
            f"{n:>5} {t:>6} {row['imports_mb']:>10.0f} {row['panel_mb']:>9.0f} "
            f"{row['peak_mb']:>8.0f} {run:>7.0f} {extra:>12.1f}"
        )


if __name__ == "__main__":
    main()
