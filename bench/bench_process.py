"""Whole-process wall time and peak RSS of CLI commands, before beside after, with a breakdown.

    python bench/bench_process.py [--data-dir DIR] [--src before=/work/main/src ...] [--repeat 3]
        [--commands help,status,momentum,ma-crossover,rsi,support-resistance,ensemble]

Each command runs in a fresh interpreter (as a user's shell starts it) against the SQLite
database in ``DIR`` (default ``bench/.data/process``; when it holds no database the shared
``us_equities_daily.parquet``, 515 symbols × 22 years, is imported into it first with this
checkout), with each ``--src`` tree first on ``PYTHONPATH`` (default: this checkout's ``src``
only), so a before and after comparison runs in the same session on the same load.

"Warm" means what a user's second run sees: one untimed run first fills numba's cache and the
bytecode cache (both kept under ``bench/.data/``, so a pristine checkout given as ``--src`` is
never written to) and warms the OS file cache. Then ``--repeat`` rounds run, the sources
alternating within each round so a change in the machine's load hits them alike, and the best
wall time is kept. Columns:

* ``wall s``, ``CPU s``, ``RSS MB``: whole process (user + system CPU, which a busy machine
  distorts less than the wall time; peak resident set size), of the run with the best wall;
* ``imports``: seconds of every import the process made (``python -X importtime``, best of two
  more runs; lazy imports inside the stages are counted here and in their stage); after the
  table, the same run's import milliseconds by package (each module's own time);
* ``load``, ``engine``, ``metrics``, ``bias``, ``store``: the backtest service's own timings
  (``--json`` prints them), each the best of the runs; ``engine`` includes loading numba's
  cached kernels;
* ``other``: wall − imports − stages (interpreter start, command-line parsing, output);
* ``result``: ``same`` when the backtest's final equity, metrics, bias checks, counts and
  warnings equal the first source's exactly.
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
CACHE = HERE / ".data"
PARQUET = HERE.parent.parent / "shared" / "data" / "us_equities_daily.parquet"
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
PROGRAM = (
    "import sys; from quantdesk.cli import app; sys.argv[0] = 'quantdesk'; "
    "getattr(app, 'console', app.main)()"  # the script's entry (older trees: main)
)


def environment(src: Path, data_dir: Path) -> dict[str, str]:
    """The child's environment: ``src`` first, caches under ``bench/.data``, no database URL."""
    env = {**os.environ, "PYTHONPATH": str(src), "QUANTDESK_DATA_DIR": str(data_dir)}
    env.pop("QUANTDESK_DATABASE_URL", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's installed package has its bytecode
    env["PYTHONPYCACHEPREFIX"] = str(CACHE / "pycache")
    env["NUMBA_CACHE_DIR"] = str(CACHE / "numba-cache")
    return env


def ensure_database(data_dir: Path, src: Path, parquet: Path) -> None:
    """Import ``parquet`` into ``data_dir`` once (a few minutes on 2 busy cores)."""
    if (data_dir / "quantdesk.sqlite").exists():
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    print(f"importing {parquet} into {data_dir} …", flush=True)
    args = ["data", "import", str(parquet)]
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, *args],
        env=environment(src, data_dir),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"import failed: {done.stdout[-400:]}{done.stderr[-800:]}")


# what a backtest reports, compared between the sources (run ids, dates and timings differ)
RESULT_KEYS = ("final_equity", "metrics", "bias_checks", "counts", "warnings", "engine")


def run_once(
    src: Path, data_dir: Path, args: list[str]
) -> tuple[float, float, float, dict[str, Any]]:
    """(wall seconds, CPU seconds, peak RSS in MB, the JSON output when the command prints
    JSON)."""
    code = (
        "import resource, subprocess, sys\n"
        f"done = subprocess.run([sys.executable, '-c', {PROGRAM!r}, *sys.argv[1:]],"
        " capture_output=True, text=True)\n"
        "sys.stdout.write(done.stdout)\n"
        "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "cpu = usage.ru_utime + usage.ru_stime\n"
        "sys.stderr.write(f'\\nRSS_KB={usage.ru_maxrss}\\nCPU={cpu}\\nRC={done.returncode}\\n')\n"
    )
    env = environment(src, data_dir)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=False
    )
    wall = time.perf_counter() - start
    marks = ("RSS_KB=", "CPU=", "RC=")
    tail = dict(line.split("=", 1) for line in done.stderr.splitlines() if line.startswith(marks))
    if tail.get("RC") != "0":
        raise SystemExit(f"{' '.join(args)} failed with {src}: {done.stderr[-800:]}")
    payload: dict[str, Any] = {}
    if "--json" in args:
        payload = dict(json.loads(done.stdout))
    return wall, float(tail["CPU"]), int(tail["RSS_KB"]) / 1024, payload


