"""Alerts raised by the services (reconcile differences, drift over the portfolio's threshold,
broker rejections, failed jobs): stored once per open condition, listed and filtered,
acknowledged by traders, pushed over the event stream; and the per-portfolio settings that
the trading code reads (drift threshold, minimum trade value, trade-run decision time)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from test_api_events import listen, wait_for_subscriber

from quantdesk.services import trading_alerts
from quantdesk.services.auth import Role
from quantdesk.services.trading_session import PortfolioSession, PriceBook
from quantdesk.services.trading_types import OrderView

if TYPE_CHECKING:
    from api_support import ApiHarness

    from quantdesk.services import Services


def break_venue(services: Services, name: str, symbol: str, shares: int) -> None:
    """Someone changed the paper venue's holding behind our back."""
    trading = services.trading
    session = PortfolioSession(
        services.database,
        services.clock,
        trading._record(name),
        PriceBook(services.data, services.clock),
        trading.costs,
    )
    session.broker._holdings[symbol] = Decimal(shares)
    with services.database.transaction() as connection:
        session.save_venue(connection)


def open_alerts(client: object, **params: str) -> list[dict[str, object]]:
    response = client.get("/api/alerts", params={"acknowledged": "false", **params})  # type: ignore[attr-defined]
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_a_reconcile_difference_raises_one_open_alert_until_acknowledged(
    market: ApiHarness,
) -> None:
    trader = market.as_role(Role.TRADER)
    viewer = market.as_role(Role.VIEWER)
    trader.post("/api/portfolios", json={"name": "core", "cash": "10000"})
    trader.post(
        "/api/trades", json={"portfolio": "core", "symbol": "AAA", "side": "buy", "quantity": "10"}
    )
    assert open_alerts(viewer) == []
    break_venue(market.services, "core", "AAA", 4)

    for _ in range(2):  # the same difference twice: one open alert
        assert trader.post("/api/portfolios/core/reconcile").json()["clean"] is False
    (alert,) = open_alerts(viewer)
    assert (alert["kind"], alert["severity"], alert["portfolio"]) == (
        "reconcile_difference",
        "critical",
        "core",
    )
    assert "position difference on AAA: ours 10, broker 4" in alert["message"]

    assert viewer.post(f"/api/alerts/{alert['id']}/ack").status_code == 403
    seen = trader.post(f"/api/alerts/{alert['id']}/ack")
    assert seen.status_code == 200
    assert seen.json()["acknowledged_by"] == "trader1"
    assert open_alerts(viewer) == []
    done = viewer.get("/api/alerts", params={"acknowledged": "true"}).json()
    assert [a["id"] for a in done["items"]] == [alert["id"]]
    # still there after it was seen: a new alert, since someone should look again
    trader.post("/api/portfolios/core/reconcile")
    assert len(open_alerts(viewer)) == 1
    actions = [(e.action, e.target, str(e.outcome)) for e in market.web.audit.entries()]
    assert ("POST /api/alerts/{alert_id}/ack", f"alert_id={alert['id']}", "ok") in actions


def test_drift_above_the_portfolio_threshold_raises_an_alert(market: ApiHarness) -> None:
    trader = market.as_role(Role.TRADER)
    admin = market.as_role(Role.ADMIN)
    trader.post("/api/portfolios", json={"name": "core", "cash": "100000"})
    trader.post("/api/portfolios/core/execute-rebalance", json={"targets": {"AAA": 0.5}})
    # no threshold set: no drift alert
    trader.post("/api/portfolios/core/rebalance", json={"targets": {"AAA": 0.2}})
    assert open_alerts(trader) == []

    put = admin.put("/api/portfolios/core/settings", json={"drift_threshold": 0.1})
    assert put.status_code == 200, put.text
    small = trader.post("/api/portfolios/core/rebalance", json={"targets": {"AAA": 0.45}})
    assert small.status_code == 200
    assert open_alerts(trader) == []  # 5 % drift is within 10 %
    for _ in range(2):
        trader.post("/api/portfolios/core/rebalance", json={"targets": {"AAA": 0.2}})
    (alert,) = open_alerts(trader, portfolio="core")
    assert alert["kind"] == "drift"
    (held,) = trader.get("/api/portfolios/core/positions").json()["items"]
    weight = held["weight"]  # 50 % bought, less the commission and whole shares
    assert f"AAA is {weight:.1%} of equity against a target of 20.0%" in alert["message"]
    assert f"drift {weight - 0.2:.1%} is above" in alert["message"]
    assert "above the 10.0% threshold" in alert["message"]


def test_a_failed_job_raises_an_alert_pushed_over_the_event_stream(market: ApiHarness) -> None:
    found: list[dict[str, object]] = []
    thread = listen(market.as_role(Role.VIEWER), "topics=alert&limit=1", found)
    wait_for_subscriber(market)
    trader = market.as_role(Role.TRADER)
    job = trader.post(
        "/api/backtests", json={"strategy": "ma-crossover", "universe": "NOPE1,NOPE2"}
    ).json()
    thread.join(timeout=30)
    assert not thread.is_alive()
    (event,) = found
    assert event["topic"] == "alert"
    data = event["data"]
    assert isinstance(data, dict)
    assert data["kind"] == "job_failed"
    assert job["id"] in str(data["message"])
    deadline = time.monotonic() + 5
    while not open_alerts(trader):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert open_alerts(trader)[0]["id"] == data["id"]


