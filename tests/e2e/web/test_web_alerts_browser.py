"""In a real browser: an alert a service raises (reconciliation finds the paper venue holding
other shares than our records) appears on an open Dashboard over Server-Sent Events without a
reload; after a reload it is listed with a "seen" button that acknowledges it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from test_web_browser import Watched
from web_support import PORTFOLIO, LiveServer

from quantdesk.services.trading_session import PortfolioSession, PriceBook


def break_venue(server: LiveServer) -> str:
    """Change one holding at the paper venue behind our back; the symbol changed."""
    services = server.services
    trading = services.trading
    session = PortfolioSession(
        services.database,
        services.clock,
        trading._record(PORTFOLIO),
        PriceBook(services.data, services.clock),
        trading.costs,
    )
    symbol = sorted(session.broker._holdings)[0]
    session.broker._holdings[symbol] += Decimal(3)
    with services.database.transaction() as connection:
        session.save_venue(connection)
    return symbol


def test_an_alert_reaches_the_open_dashboard_live_and_is_acknowledged(
    live_server: LiveServer, browser: Any
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    dashboard = Watched(context.new_page())
    page = dashboard.page
    dashboard.open(live_server.url + "/")
    page.wait_for_function(
        "document.getElementById('live-status').textContent === 'live updates on'"
    )
    assert page.locator("[data-live=alerts] li").count() == 0
    assert page.locator("#no-alerts").is_visible()
    page.evaluate("window.notReloaded = true")

    symbol = break_venue(live_server)
    report = live_server.services.trading.reconcile(PORTFOLIO)  # the service raises the alert
    assert not report.clean

    item = page.locator("[data-live=alerts] li").first
    item.wait_for(timeout=10_000)
    assert f"position difference on {symbol}" in item.inner_text()
    assert "critical" in item.inner_text()
    assert page.evaluate("window.notReloaded") is True
    assert not page.locator("#no-alerts").is_visible()
    page.screenshot(path=str(live_server.screenshots / "dashboard-alert.png"), full_page=True)

    dashboard.open(live_server.url + "/")
    listed = page.locator("#alerts li")
    assert listed.count() == 1
    listed.first.locator("button", has_text="seen").click()
    page.wait_for_url(live_server.url + "/")
    assert page.locator("#alerts li").count() == 0
    (alert,) = live_server.services.alerts.list().items
    assert alert.acknowledged_at is not None
    assert dashboard.clean() == []
    context.close()
