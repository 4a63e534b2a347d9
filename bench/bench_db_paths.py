"""Database read/write paths on the 515-symbol database, before and after (issue 11).

    .venv/bin/python bench/bench_db_paths.py --src before=/path/to/main/src [--src after=src]
        [--postgres postgresql+psycopg://…/db] [--repeat 3] [--tasks panel,status,check,scores]

Builds (once, into the git-ignored ``bench/.data/db_paths/``) a SQLite database and, with
``--postgres``, a PostgreSQL schema ``bench_db_paths`` from the shared
``us_equities_daily.parquet`` and ``us_equities_symbols.csv``; both trees share them (neither
adds a migration). Then, for each
task, runs every source tree in a fresh interpreter, alternating trees within each round so a
change in the machine's load hits them alike, and prints the best wall time of ``--repeat``
rounds with its CPU seconds (this process only, not the database server's), the peak memory
the task added (``+MB``) and what it still holds afterwards (``kept_mb``):

- ``panel``: the six-field panel (open, high, low, close, adj close, volume) of 500 symbols from
  2001, read from the database (no panel cache), in-process; ``arrays MB`` is the panel's size.
- ``status``: ``DataService.status()`` in-process.
- ``check``: the ``data check`` quality report over every bar, in-process.
- ``scores-cli``: ``quantdesk scores --compute --json`` as a whole process (the momentum
  composite over all 258 month ends, ~109 k stored scores), after one untimed run per tree that
  fills numba's cache: a recompute over the stored scores, as a user's daily run finds them.
- ``scores-cold-cli``: the same into an empty score table (every row inserted), as the first
  run on a database does.
- ``status-cli`` and ``check-cli``: ``quantdesk data status`` and ``data check`` whole-process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared" / "data"
DATA = HERE / ".data" / "db_paths"
SCHEMA = "bench_db_paths"
IN_PROCESS = ("panel", "status", "check")
CLI = {
    "scores-cli": ["scores", "--compute", "--top", "5", "--json"],
    "scores-cold-cli": ["scores", "--compute", "--top", "5", "--json"],
    "status-cli": ["data", "status", "--json"],
    "check-cli": ["data", "check", "--json"],
}
PROGRAM = (
    "import sys; from quantdesk.cli import app; sys.argv[0] = 'quantdesk'; "
    "getattr(app, 'console', app.main)()"  # the script's entry (older trees: main)
)


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def child(task: str, url: str) -> None:
    """One in-process task (run by this script in a fresh interpreter); prints one JSON line."""
    from datetime import date

    from quantdesk.config import Settings
    from quantdesk.services import build_services
    from quantdesk.services.data import DataService

    services = build_services(Settings(database_url=url))
    uncached = DataService(services.database, services.clock)
    symbols = sorted(i.symbol for i in uncached.get_symbols())[:500]
    fields = ("open", "high", "low", "close", "adj_close", "volume")
    extra: dict[str, Any] = {}
    before = _rss_mb()
    cpu = time.process_time()
    started = time.perf_counter()
    if task == "panel":
        panel = uncached.load_panel(symbols, fields, start=date(2001, 1, 1))
        extra["arrays_mb"] = sum(a.nbytes for a in panel.fields.values()) / 2**20
        extra["shape"] = "×".join(map(str, panel.shape))
    elif task == "status":
        extra["bars"] = uncached.status().bars
    elif task == "check":
        report = services.reference.check_quality()
        extra["bars"] = report.bars
        extra["issues"] = sum(i.count for i in report.issues)
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    extra["kept_mb"] = _rss_mb() - before  # still held once the task returned
    print(
        json.dumps(
            {"wall": wall, "cpu": time.process_time() - cpu, "added_mb": peak - before, **extra}
        )
    )


def run_child(src: str, task: str, url: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": src}
    done = subprocess.run(
        [sys.executable, __file__, "--child", task, "--url", url],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"{task} failed with {src}: {done.stderr[-1500:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_cli(src: str, args: list[str], url: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": src, "QUANTDESK_DATABASE_URL": url}
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, *args], capture_output=True, env=env, check=False
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):  # data check exits 1 when it finds errors
        raise SystemExit(f"{' '.join(args)} failed with {src}: {done.stderr[-1500:]!r}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "output": done.stdout}


def prepare(src: str, url: str) -> None:
    """Import the shared prices and symbols once (skipped when the database has bars)."""
    env = {**os.environ, "PYTHONPATH": src, "QUANTDESK_DATABASE_URL": url}
    status = subprocess.run(
        [sys.executable, "-c", PROGRAM, "data", "status", "--json"],
        capture_output=True,
        env=env,
        check=True,
    )
    if json.loads(status.stdout)["bars"]:
        return
    for args in (
        ["data", "import", str(SHARED / "us_equities_daily.parquet"), "--json"],
        ["data", "import", "--instruments", str(SHARED / "us_equities_symbols.csv")],
    ):
        subprocess.run(
            [sys.executable, "-c", PROGRAM, *args], capture_output=True, env=env, check=True
        )
    if url.startswith("postgresql"):
        # a database that has lived a while has been vacuumed (autovacuum); a fresh bulk load
        # has not, and its first readers would pay for setting hint bits
        from sqlalchemy import create_engine, text

        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("VACUUM ANALYZE bars"))
        engine.dispose()


def postgres_url(admin: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(admin)
    with engine.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
    engine.dispose()
    separator = "&" if "?" in admin else "?"
    return f"{admin}{separator}options=-csearch_path%3D{SCHEMA}"


def measure(
    task: str, url: str, sources: list[list[str]], repeat: int
) -> dict[str, dict[str, Any]]:
    """The best (least wall time) of ``repeat`` rounds per source, sources alternating."""
    best: dict[str, dict[str, Any]] = {}
    if task.startswith("scores"):
        for _, src in sources:  # numba's cache and the OS's page cache, untimed
            run_cli(src, CLI[task], url)
    for _ in range(repeat):
        for label, src in sources:
            if task == "scores-cold-cli":
                clear_scores(url)
            result = run_cli(src, CLI[task], url) if task in CLI else run_child(src, task, url)
            if label not in best or result["wall"] < best[label]["wall"]:
                best[label] = result
    return best


def clear_scores(url: str) -> None:
    """An empty score table, as the first ``scores --compute`` of a database finds it (its
    deleted pages written back and flushed first, so that work is not timed)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM factor_scores"))
    if url.startswith("sqlite"):
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    os.sync()
    time.sleep(1)


