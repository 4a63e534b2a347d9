"""Every page in a real browser (Debian's chromium through Playwright): no console error and no
failed request, every chart drawn by plotly.js, tables sort and paginate, no horizontal
overflow at phone width, and the two flows (rebalance → trades → dashboard; backtest form →
progress → result). Screenshots go to the test's tmp folder; with
``QUANTDESK_SCREENSHOTS=DIR`` the README's are written there too."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_support import PORTFOLIO, LiveData, LiveServer

PAGES = {
    "dashboard": "/",
    "portfolios": "/portfolios",
    "portfolio": f"/portfolios/{PORTFOLIO}",
    "factors": "/factors",
    "performance": "/performance",
    "trades": "/trades",
    "risk": "/risk",
    "strategies": "/strategies",
    "backtests": "/backtests",
    "journal": "/journal",
    "settings": "/settings",
}
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
README_SHOTS = {("dashboard", "laptop"), ("factors", "laptop"), ("portfolio", "phone")}
CHARTS_DRAWN = (
    "Array.from(document.querySelectorAll('.chart'))"
    ".every(chart => chart.querySelector('.main-svg') && chart.data && chart.data.length)"
)


class Watched:
    """A page whose console errors and failed requests are collected."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("requestfailed", self._failed)
        page.on(
            "response",
            lambda r: (
                self.problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None
            ),
        )

    def _failed(self, request: Any) -> None:
        # leaving a page closes its live event stream, and cancels the icon the browser was
        # still fetching for it: the browser aborting its own load is no failure
        left_behind = request.url.endswith(("/api/events", "/static/favicon.svg"))
        if left_behind and "ERR_ABORTED" in (request.failure or ""):
            return
        self.problems.append(f"failed: {request.url} ({request.failure})")

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.problems.append(f"console: {message.text}")

    def open(self, url: str) -> float:
        """Load ``url`` and wait until every chart is drawn; seconds taken."""
        started = time.perf_counter()
        self.page.goto(url, wait_until="load")
        self.page.wait_for_function(CHARTS_DRAWN, timeout=15_000)
        return time.perf_counter() - started

    def clean(self) -> list[str]:
        problems, self.problems = self.problems, []
        return problems


@pytest.fixture
def laptop(browser: Any) -> Iterator[Watched]:
    context = browser.new_context(viewport=LAPTOP)
    yield Watched(context.new_page())
    context.close()


def shoot(watched: Watched, server: LiveServer, name: str, size: str) -> Path:
    path = server.screenshots / f"{name}-{size}.png"
    watched.page.screenshot(path=str(path), full_page=False)
    wanted = os.environ.get("QUANTDESK_SCREENSHOTS")
    if wanted and (name, size) in README_SHOTS:
        Path(wanted).mkdir(parents=True, exist_ok=True)
        watched.page.screenshot(path=str(Path(wanted) / f"{name}-{size}.png"), full_page=False)
    return path


@pytest.mark.parametrize(("viewport", "size"), [(LAPTOP, "laptop"), (PHONE, "phone")])
def test_every_page_loads_cleanly_with_its_charts(
    live_server: LiveServer, browser: Any, viewport: dict[str, int], size: str
) -> None:
    context = browser.new_context(viewport=viewport)
    watched = Watched(context.new_page())
    try:
        for name, path in PAGES.items():
            watched.open(live_server.url + path)
            assert watched.clean() == [], name
            charts = watched.page.locator(".chart").count()
            drawn = watched.page.locator(".chart .main-svg").count()
            assert drawn >= charts, name
            if name in ("dashboard", "factors", "performance", "portfolio", "risk"):
                assert charts >= 1, f"{name} has no chart"
            overflow = watched.page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{name} overflows {overflow} px at {viewport['width']} px"
            assert shoot(watched, live_server, name, size).stat().st_size > 5_000
        if size == "phone":  # the navigation folds into a menu button
            trades = watched.page.locator("header nav a", has_text="Trades")
            assert not trades.is_visible()
            watched.page.locator(".menu-button").click()
            trades.click()
            watched.page.wait_for_url("**/trades")
    finally:
        context.close()


