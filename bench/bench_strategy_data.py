"""What declared data requirements and the warm-up change on the real data (issues 8 and 11).

    PYTHONPATH=src .venv/bin/python bench/bench_strategy_data.py [--before /work/main/src]
        [--parquet PATH]

Imports ``shared/data/us_equities_daily.parquet`` into a fresh SQLite database once, then, for
this source tree and (with ``--before``) another one in a child process on the same database:
the bar fields each signal strategy's inputs load and the seconds ``prepare_inputs`` takes
(515 symbols × 22 years), and the first fill of ``ma-crossover`` (fast 50, slow 200) on ten
stocks with ``--start 2015-01-02``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
STRATEGIES = ("ma-crossover", "rsi", "support-resistance", "momentum-12-1")
STOCKS = "AAPL,MSFT,KO,XOM,JPM,PFE,WMT,INTC,CSCO,ORCL"


def measure(url: str, folder: str) -> dict[str, object]:
    from quantdesk.config import Settings
    from quantdesk.services import build_services
    from quantdesk.services.backtest_run import RunRequest, prepare_inputs

    out: dict[str, object] = {}
    for name in ("momentum-12-1", *STRATEGIES):  # the first load pays for imports: not shown
        # a data folder of its own per load: no panel served from another load's disk cache
        home = Path(tempfile.mkdtemp(dir=folder))
        services = build_services(Settings(data_dir=home, database_url=url))
        started = time.perf_counter()
        inputs = prepare_inputs(services.data, services.reference, RunRequest(name))
        out[name] = (sorted(inputs.panel.fields), time.perf_counter() - started)
        services.close()
    services = build_services(
        Settings(data_dir=Path(tempfile.mkdtemp(dir=folder)), database_url=url)
    )
    run = services.backtest.run(
        "ma-crossover",
        {"fast": 50, "slow": 200},
        start=date(2015, 1, 2),
        universe=STOCKS,
        store=False,
    )
    out["first fill"] = str(run.fills["date"].min())[:10]
    out["final equity"] = run.final_equity
    services.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", help="another source tree (its src folder) to compare")
    parser.add_argument("--parquet", type=Path, default=SHARED / "us_equities_daily.parquet")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child)))
        return
    import pandas as pd

    from quantdesk.config import Settings
    from quantdesk.services import build_services

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.sqlite"
        services = build_services(Settings(data_dir=Path(folder) / "data", database_url=url))
        services.data.import_frame(pd.read_parquet(args.parquet), source="bench", target="bench")
        services.close()
        trees = {"this tree": os.environ.get("PYTHONPATH", "src")}
        if args.before:
            trees = {"before": args.before, **trees}
        results = {}
        for label, path in trees.items():
            command = [sys.executable, __file__, "--child", url, folder]
            env = {**os.environ, "PYTHONPATH": path}
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
            results[label] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{'strategy':<20} {'tree':<10} {'load s':>7}  fields")
    for name in STRATEGIES:
        for label, row in results.items():
            fields, seconds = row[name]
            print(f"{name:<20} {label:<10} {seconds:>7.2f}  {', '.join(fields)}")
    print()
    print("ma-crossover fast 50 / slow 200, ten stocks, --start 2015-01-02:")
    for label, row in results.items():
        print(
            f"  {label:<10} first fill {row['first fill']}, final equity {row['final equity']:,.2f}"
        )


if __name__ == "__main__":
    main()
