"""Whole-process timings of CLI commands, with the backtest service's own breakdown.

    python bench/bench_process.py --data-dir DIR [--src before=/path/to/src ...] [--repeat 2]
        [--commands help,status,momentum,ma-crossover,rsi,support-resistance,ensemble]

Each command runs in a fresh interpreter (as a user's shell starts it) against the database in
``DIR`` (build it once: ``quantdesk data import shared/data/us_equities_daily.parquet``), with
each ``--src`` tree first on ``PYTHONPATH`` (default: this checkout's ``src``), so a before and
after comparison runs in the same session on the same load. Prints one row per (source,
command): the best wall time of ``--repeat`` warm runs (after one untimed run that fills the
numba cache), peak RSS, and for backtests the service's ``load / engine / metrics / bias /
store`` seconds; ``start-up`` is wall minus those (interpreter, imports, output). Sources
alternate within each round so a change in the machine's load affects them alike.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
STAGES = ("load", "engine", "metrics", "bias", "store")
COMMANDS: dict[str, list[str]] = {
    "help": ["--help"],
    "status": ["data", "status"],
    "momentum": ["backtest", "momentum-12-1", "--json", "--no-store"],
    "momentum-stored": ["backtest", "momentum-12-1", "--json"],
    "ma-crossover": ["backtest", "ma-crossover", "--json", "--no-store"],
    "rsi": ["backtest", "rsi", "--json", "--no-store"],
    "support-resistance": ["backtest", "support-resistance", "--json", "--no-store"],
    "ensemble": ["backtest", "ensemble", "--json", "--no-store"],
}
PROGRAM = "import sys; from quantdesk.cli.app import main; sys.argv[0] = 'quantdesk'; main()"


def run_once(src: Path, data_dir: Path, args: list[str]) -> tuple[float, float, dict[str, Any]]:
    """(wall seconds, peak RSS in MB, the JSON ``timings`` when the command prints them)."""
    env = {**os.environ, "PYTHONPATH": str(src), "QUANTDESK_DATA_DIR": str(data_dir)}
    env.pop("QUANTDESK_DATABASE_URL", None)
    code = (
        "import resource, subprocess, sys\n"
        f"done = subprocess.run([sys.executable, '-c', {PROGRAM!r}, *sys.argv[1:]],"
        " capture_output=True, text=True)\n"
        "sys.stdout.write(done.stdout)\n"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "sys.stderr.write(f'\\nRSS_KB={rss}\\nRC={done.returncode}\\n')\n"
    )
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=False
    )
    wall = time.perf_counter() - start
    marks = ("RSS_KB=", "RC=")
    tail = dict(line.split("=", 1) for line in done.stderr.splitlines() if line.startswith(marks))
    if tail.get("RC") != "0":
        raise SystemExit(f"{' '.join(args)} failed with {src}: {done.stderr[-800:]}")
    timings: dict[str, Any] = {}
    if "--json" in args:
        timings = dict(json.loads(done.stdout).get("timings") or {})
    return wall, int(tail["RSS_KB"]) / 1024, timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--src", action="append", default=[], help="label=path to a src tree")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--commands", default="help,status,momentum")
    options = parser.parse_args()
    sources = [s.split("=", 1) for s in options.src] or [["this", str(HERE.parent / "src")]]
    columns = " ".join(f"{s:>7}" for s in STAGES)
    header = f"{'source':<8} {'command':<19} {'wall s':>7} {'RSS MB':>7} {'start-up':>8} {columns}"
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(header)
    for name in options.commands.split(","):
        args = COMMANDS[name]
        best: dict[str, tuple[float, float, dict[str, Any]]] = {}
        for _label, src in sources:
            run_once(Path(src), options.data_dir, args)  # fills the numba cache, warms the OS
        # sources alternate within each round, so a change in the machine's load hits both
        for _ in range(options.repeat):
            for label, src in sources:
                result = run_once(Path(src), options.data_dir, args)
                if label not in best or result[0] < best[label][0]:
                    best[label] = result
        for label, _ in sources:
            wall, rss, timings = best[label]
            startup = wall - sum(float(timings.get(s, 0.0)) for s in STAGES)
            stages = " ".join(f"{timings[s]:>7.2f}" if s in timings else f"{'':>7}" for s in STAGES)
            print(f"{label:<8} {name:<19} {wall:>7.2f} {rss:>7.0f} {startup:>8.2f} {stages}")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
