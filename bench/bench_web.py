"""Web page load in a real browser: Dashboard and Factors (and the other pages) against
``quantdesk serve`` on a data folder, e.g. the 515-symbol database.

    python bench/bench_web.py --data-dir DIR [--repeat 5] [--port 8766]

Starts ``quantdesk serve`` in its own process on ``DIR``. When ``DIR``'s database has users, a
``web-bench`` admin is added (once) and the browser logs in; with none, the local operator is
used. Debian's chromium (``/usr/bin/chromium``) loads each page: **cold** is the first visit
(empty cache: plotly.js, 4.8 MB, is downloaded and compiled), **warm** the median of
``--repeat`` later visits (assets cached, as for a user moving between pages). A load ends
when every Plotly chart on the page is drawn. Prints one row per page with the server's time
to the first byte and the total; target: Dashboard and Factors < 1 s warm.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

PAGES = ("/", "/factors", "/portfolios", "/performance", "/trades", "/risk", "/backtests")
CHARTS_DRAWN = (
    "Array.from(document.querySelectorAll('.chart')).every(c => c.querySelector('.main-svg'))"
)
USER = "web-bench"
PASSWORD = "web-bench-password"
CLI = [sys.executable, "-c", "from quantdesk.cli.app import main; main()"]


def ensure_user(data_dir: Path) -> bool:
    """Add the bench admin when the database has users (then every page needs a login)."""
    from quantdesk.config import Settings
    from quantdesk.services import build_services
    from quantdesk.services.auth import AuthService

    services = build_services(Settings(data_dir=data_dir))
    try:
        auth = AuthService(services.database, services.clock)
        if not auth.has_users():
            return False
        if USER not in {u.username for u in auth.list_users()}:
            auth.add_user(USER, PASSWORD, "admin")
        return True
    finally:
        services.close()


def serve(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "QUANTDESK_DATA_DIR": str(data_dir)}
    process = subprocess.Popen([*CLI, "serve", "--port", str(port)], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/static/app.css", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("quantdesk serve did not answer within 60 s")


def measure(page: object, url: str) -> tuple[float, float]:
    """(time to first byte, total until every chart is drawn), seconds."""
    started = time.perf_counter()
    page.goto(url, wait_until="load")  # type: ignore[attr-defined]
    page.wait_for_function(CHARTS_DRAWN, timeout=60_000)  # type: ignore[attr-defined]
    total = time.perf_counter() - started
    first_byte = page.evaluate(  # type: ignore[attr-defined]
        "performance.getEntriesByType('navigation')[0].responseStart / 1000"
    )
    return float(first_byte), total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    login = ensure_user(args.data_dir)
    server = serve(args.data_dir, args.port)
    base = f"http://127.0.0.1:{args.port}"
    rows = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
            viewport = {"width": 1280, "height": 800}
            page = browser.new_page(viewport=viewport)
            if login:
                page.goto(base + "/login")
                page.fill("#username", USER)
                page.fill("#password", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(base + "/")
            session = page.context.storage_state()  # the session cookie, no cached files
            for path in PAGES:
                cold_context = browser.new_context(viewport=viewport, storage_state=session)
                _, cold_total = measure(cold_context.new_page(), base + path)
                cold_context.close()
                measure(page, base + path)  # the page's first visit in the warm browser
                warm = [measure(page, base + path) for _ in range(args.repeat)]
                rows.append(
                    (
                        path,
                        cold_total,
                        statistics.median(w[0] for w in warm),
                        statistics.median(w[1] for w in warm),
                    )
                )
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"page loads on {args.data_dir} (chromium, 1280×800, every chart drawn)")
    print(f"{'page':<14}{'first visit s':>15}{'warm: server s':>16}{'warm: total s':>15}")
    for path, cold_total, first_byte, total in rows:
        print(f"{path:<14}{cold_total:>15.3f}{first_byte:>16.3f}{total:>15.3f}")


if __name__ == "__main__":
    main()