def print_row(task: str, backend: str, label: str, r: dict[str, Any]) -> None:
    added = f"{r['added_mb']:>6.0f}" if "added_mb" in r else f"{'':>6}"
    notes = ", ".join(
        f"{k} {v:.0f}" if isinstance(v, float) else f"{k} {v}"
        for k, v in r.items()
        if k not in {"wall", "cpu", "added_mb"}
    )
    timing = f"{r['wall']:>7.2f} {r['cpu']:>7.2f} {added}"
    print(f"{task:<15} {backend:<10} {label:<8} {timing}  {notes}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", action="append", default=[], help="label=path to a src tree")
    parser.add_argument("--postgres", help="postgresql+psycopg://… (schema bench_db_paths)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--tasks", default="panel,status,check,scores-cli,scores-cold-cli,status-cli,check-cli"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child(options.child, options.url)
        return
    sources = [s.split("=", 1) for s in options.src] or [["this", str(HERE.parent / "src")]]
    DATA.mkdir(parents=True, exist_ok=True)
    backends = {"sqlite": f"sqlite:///{DATA / 'quantdesk.sqlite'}"}
    if options.postgres:
        backends["postgresql"] = postgres_url(options.postgres)
    for url in backends.values():
        prepare(sources[-1][1], url)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    header = f"{'task':<15} {'backend':<10} {'source':<8} {'wall s':>7} {'cpu s':>7} {'+MB':>6}"
    print(f"{header}  notes")
    outputs: dict[tuple[str, str, str], str] = {}
    for task in options.tasks.split(","):
        for backend, url in backends.items():
            if task in CLI and backend != "sqlite":
                continue  # whole-process figures on SQLite; PostgreSQL's in-process
            best = measure(task, url, sources, options.repeat)
            for label, _ in sources:
                r = best[label]
                if "output" in r:
                    outputs[(task, backend, label)] = r.pop("output")
                print_row(task, backend, label, r)
    for task in CLI:
        texts = {outputs[k] for k in outputs if k[0] == task}
        if len(texts) > 1:
            print(f"WARNING: {task} printed different output per source")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