def test_a_broker_rejection_raises_an_alert_once(services: Services) -> None:
    services.trading.create_portfolio("core", "1000")
    rejected = OrderView(
        "paper-core-9",
        "core",
        "",
        "AAA",
        "buy",
        Decimal(5),
        "market",
        None,
        "rejected",
        Decimal(0),
        None,
        datetime(2024, 1, 2, tzinfo=UTC),
        None,
        None,
    )
    for _ in range(2):
        trading_alerts.orders_placed(services.alerts, "core", [rejected])
    page = services.alerts.list(acknowledged=False)
    assert page.total == 1
    assert "order paper-core-9 (buy 5 AAA) was rejected by the broker" in page.items[0].message


def test_alert_list_pages_and_filters(market: ApiHarness) -> None:
    from quantdesk.services.alerts import AlertKind, NewAlert, Severity

    trader = market.as_role(Role.TRADER)
    trader.post("/api/portfolios", json={"name": "core", "cash": "1000"})
    for k in range(3):
        market.services.alerts.raise_alert(
            NewAlert(AlertKind.DRIFT, Severity.INFO, f"m{k}", key=f"k{k}", portfolio="core")
        )
    market.services.alerts.raise_alert(NewAlert(AlertKind.JOB_FAILED, Severity.INFO, "j", "j"))
    first = trader.get("/api/alerts", params={"limit": 2}).json()
    assert (first["total"], [a["message"] for a in first["items"]]) == (4, ["j", "m2"])
    core = trader.get("/api/alerts", params={"portfolio": "core", "offset": 1}).json()
    assert [a["message"] for a in core["items"]] == ["m1", "m0"]
    assert trader.get("/api/alerts", params={"portfolio": "nope"}).status_code == 404
    assert trader.post("/api/alerts/999/ack").status_code == 404


# -- settings -----------------------------------------------------------------------------------
def test_settings_default_then_admin_changes_them(market: ApiHarness) -> None:
    trader = market.as_role(Role.TRADER)
    admin = market.as_role(Role.ADMIN)
    trader.post("/api/portfolios", json={"name": "core", "cash": "100000"})
    assert trader.get("/api/portfolios/core/settings").json() == {
        "portfolio": "core",
        "drift_threshold": None,
        "min_trade_value": None,
        "decision_time": None,
        "effective_decision_time": "21:00",
    }
    body = {"drift_threshold": 0.05, "min_trade_value": "500", "decision_time": "22:30"}
    assert trader.put("/api/portfolios/core/settings", json=body).status_code == 403
    saved = admin.put("/api/portfolios/core/settings", json=body)
    assert saved.status_code == 200, saved.text
    assert saved.json()["effective_decision_time"] == "22:30"
    assert Decimal(trader.get("/api/portfolios/core/settings").json()["min_trade_value"]) == 500
    assert admin.put("/api/portfolios/nope/settings", json=body).status_code == 404
    actions = [(e.actor, e.action, str(e.outcome)) for e in market.web.audit.entries()]
    assert ("admin1", "PUT /api/portfolios/{portfolio}/settings", "ok") in actions


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"drift_threshold": 2}, "body.drift_threshold"),
        ({"drift_threshold": 0}, "body.drift_threshold"),
        ({"min_trade_value": "-1"}, "body.min_trade_value"),
        ({"decision_time": "25:00"}, "body.decision_time"),
        ({"decision_time": "9:30"}, "body.decision_time"),
        ({"stop_loss": 0.1}, "body.stop_loss"),
    ],
)
def test_a_bad_setting_is_refused_naming_its_field(
    market: ApiHarness, body: dict[str, object], field: str
) -> None:
    admin = market.as_role(Role.ADMIN)
    admin.post("/api/portfolios", json={"name": "core", "cash": "1000"})
    refused = admin.put("/api/portfolios/core/settings", json=body)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == field
    assert admin.get("/api/portfolios/core/settings").json()["drift_threshold"] is None


def test_the_minimum_trade_value_is_enforced_before_orders_are_sent(market: ApiHarness) -> None:
    trader = market.as_role(Role.TRADER)
    trader.post("/api/portfolios", json={"name": "core", "cash": "100000"})
    market.as_role(Role.ADMIN).put(
        "/api/portfolios/core/settings", json={"min_trade_value": "1000"}
    )
    small = trader.post(
        "/api/trades", json={"portfolio": "core", "symbol": "AAA", "side": "buy", "quantity": "1"}
    )
    assert small.status_code == 422
    assert "below the minimum trade value 1000" in small.json()["detail"]
    assert trader.get("/api/portfolios/core/orders").json()["total"] == 0
    big = trader.post(
        "/api/trades", json={"portfolio": "core", "symbol": "AAA", "side": "buy", "quantity": "20"}
    )
    assert big.status_code == 201


def test_trade_run_decides_at_the_portfolios_decision_time(services: Services) -> None:
    from datetime import time as clock_time

    from quantdesk.services.portfolio_settings import SettingsUpdate

    services.trading.create_portfolio("live", "1000")
    # a disabled strategy's step only reports when the next decision is due
    services.portfolio_admin.set_enabled("live", "momentum-12-1", enabled=False)
    default = services.trading.strategy_step("live", "momentum-12-1").next_decision
    assert default.time() == clock_time(21, 0)
    services.portfolio_settings.put("live", SettingsUpdate(decision_time=clock_time(22, 30)))
    later = services.trading.strategy_step("live", "momentum-12-1").next_decision
    # the clock reads 2024-01-02 21:00: at 22:30 today's session is still to be decided
    assert services.clock.now() == datetime(2024, 1, 2, 21, 0, tzinfo=UTC)
    assert default == datetime(2024, 1, 3, 21, 0, tzinfo=UTC)
    assert later == datetime(2024, 1, 2, 22, 30, tzinfo=UTC)