def test_the_factor_ranking_sorts_and_paginates(live_server: LiveServer, laptop: Watched) -> None:
    laptop.open(live_server.url + "/factors")

    def scores() -> list[float]:
        cells = laptop.page.locator("#ranking td[data-score]")
        return [float(v) for v in cells.evaluate_all("cells => cells.map(c => c.dataset.score)")]

    by_rank = scores()
    assert by_rank == sorted(by_rank, reverse=True)  # rank 1 = best score
    laptop.page.locator("#ranking th a[data-sort='score']").click()
    laptop.page.wait_for_url(re.compile(r"sort=score"))
    laptop.page.wait_for_function(CHARTS_DRAWN)
    first_click = scores()
    laptop.page.locator("#ranking th a[data-sort='score']").click()
    laptop.page.wait_for_url(re.compile(r"order=asc"))
    ascending = scores()
    assert first_click == sorted(first_click, reverse=True)
    assert ascending == sorted(ascending)
    assert ascending[0] == min(by_rank + ascending)

    laptop.page.locator("a[rel=next]").click()
    laptop.page.wait_for_url(re.compile(r"page=2"))
    laptop.page.wait_for_function(CHARTS_DRAWN)
    assert "16–20 of 20" in laptop.page.locator(".pager").inner_text()
    assert min(scores()) >= max(ascending)  # the sort holds across pages
    assert laptop.clean() == []


def test_backtest_form_runs_in_the_background_to_the_result(
    live_server: LiveServer, laptop: Watched
) -> None:
    page = laptop.page
    laptop.open(live_server.url + "/backtests")
    runs_before = {r.run_id for r in live_server.services.backtest.list_runs()}
    page.select_option("#run-backtest select[name=strategy]", "momentum-12-1")
    page.fill("#run-backtest input[name=start]", "2021-01-04")
    page.fill("#run-backtest input[name=benchmark]", "SP500")
    with page.expect_request(re.compile(r"/backtests/jobs/[^/]+$")) as job_request:
        page.click("#run-backtest button")
    page.wait_for_url(re.compile(r"/backtests/[0-9a-f]{32}$"), timeout=60_000)
    # the browser went through the job page; its body is read again now, since a warm server
    # finishes the run so fast that the page has moved on before its first body could be read
    job_page = page.request.get(job_request.value.url)
    assert "<progress" in job_page.text()  # the job page shows the progress bar
    page.wait_for_function(CHARTS_DRAWN)
    assert page.locator("#equity-chart .main-svg").count() >= 1
    assert "2021-01-04" in page.locator("main").inner_text()
    [new_run] = {r.run_id for r in live_server.services.backtest.list_runs()} - runs_before
    assert page.url.endswith(f"/backtests/{new_run}")
    assert laptop.clean() == []

    # the new run beside a stored one
    laptop.open(live_server.url + "/backtests")
    boxes = laptop.page.locator("#runs input[name=ids]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    laptop.page.click("#compare-form button")
    laptop.page.wait_for_url("**/backtests/compare?*")
    laptop.page.wait_for_function(CHARTS_DRAWN)
    assert laptop.page.locator("#comparison thead th").count() == 3
    assert laptop.clean() == []


# the target is 1 s; the assertion leaves room for a 2-core CI box running other suites
# (measured figures are printed and recorded as the test's properties: the report quotes them)
PAGE_LOAD_TARGET = 1.0
PAGE_LOAD_BOUND = 3.0


def test_dashboard_and_factors_load_in_under_a_second(
    live_data: LiveData, live_server: LiveServer, laptop: Watched, record_property: Any
) -> None:
    """Page load including every chart (navigation start until every Plotly chart is drawn),
    browser cache warm (plotly.js, 4.8 MB, cached after the first page), on each backend."""
    laptop.open(live_server.url + "/settings")  # warms the cache with the shared assets
    timings = {}
    for name in ("dashboard", "factors"):
        laptop.open(live_server.url + PAGES[name])  # the first visit compiles the page's JS
        timings[name] = min(laptop.open(live_server.url + PAGES[name]) for _ in range(3))
        record_property(f"{name}_load_seconds_{live_data.backend}", round(timings[name], 3))
    shown = {name: round(seconds, 3) for name, seconds in timings.items()}
    print(f"page load with charts on {live_data.backend} (s, target {PAGE_LOAD_TARGET}):", shown)
    assert laptop.clean() == []
    assert all(seconds < PAGE_LOAD_BOUND for seconds in timings.values()), shown