def import_profile(src: Path, data_dir: Path, args: list[str]) -> tuple[float, dict[str, float]]:
    """Seconds spent importing (the sum of the top-level cumulative times of ``-X importtime``)
    and each package's own import seconds (``quantdesk`` by subpackage), largest first."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", PROGRAM, *args],
        env=environment(src, data_dir),
        capture_output=True,
        text=True,
        check=False,
    )
    total_us = 0
    packages: dict[str, int] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, cumulative, name = line.split("|")
        if not name.startswith("  "):  # one space of indent: a top-level import
            total_us += int(cumulative)
        parts = name.strip().split(".")
        package = ".".join(parts[:2]) if parts[0] == "quantdesk" else parts[0]
        packages[package] = packages.get(package, 0) + int(own.split(":")[1])
    ranked = sorted(packages.items(), key=lambda item: -item[1])
    return total_us / 1e6, {name: us / 1e6 for name, us in ranked}


def by_package(packages: dict[str, float], top: int = 8) -> str:
    """``pandas 310, sqlalchemy 250, …`` in milliseconds: the ``top`` largest, then the rest."""
    shown = list(packages.items())[:top]
    rest = sum(list(packages.values())[top:])
    return ", ".join(f"{name} {seconds * 1000:.0f}" for name, seconds in shown) + (
        f", other {rest * 1000:.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=CACHE / "process")
    parser.add_argument("--parquet", type=Path, default=PARQUET)
    parser.add_argument("--src", action="append", default=[], help="label=path to a src tree")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--commands", default="momentum,ma-crossover,rsi,support-resistance,ensemble"
    )
    options = parser.parse_args()
    this = ["this", str(HERE.parent / "src")]
    sources = [s.split("=", 1) for s in options.src] or [this]
    ensure_database(options.data_dir, Path(this[1]), options.parquet)
    columns = " ".join(f"{s:>7}" for s in ("imports", *STAGES, "other"))
    header = (
        f"{'source':<8} {'command':<19} {'wall s':>7} {'CPU s':>6} {'RSS MB':>7} {columns} result"
    )
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(header)
    package_lines: list[str] = []
    for name in options.commands.split(","):
        args = COMMANDS[name]
        best: dict[str, tuple[float, float, float, dict[str, Any]]] = {}
        fastest: dict[str, dict[str, float]] = {}  # each stage's best over the runs
        for _label, src in sources:
            run_once(Path(src), options.data_dir, args)  # fills the caches, warms the OS
        for _ in range(options.repeat):
            for label, src in sources:
                result = run_once(Path(src), options.data_dir, args)
                if label not in best or result[0] < best[label][0]:
                    best[label] = result
                stages = fastest.setdefault(label, {})
                for stage, seconds in (result[3].get("timings") or {}).items():
                    stages[stage] = min(float(seconds), stages.get(stage, float("inf")))
        first = {k: best[sources[0][0]][3].get(k) for k in RESULT_KEYS}
        for label, src in sources:
            wall, cpu, rss, payload = best[label]
            timings = fastest.get(label, {})
            same = {k: payload.get(k) for k in RESULT_KEYS} == first
            verdict = "" if not payload else ("same" if same else "DIFFERS")
            imports, packages = min(
                (import_profile(Path(src), options.data_dir, args) for _ in range(2)),
                key=lambda profile: profile[0],
            )
            staged = sum(float(timings.get(s, 0.0)) for s in STAGES)
            stages = " ".join(f"{timings[s]:>7.2f}" if s in timings else f"{'':>7}" for s in STAGES)
            other = wall - imports - staged
            print(
                f"{label:<8} {name:<19} {wall:>7.2f} {cpu:>6.2f} {rss:>7.0f} {imports:>7.2f} "
                f"{stages} {other:>7.2f} {verdict}",
                flush=True,
            )
            package_lines.append(f"{label:<8} {name:<19} {by_package(packages)}")
    print("\nimport ms by package (own time, -X importtime, of the faster import run):")
    print("\n".join(package_lines))
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
