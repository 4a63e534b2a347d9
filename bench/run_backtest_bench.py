"""Backtest benchmark: quantdesk's engines beside vectorbt, bt, backtesting.py and backtrader.

    .venv/bin/python bench/run_backtest_bench.py [--workloads s1,s2,s3]
                                                            [--skip-slow] [--repeat 3]

Every engine runs in its own subprocess and prints one JSON line (see bench/peers/run_peer.py):
the peers and the numpy reference in the bench-only venv ``bench/.venv-peers`` (set-up in
bench/README.md), quantdesk's engines in the project venv (``bench/ours_backtest.py s1 DATA``,
``bench/ours_signal.py s2|s3 DATA``, one line per engine).  The data sets of
../shared/bench/README.md are generated into bench/.data/ when missing.  The table shows
first-run and warm-median engine seconds, the final equity (S3: mean of the 100 combos) and
the relative difference to the reference (S3 peers: the largest per-combo difference).
backtrader runs once per workload (about a minute a run) and so does bt on S3.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DATA = BENCH / ".data"
PEERS_PYTHON = BENCH / ".venv-peers" / "bin" / "python"
OURS_PYTHON = ROOT / ".venv" / "bin" / "python"
SHARED = Path(__file__).resolve().parents[2] / "shared"  # beside the repository
MAKE_DATA = SHARED / "bench/make_data.py"
TIMEOUT = 900

WORKLOADS: dict[str, tuple[str, list[str], str]] = {
    # workload -> (data file, make_data.py arguments, description)
    "s1": (
        "daily_500x5040.parquet",
        ["daily", "--n", "500", "--t", "5040"],
        "momentum-12-1, 500 symbols x 5,040 days",
    ),
    "s2": (
        "intraday_1m.parquet",
        ["intraday", "--bars", "1000000"],
        "SMA(20/50) crossover, 1,000,000 1-minute bars",
    ),
    "s3": (
        "intraday_100k.parquet",
        ["intraday", "--bars", "100000"],
        "100-combination SMA grid, 100,000 bars",
    ),
}
PEERS = ["reference", "vectorbt-numba", "vectorbt-rust", "bt", "backtesting", "backtrader"]
SLOW = {("backtrader", "s1"), ("backtrader", "s3"), ("bt", "s3")}
ONE_RUN = {"backtrader"}  # ~1 min per run on the big files: one run, "median of 1"
OURS = {"s1": "ours_backtest.py", "s2": "ours_signal.py", "s3": "ours_signal.py"}


@dataclass
class Row:
    workload: str
    engine: str
    first: float | None = None
    warm: float | None = None
    equity: float | None = None
    per_combo: list[float] = field(default_factory=list)
    runs: int | None = None
    status: str = ""


def ensure_data(workload: str) -> Path:
    name, make_args, _ = WORKLOADS[workload]
    path = DATA / name
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        python = PEERS_PYTHON if PEERS_PYTHON.exists() else OURS_PYTHON
        print(f"generating {path} ...", file=sys.stderr)
        subprocess.run([str(python), str(MAKE_DATA), *make_args, str(path)], check=True)
    return path


def run_json(cmd: list[str], workload: str, engine: str) -> list[Row]:
    """Run one engine script; one Row per JSON line it prints (or one error row)."""
    print("$", " ".join(cmd), file=sys.stderr, flush=True)
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=TIMEOUT, cwd=ROOT, check=False
        )
    except subprocess.TimeoutExpired:
        return [Row(workload, engine, status=f"timeout > {TIMEOUT} s")]
    rows = []
    for raw in proc.stdout.splitlines():
        line = raw.strip()
        if not line.startswith("{"):
            continue
        record: dict[str, Any] = json.loads(line)
        if "engine" not in record:  # e.g. a summary line of an engine script
            continue
        rows.append(
            Row(
                workload=record.get("workload", workload),
                engine=record.get("engine", engine),
                first=record.get("first_seconds"),
                warm=record.get("warm_median_seconds"),
                equity=record.get("final_equity"),
                per_combo=record.get("per_combo") or [],
                runs=record.get("runs"),
                status=record.get("status", ""),
            )
        )
    if not rows:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        rows.append(Row(workload, engine, status=f"failed (rc {proc.returncode}): {tail[:60]}"))
    return rows


def run_ours(workload: str, data: Path, repeat: int) -> list[Row]:
    script = BENCH / OURS[workload]
    if not script.exists():
        return [Row(workload, f"quantdesk ({script.name})", status="missing")]
    base = [str(OURS_PYTHON), str(script), workload, str(data)]
    rows = run_json([*base, "--repeat", str(repeat)], workload, f"quantdesk ({script.name})")
    if rows[0].status.startswith("failed"):  # the script may not take --repeat
        rows = run_json(base, workload, f"quantdesk ({script.name})")
    return rows


def rel_diff(row: Row, reference: Row | None) -> str:
    if reference is None or reference.equity is None or row.equity is None:
        return ""
    if row.per_combo and len(row.per_combo) == len(reference.per_combo):
        worst = max(
            abs(a / b - 1.0) for a, b in zip(row.per_combo, reference.per_combo, strict=True)
        )
        return f"{worst:.1e} (max/combo)"
    return f"{abs(row.equity / reference.equity - 1.0):.1e}"


def fmt_seconds(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def print_table(rows: list[Row]) -> None:
    header = ["workload", "engine", "first s", "warm median s", "final equity", "vs reference"]
    lines = []
    references = {r.workload: r for r in rows if r.engine.startswith("reference")}
    for row in rows:
        warm = fmt_seconds(row.warm)
        if row.warm is None and row.first is not None:
            warm = "— (1 run)"
        equity = f"{row.equity:,.2f}" if row.equity is not None else (row.status or "—")
        diff = (
            ""
            if row.engine.startswith("reference")
            else rel_diff(row, references.get(row.workload))
        )
        lines.append([row.workload, row.engine, fmt_seconds(row.first), warm, equity, diff])
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines, strict=False)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for line in lines:
        print("| " + " | ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=True)) + " |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Peers run in bench/.venv-peers (see bench/README.md).",
    )
    parser.add_argument("--workloads", default="s1,s2,s3", help="comma-separated subset")
    parser.add_argument(
        "--skip-slow", action="store_true", help="skip backtrader on S1/S3 and bt on S3"
    )
    parser.add_argument("--repeat", type=int, default=3, help="warm runs after the first")
    parser.add_argument("--peers", default=",".join(PEERS), help="comma-separated subset")
    parser.add_argument("--no-ours", action="store_true", help="peers only")
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    args = parser.parse_args(argv)

    if not PEERS_PYTHON.exists():
        print(f"{PEERS_PYTHON} is missing: see bench/README.md (peers venv)", file=sys.stderr)
        return 2
    rows: list[Row] = []
    for workload in args.workloads.split(","):
        data = ensure_data(workload)
        for peer in args.peers.split(","):
            if args.skip_slow and (peer, workload) in SLOW:
                continue
            repeat = 0 if peer in ONE_RUN or (peer, workload) in SLOW else args.repeat
            cmd = [
                str(PEERS_PYTHON),
                str(BENCH / "peers" / "run_peer.py"),
                peer,
                workload,
                str(data),
                "--repeat",
                str(repeat),
            ]
            rows.extend(run_json(cmd, workload, peer))
        if not args.no_ours:
            rows.extend(run_ours(workload, data, args.repeat))
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps([row.__dict__ for row in rows], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
