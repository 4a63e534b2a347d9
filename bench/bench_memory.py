"""Peak memory of the S1 backtest (momentum-12-1 on the vectorised engine) as N × T grows.

    python bench/bench_memory.py [--sizes 500x5040,1000x5040,2000x10080]
        [--src before=/work/main/src --src after=src]

Each size runs in a fresh interpreter on a synthetic close-only panel (random walks with gaps,
like the bench data) and reports: RSS after imports, the panel's own size, peak RSS of the
whole run, peak RSS minus imports, and the extra bytes per panel cell (peak − imports − panel,
divided by N × T): a flat figure means memory grows linearly in N × T. With ``--src`` each
labelled source tree runs in turn (first on ``PYTHONPATH``), so before and after share a session;
numba's and Python's caches go to ``bench/.data`` (a pristine checkout is never written to).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

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


def measure(src: str, n: int, t: int) -> dict[str, float]:
    """One fresh interpreter running S1 at N × T with ``src`` first on the path."""
    env = {**os.environ, "PYTHONPATH": src}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(HERE / ".data" / "pycache")
    env["NUMBA_CACHE_DIR"] = str(HERE / ".data" / "numba-cache")
    args = [sys.executable, "-c", CHILD, str(n), str(t)]
    subprocess.run(args, capture_output=True, env=env, check=False)  # fills the caches
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-800:])
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500x5040,1000x5040,2000x10080")
    parser.add_argument("--src", action="append", default=[], help="label=path to a src tree")
    options = parser.parse_args()
    sources = [s.split("=", 1) for s in options.src] or [["this", str(HERE.parent / "src")]]
    print(
        f"{'source':<8} {'N':>5} {'T':>6} {'imports MB':>10} {'panel MB':>9} {'peak MB':>8} "
        f"{'run MB':>7} {'extra B/cell':>12}"
    )
    for size in options.sizes.split(","):
        n, t = (int(x) for x in size.split("x"))
        for label, src in sources:
            row = measure(src, n, t)
            run = row["peak_mb"] - row["imports_mb"]
            extra = (run - row["panel_mb"]) * 2**20 / (n * t)
            print(
                f"{label:<8} {n:>5} {t:>6} {row['imports_mb']:>10.0f} {row['panel_mb']:>9.0f} "
                f"{row['peak_mb']:>8.0f} {run:>7.0f} {extra:>12.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
