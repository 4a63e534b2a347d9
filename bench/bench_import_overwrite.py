"""What reporting overwritten bars costs an import (issue 11: the import names the symbols whose
stored values it changes).

    PYTHONPATH=src .venv/bin/python bench/bench_import_overwrite.py [--before /work/main/src]
        [--parquet PATH] [--symbols 100]

Imports the first ``--symbols`` symbols of ``shared/data/us_equities_daily.parquet`` into a fresh
SQLite database, then imports the same bars again (no change) and once more with 1 % of the
closes moved by 1 % (an overwrite), and prints the seconds of each step for this source tree
and, with ``--before``, for another one (e.g. main) run in the same way in a child process.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def measure(parquet: Path, symbols: int) -> dict[str, object]:
    import numpy as np
    import pandas as pd

    from quantdesk.config import Settings
    from quantdesk.services import build_services

    frame = pd.read_parquet(parquet)
    keep = sorted(frame["symbol"].unique())[:symbols]
    frame = frame[frame["symbol"].isin(keep)].reset_index(drop=True)
    changed = frame.copy()
    rng = np.random.default_rng(0)
    rows = rng.choice(len(changed), size=len(changed) // 100, replace=False)
    for column in ("open", "high", "low", "close", "adj_close"):
        if column in changed:
            changed.loc[rows, column] = changed.loc[rows, column] * 1.01
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.sqlite"
        services = build_services(Settings(data_dir=Path(folder) / "data", database_url=url))
        out: dict[str, object] = {"bars": len(frame)}
        steps = (("first import", frame), ("same again", frame), ("1 % changed", changed))
        for step, data in steps:
            started = time.perf_counter()
            report = services.data.import_frame(data, source="bench", target="bench")
            out[step] = time.perf_counter() - started
            out[f"{step} updated"] = report.updated
            reported = getattr(report, "changed", None)
            out[f"{step} reported"] = None if reported is None else reported.rows
        services.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", help="another source tree (its src folder) to compare")
    parser.add_argument("--parquet", type=Path, default=SHARED / "us_equities_daily.parquet")
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.parquet, args.symbols)))
        return
    trees = {"this tree": os.environ.get("PYTHONPATH", "src")}
    if args.before:
        trees = {"before": args.before, **trees}
    results = {}
    for label, path in trees.items():
        command = [sys.executable, __file__, "--child", "--parquet", str(args.parquet)]
        command += ["--symbols", str(args.symbols)]
        env = {**os.environ, "PYTHONPATH": path}
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        results[label] = json.loads(done.stdout.strip().splitlines()[-1])
    steps = ("first import", "same again", "1 % changed")
    print(f"{'tree':<10} {'bars':>9} " + " ".join(f"{s + ' s':>16}" for s in steps), end="")
    print(f" {'updated':>9} {'reported':>9}")
    for label, row in results.items():
        seconds = " ".join(f"{float(row[s]):>16.2f}" for s in steps)  # type: ignore[arg-type]
        reported = row["1 % changed reported"]
        print(
            f"{label:<10} {row['bars']:>9,} {seconds} {row['1 % changed updated']:>9,} "
            f"{'n/a' if reported is None else f'{reported:,}':>9}"
        )


if __name__ == "__main__":
    main()
