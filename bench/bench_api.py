"""REST API load: 50 concurrent clients on loopback against ``quantdesk serve`` on the
515-symbol database, then a momentum-12-1 backtest submitted through the API on the warm server.

    python bench/bench_api.py --data-dir DIR [--clients 50] [--requests 4000] [--port 8765]

``DIR`` holds the database (build it once:
``QUANTDESK_DATA_DIR=DIR quantdesk data import ../shared/data/us_equities_daily.parquet``).
Set-up, done once per DIR and reused: a ``bench`` admin user with an API token, the latest
momentum-composite scores, and a paper portfolio ``bench`` rebalanced into the 20 best names.
Then ``quantdesk serve`` starts in its own process and an httpx async loop sends a fixed number
of requests (``--requests``, spread over portfolio list/detail/positions/performance and
factor latest) from ``--clients`` concurrent keep-alive connections, each with its bearer
token (``--client raw``: a minimal HTTP/1.1 client on asyncio streams, the default, because
httpx spends more CPU per request than the server on a 2-core box; ``--client httpx``).
The server runs twice, without and with its one-second read cache. Latency is
wall time per request (send → full body read). Prints a table per endpoint (requests, errors,
p50/p99/max ms, requests/s) and the backtest: submit → job succeeded with the stored run's id
(cold: the first run; warm: the median of the next ``--backtest-runs`` − 1, panel cached and
kernels compiled), each with the server's CPU seconds (``--backtest-only`` skips the read load).
Targets: 0 errors, read p99 < 100 ms, backtest ≤ 0.3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

ENDPOINTS = {
    "portfolio list": "/api/portfolios",
    "portfolio detail": "/api/portfolios/bench",
    "positions": "/api/portfolios/bench/positions",
    "performance": "/api/portfolios/bench/performance?period=1Y",
    "factor latest": "/api/factors/latest?limit=50",
}
TOKEN_FILE = "bench-api-token.txt"
CLI = [sys.executable, "-c", "from quantdesk.cli.app import main; main()"]


def quantdesk(data_dir: Path, *args: str, stdin: str | None = None) -> str:
    env = {**os.environ, "QUANTDESK_DATA_DIR": str(data_dir)}
    done = subprocess.run(
        [*CLI, *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"quantdesk {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def set_up(data_dir: Path) -> str:
    """A token, stored scores and a rebalanced portfolio (once per data dir)."""
    token_path = data_dir / TOKEN_FILE
    if token_path.exists():
        return token_path.read_text().strip()
    os.environ["QUANTDESK_DATA_DIR"] = str(data_dir)
    from quantdesk.services import build_services

    services = build_services()
    try:
        last = services.data.status().latest_date
        print(f"set-up: scoring {last} …", file=sys.stderr)
        services.research.compute_scores(dates=[last])
        best = services.research.latest_scores(top=20)
        names = [p.name for p in services.trading.list_portfolios()]
        if "bench" not in names:
            services.trading.create_portfolio("bench", "1000000")
        targets = {str(s): 0.045 for s in best["symbol"]}
        services.trading.rebalance("bench", targets=targets, execute=True)
        services.trading.snapshot("bench")
    finally:
        services.close()
    quantdesk(
        data_dir,
        "user",
        "add",
        "bench",
        "--role",
        "admin",
        "--password-stdin",
        stdin="bench-password\n",
    )
    token = quantdesk(data_dir, "token", "create", "bench").strip().splitlines()[-1]
    token_path.write_text(token)
    return token


def start_server(data_dir: Path, port: int, *flags: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "QUANTDESK_DATA_DIR": str(data_dir)}
    server = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), *flags],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/login", timeout=1)
            return server
        except httpx.HTTPError:
            if server.poll() is not None:
                detail = server.stderr.read().decode() if server.stderr else ""
                raise SystemExit(f"serve exited: {detail}") from None
            time.sleep(0.2)
    server.kill()
    raise SystemExit("serve did not answer within 120 s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def load(
    base: str, token: str, clients: int, requests: int
) -> tuple[dict[str, list[float]], dict[str, int], float]:
    names = list(ENDPOINTS)
    latencies: dict[str, list[float]] = {n: [] for n in names}
    errors: dict[str, int] = dict.fromkeys(names, 0)
    counter = iter(range(requests))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=30
    ) as client:
        # one warm-up round so first-call costs (imports, caches) are not in the figures
        for path in ENDPOINTS.values():
            (await client.get(path)).raise_for_status()

        async def worker() -> None:
            for k in counter:
                name = names[k % len(names)]
                started = time.perf_counter()
                try:
                    response = await client.get(ENDPOINTS[name])
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies[name].append((time.perf_counter() - started) * 1000)
                errors[name] += not ok

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - began
    return latencies, errors, elapsed


async def raw_load(
    port: int, token: str, clients: int, requests: int
) -> tuple[dict[str, list[float]], dict[str, int], float]:
    """The same load from a minimal HTTP/1.1 keep-alive client on raw asyncio streams: on a
    2-core machine httpx's own ~2-3 ms of CPU per request would otherwise be most of what is
    measured (the server needs about 1 ms)."""
    names = list(ENDPOINTS)
    latencies: dict[str, list[float]] = {n: [] for n in names}
    errors: dict[str, int] = dict.fromkeys(names, 0)
    counter = iter(range(requests))
    head = f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n\r\n"

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for k in counter:
                name = names[k % len(names)]
                started = time.perf_counter()
                writer.write(f"GET {ENDPOINTS[name]} HTTP/1.1\r\n{head}".encode())
                status_line = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    key, _, value = line.decode("latin-1").partition(":")
                    if key.lower() == "content-length":
                        length = int(value)
                await reader.readexactly(length)
                latencies[name].append((time.perf_counter() - started) * 1000)
                errors[name] += not status_line.startswith(b"HTTP/1.1 200")
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies, errors, time.perf_counter() - began


def backtest(
    base: str, token: str, runs: int, server_pid: int, wait: str = "poll"
) -> list[tuple[float, float]]:
    """(seconds, server CPU seconds) from submit to a succeeded job, for ``runs`` runs (the
    first is cold: panel not yet cached, kernels not yet loaded; the rest warm).

    "Answers" means: ``POST /api/backtests`` sent → ``GET /api/jobs/{id}`` reads status
    ``succeeded`` with the stored run's id and its summary (final equity, Sharpe). ``wait``:
    ``poll`` asks every 5 ms; ``sse`` waits for the job's ``succeeded`` event on
    ``/api/events`` (opened before the submit) and then reads the job once. The job succeeds
    only after the run's transaction committed; after the clock stops, the run is read back
    through ``GET /api/backtests/{id}`` to check it is there."""
    headers = {"Authorization": f"Bearer {token}"}
    measured = []
    with (
        httpx.Client(base_url=base, headers=headers, timeout=600) as client,
        httpx.Client(base_url=base, headers=headers, timeout=600) as listener,
    ):
        for _ in range(runs):
            with listener.stream("GET", "/api/events?topics=job") as events:
                lines = events.iter_lines()
                next(lines)  # ": connected": the subscription exists before the submit
                cpu = cpu_seconds(server_pid)
                started = time.perf_counter()
                job = client.post("/api/backtests", json={"strategy": "momentum-12-1"}).json()
                if wait == "sse":
                    for line in lines:
                        if not line.startswith("data: "):
                            continue
                        event = json.loads(line[6:])
                        if event["id"] == job["id"] and event["status"] in ("succeeded", "failed"):
                            break
                    job = client.get(f"/api/jobs/{job['id']}").json()
                while job["status"] not in ("succeeded", "failed"):
                    time.sleep(0.005)
                    job = client.get(f"/api/jobs/{job['id']}").json()
                measured.append((time.perf_counter() - started, cpu_seconds(server_pid) - cpu))
            if job["status"] != "succeeded":
                raise SystemExit(f"backtest job failed: {job['error']}")
            stored = client.get(f"/api/backtests/{job['reference']}")
            if stored.status_code != 200:
                raise SystemExit(f"run {job['reference']} is not readable: {stored.text}")
    return measured


def backtest_line(runs: list[tuple[float, float]]) -> str:
    cold, warm = runs[0], sorted(runs[1:])
    middle = warm[len(warm) // 2]
    return (
        f"momentum-12-1 backtest through the API, submit → succeeded: cold {cold[0]:.2f} s "
        f"(server CPU {cold[1]:.2f} s); warm median {middle[0]:.3f} s (server CPU "
        f"{middle[1]:.3f} s), best {warm[0][0]:.3f} s, of {len(warm)} warm runs "
        f"[{', '.join(f'{w:.3f}/{c:.3f}' for w, c in runs[1:])} wall/CPU s]; load average "
        f"{os.getloadavg()[0]:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--client", choices=("raw", "httpx"), default="raw", help="The load generator."
    )
    parser.add_argument(
        "--backtest-runs", type=int, default=6, help="Backtests after the load (1 cold, rest warm)."
    )
    parser.add_argument(
        "--backtest-only", action="store_true", help="Skip the read load; only the backtests."
    )
    parser.add_argument(
        "--wait",
        choices=("poll", "sse"),
        default="poll",
        help="How the backtest client learns the job is done.",
    )
    args = parser.parse_args()
    token = set_up(args.data_dir)
    base = f"http://127.0.0.1:{args.port}"
    if args.backtest_only:
        server = start_server(args.data_dir, args.port)
        try:
            runs = backtest(base, token, max(args.backtest_runs, 2), server.pid, args.wait)
            print(backtest_line(runs))
        finally:
            server.terminate()
            server.wait(timeout=30)
        return
    for label, flags in (("read cache off", ("--no-read-cache",)), ("read cache on", ())):
        server = start_server(args.data_dir, args.port, *flags)
        try:
            asyncio.run(load(base, token, 5, 50))  # warm-up: first-call costs out of the figures
            if args.client == "raw":
                measured = raw_load(args.port, token, args.clients, args.requests)
            else:
                measured = load(base, token, args.clients, args.requests)
            server_cpu = cpu_seconds(server.pid)
            latencies, errors, elapsed = asyncio.run(measured)
            server_cpu = cpu_seconds(server.pid) - server_cpu
            runs = []
            if not flags:
                runs = backtest(base, token, max(args.backtest_runs, 2), server.pid, args.wait)
        finally:
            server.terminate()
            server.wait(timeout=30)
        report(label, args, latencies, errors, elapsed)
        print(
            f"server CPU {server_cpu:.2f} s = {server_cpu / args.requests * 1000:.2f} ms per "
            f"request (one core serves ~{args.requests / max(server_cpu, 1e-9):.0f} requests/s); "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
        if runs:
            print(backtest_line(runs))


def report(
    label: str,
    args: argparse.Namespace,
    latencies: dict[str, list[float]],
    errors: dict[str, int],
    elapsed: float,
) -> None:
    print(
        f"\n{label}: {args.requests} GETs from {args.clients} concurrent {args.client} clients in "
        f"{elapsed:.1f} s ({args.requests / elapsed:.0f} requests/s)"
    )
    print(
        f"{'endpoint':<18} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    )
    everything: list[float] = []
    for name, values in latencies.items():
        everything += values
        print(
            f"{name:<18} {len(values):>8} {errors[name]:>6} {percentile(values, 0.5):>8.1f} "
            f"{percentile(values, 0.99):>8.1f} {max(values):>8.1f}"
        )
    print(
        f"{'all reads':<18} {len(everything):>8} {sum(errors.values()):>6} "
        f"{percentile(everything, 0.5):>8.1f} {percentile(everything, 0.99):>8.1f} "
        f"{max(everything):>8.1f}"
    )


if __name__ == "__main__":
    main()
