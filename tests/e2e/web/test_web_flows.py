"""The browser flows with users and roles (the server has users, so every page needs a login):
a trader logs in, creates a paper portfolio, rebalances it to the composite scores' top 10
and executes; the orders appear on Trades and an open Dashboard updates its value and its
trade list over Server-Sent Events without a reload. A viewer sees no trading control and the
API refuses its trades with 403."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from test_web_browser import CHARTS_DRAWN, Watched
from web_support import PORTFOLIO, LiveData, LiveServer, serve

USERS = (("tina", "trader"), ("vic", "viewer"))


@pytest.fixture(scope="module")
def auth_server(
    live_data: LiveData, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The server with users, on the module's private sample, on SQLite and PostgreSQL."""
    screenshots = tmp_path_factory.mktemp(f"auth-screens-{live_data.backend}")
    with serve(live_data.folder, screenshots, USERS, live_data.database_url) as server:
        yield server


def log_in(browser: Any, server: LiveServer, user: str) -> tuple[Any, Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    watched = Watched(context.new_page())
    page = watched.page
    page.goto(server.url + "/")
    page.wait_for_url("**/login?next=/")  # every page needs a login once users exist
    page.fill("#username", user)
    page.fill("#password", f"{user}-password")
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/")
    page.wait_for_function(CHARTS_DRAWN)
    assert user in page.locator(".who").inner_text()
    return context, watched


def test_trader_rebalances_and_the_dashboard_follows_live(
    auth_server: LiveServer, browser: Any
) -> None:
    context, trader = log_in(browser, auth_server, "tina")
    page = trader.page
    trader.open(auth_server.url + "/portfolios")
    page.fill("#create-portfolio input[name=name]", "live-flow")
    page.fill("#create-portfolio input[name=cash]", "250000")
    page.click("#create-portfolio button")
    page.wait_for_url("**/portfolios/live-flow?*")

    # a second tab on the Dashboard, listening on /api/events
    dashboard = Watched(context.new_page())
    dashboard.open(auth_server.url + "/")
    dashboard.page.wait_for_function(
        "document.getElementById('live-status').textContent === 'live updates on'"
    )
    dashboard.page.evaluate("window.notReloaded = true")
    equity = dashboard.page.locator("[data-equity='live-flow']")
    assert equity.inner_text() == "250,000.00"
    rows_before = dashboard.page.locator("[data-live=orders] tr").count()

    # the sample has no sector ETFs: the targets are the composite scores' top 10
    page.select_option("select[name=source]", "signal:composite")
    page.click("text=Preview")
    page.wait_for_function(CHARTS_DRAWN)
    assert page.locator("#trade-list tbody tr").count() == 10
    page.click("#execute-rebalance button")
    page.wait_for_url("**/portfolios/live-flow?*")
    assert "10 orders placed, 10 filled" in page.locator(".notice").inner_text()

    value = auth_server.services.trading.value("live-flow").equity
    dashboard.page.wait_for_function(
        "shown => document.querySelector(`[data-equity='live-flow']`).textContent === shown",
        arg=f"{value:,.2f}",
    )
    assert dashboard.page.evaluate("window.notReloaded") is True
    orders = auth_server.services.trading.list_orders("live-flow")
    rows = dashboard.page.locator("[data-live=orders] tr")
    assert rows.count() == rows_before + len(orders) == rows_before + 10
    new_rows = dashboard.page.locator("[data-live=orders] tr[data-order^='paper-live-flow']")
    assert new_rows.count() == 10

    trader.open(auth_server.url + "/trades?portfolio=live-flow")
    assert page.locator("#orders tbody tr").count() == 10
    assert page.locator("#orders .badge.filled").count() == 10
    assert trader.clean() == []
    assert dashboard.clean() == []
    context.close()


def test_viewer_sees_no_trading_controls_and_the_api_refuses(
    auth_server: LiveServer, browser: Any
) -> None:
    context, viewer = log_in(browser, auth_server, "vic")
    page = viewer.page
    for path in ("/portfolios", f"/portfolios/{PORTFOLIO}?source=signal:composite", "/backtests"):
        viewer.open(auth_server.url + path)
        for control in ("create-portfolio", "execute-rebalance", "manual-trade", "run-backtest"):
            assert page.locator(f"#{control}").count() == 0, f"{path} shows {control}"
    viewer.open(auth_server.url + f"/portfolios/{PORTFOLIO}?source=signal:composite")
    assert page.locator("#trade-list tbody tr").count() > 0  # the preview is readable
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    status = page.evaluate(
        """async ([url, token]) => (await fetch(url, {method: "POST",
            headers: {"Content-Type": "application/json", "X-CSRF-Token": token || ""},
            body: JSON.stringify({signal: "composite"})})).status""",
        [f"/api/portfolios/{PORTFOLIO}/execute-rebalance", token],
    )
    assert status == 403
    form_post = page.evaluate(
        """async (url) => (await fetch(url, {method: "POST",
            body: new URLSearchParams({source: "signal:composite"})})).status""",
        f"/portfolios/{PORTFOLIO}/rebalance",
    )
    assert form_post == 403
    viewer.clean()  # the two refusals above are expected failed requests
    assert len(auth_server.services.trading.list_orders(PORTFOLIO)) == 7
    context.close()
