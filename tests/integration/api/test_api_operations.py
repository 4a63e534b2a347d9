"""Order event history, portfolio delete (archive) and strategy books switched on and off, as
the REST API, the services and the command line show them."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from quantdesk.core.errors import ConflictError
from quantdesk.services.auth import Role
from quantdesk.services.portfolio_admin import StrategyDisabledError

if TYPE_CHECKING:
    from api_support import ApiHarness

    from quantdesk.services import Services


def audit_actions(harness: ApiHarness) -> list[tuple[str, str, str, str]]:
    return [
        (e.actor, e.action, e.target, str(e.outcome)) for e in harness.web.audit.entries(limit=200)
    ]


def fixed_targets(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every strategy's latest targets: 30 % AAA (the tests are about which books trade, not
    about the strategies' maths)."""
    monkeypatch.setattr(
        services.trading, "_targets", lambda t, s, g: ({"AAA": 0.3}, f"strategy:{s}")
    )


# -- order events -------------------------------------------------------------------------------
def test_order_events_list_the_stored_log_with_the_status_after_each(market: ApiHarness) -> None:
    trader = market.as_role(Role.TRADER)
    viewer = market.as_role(Role.VIEWER)
    trader.post("/api/portfolios", json={"name": "core", "cash": "100000"})
    placed = trader.post(
        "/api/portfolios/core/orders",
        json={"orders": [{"symbol": "AAA", "side": "buy", "quantity": "5", "limit_price": "1"}]},
    ).json()
    order_id = placed[0]["client_order_id"]
    trader.patch(f"/api/portfolios/core/orders/{order_id}", json={"quantity": "7"})
    trader.delete(f"/api/portfolios/core/orders/{order_id}")

    history = viewer.get(f"/api/orders/{order_id}/events")
    assert history.status_code == 200, history.text
    body = history.json()
    assert (body["portfolio"], body["symbol"], body["status"]) == ("core", "AAA", "cancelled")
    steps = [(e["kind"], e["status"]) for e in body["events"]]
    assert steps[0] == ("submitted", "submitted")
    assert ("modify_requested", "pending_replace") in steps
    assert steps[-1] == ("cancelled", "cancelled")
    assert [e["seq"] for e in body["events"]] == list(range(len(steps)))
    modify = next(e for e in body["events"] if e["kind"] == "modify_requested")
    assert modify["quantity"] == "7"


def test_order_events_of_a_fill_carry_its_price_and_commission(market: ApiHarness) -> None:
    trader = market.as_role(Role.TRADER)
    trader.post("/api/portfolios", json={"name": "core", "cash": "100000"})
    order = trader.post(
        "/api/trades",
        json={"portfolio": "core", "symbol": "AAA", "side": "buy", "quantity": "10"},
    ).json()
    events = trader.get(f"/api/orders/{order['client_order_id']}/events").json()["events"]
    fill = next(e for e in events if e["kind"] == "filled")
    assert fill["status"] == "filled"
    assert Decimal(fill["quantity"]) == 10
    assert Decimal(fill["price"]) == Decimal(order["average_fill_price"])
    assert Decimal(fill["commission"]) == 1  # the paper broker's $1 per order


def test_unknown_order_events_are_a_404_problem(market: ApiHarness) -> None:
    viewer = market.as_role(Role.VIEWER)
    missing = viewer.get("/api/orders/paper-core-99/events")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert "paper-core-99" in missing.json()["detail"]
    market.as_role(Role.TRADER).post("/api/portfolios", json={"name": "core", "cash": "1000"})
    order = market.as_role(Role.TRADER).post(
        "/api/trades", json={"portfolio": "core", "symbol": "AAA", "side": "buy", "quantity": "1"}
    )
    order_id = order.json()["client_order_id"]
    other = viewer.get(f"/api/orders/{order_id}/events", params={"portfolio": "other"})
    assert other.status_code == 404


# -- portfolio delete (archive) -----------------------------------------------------------------
def test_delete_is_refused_with_409_while_orders_are_open_then_archives(
    market: ApiHarness,
) -> None:
    trader = market.as_role(Role.TRADER)
    admin = market.as_role(Role.ADMIN)
    trader.post("/api/portfolios", json={"name": "core", "cash": "100000"})
    trader.post(
        "/api/trades", json={"portfolio": "core", "symbol": "AAA", "side": "buy", "quantity": "3"}
    )
    working = trader.post(
        "/api/portfolios/core/orders",
        json={"orders": [{"symbol": "AAA", "side": "buy", "quantity": "5", "limit_price": "1"}]},
    ).json()[0]["client_order_id"]

    assert trader.delete("/api/portfolios/core").status_code == 403  # admin only
    refused = admin.delete("/api/portfolios/core")
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert working in refused.json()["detail"]
    assert "cancel them" in refused.json()["detail"]
    assert admin.get("/api/portfolios/core").status_code == 200  # nothing changed

    trader.delete(f"/api/portfolios/core/orders/{working}")
    deleted = admin.delete("/api/portfolios/core")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["name"] == "core"
    assert admin.get("/api/portfolios").json()["total"] == 0
    assert admin.get("/api/portfolios/core").status_code == 404
    again = trader.post("/api/portfolios", json={"name": "core", "cash": "1"})
    assert again.status_code == 422
    assert "archived" in again.json()["detail"]
    # the ledger is kept for audit: the order history still reads
    assert admin.get(f"/api/orders/{working}/events").json()["status"] == "cancelled"
    actions = audit_actions(market)
    assert ("admin1", "DELETE /api/portfolios/{portfolio}", "portfolio=core", "ok") in actions
    assert ("admin1", "DELETE /api/portfolios/{portfolio}", "portfolio=core", "failed") in actions
    assert ("trader1", "DELETE /api/portfolios/{portfolio}", "portfolio=core", "denied") in (
        actions
    )


def test_deleting_an_unknown_portfolio_is_a_404(market: ApiHarness) -> None:
    assert market.as_role(Role.ADMIN).delete("/api/portfolios/nope").status_code == 404


# -- strategy books -----------------------------------------------------------------------------
def test_a_disabled_strategy_is_refused_by_its_rebalance_and_keeps_its_positions(
    market: ApiHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixed_targets(market.services, monkeypatch)
    trader = market.as_role(Role.TRADER)
    trader.post("/api/portfolios", json={"name": "core", "cash": "100000"})
    fund = {"amount": "30000", "strategy": "momentum-12-1"}  # a strategy trades its own book
    assert trader.post("/api/portfolios/core/cash-flows", json=fund).status_code == 200
    first = trader.post(
        "/api/portfolios/core/execute-rebalance", json={"strategy": "momentum-12-1"}
    )
    assert first.status_code == 200, first.text
    held = trader.get("/api/portfolios/core/positions").json()["items"]

    disabled = trader.post("/api/portfolios/core/strategies/momentum-12-1/disable")
    assert disabled.status_code == 200, disabled.text
    assert disabled.json() == {"portfolio": "core", "strategy": "momentum-12-1", "enabled": False}
    books = market.as_role(Role.VIEWER).get("/api/portfolios/core/strategies").json()
    assert books == [disabled.json()]

    refused = trader.post(
        "/api/portfolios/core/execute-rebalance", json={"strategy": "momentum-12-1"}
    )
    assert refused.status_code == 409
    assert "disabled on portfolio 'core'" in refused.json()["detail"]
    assert trader.get("/api/portfolios/core/positions").json()["items"] == held
    # other targets still trade: only the strategy-driven rebalance is switched off
    fund = {"amount": "30000", "strategy": "rsi"}
    assert trader.post("/api/portfolios/core/cash-flows", json=fund).status_code == 200
    other = trader.post("/api/portfolios/core/execute-rebalance", json={"strategy": "rsi"})
    assert other.status_code == 200

    enabled = trader.post("/api/portfolios/core/strategies/momentum-12-1/enable")
    assert enabled.json()["enabled"] is True
    again = trader.post("/api/portfolios/core/rebalance", json={"strategy": "momentum-12-1"})
    assert again.status_code == 200
    actions = audit_actions(market)
    for verb in ("disable", "enable"):
        action = f"POST /api/portfolios/{{portfolio}}/strategies/{{name}}/{verb}"
        assert ("trader1", action, "portfolio=core, name=momentum-12-1", "ok") in actions


def test_books_rebalance_skips_disabled_books(
    market: ApiHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = market.services
    fixed_targets(services, monkeypatch)
    services.trading.create_portfolio("multi", "100000")
    services.trading.deposit("multi", "10000", "momentum-12-1")
    services.trading.deposit("multi", "10000", "rsi")
    services.portfolio_admin.set_enabled("multi", "rsi", enabled=False)
    result = services.trading.rebalance_books(
        "multi", strategies=["momentum-12-1", "rsi"], execute=True
    )
    assert [b.strategy for b in result.books] == ["momentum-12-1"]
    books = {p.strategy for p in services.trading.positions("multi")}
    assert books == {"momentum-12-1"}
    services.portfolio_admin.set_enabled("multi", "momentum-12-1", enabled=False)
    with pytest.raises(StrategyDisabledError, match="'rsi' is disabled"):
        services.trading.rebalance_books("multi", strategies=["momentum-12-1", "rsi"])


def test_trade_run_steps_of_a_disabled_strategy_send_nothing(services: Services) -> None:
    services.trading.create_portfolio("live", "100000")
    services.portfolio_admin.set_enabled("live", "momentum-12-1", enabled=False)
    step = services.trading.strategy_step("live", "momentum-12-1")
    assert (step.session, step.orders) == (None, 0)
    assert "disabled on portfolio 'live'" in step.note
    assert services.trading.list_orders("live") == []
    with pytest.raises(ConflictError, match="disabled"):
        services.trading.run_strategy(
            "live", "momentum-12-1", services.clock.now().date(), services.clock.now().date()
        )


def test_switching_an_unknown_strategy_or_portfolio_is_refused(market: ApiHarness) -> None:
    trader = market.as_role(Role.TRADER)
    trader.post("/api/portfolios", json={"name": "core", "cash": "1000"})
    unknown = trader.post("/api/portfolios/core/strategies/momentum-13-1/disable")
    assert unknown.status_code == 404
    assert "momentum-12-1" in unknown.json()["detail"]  # did you mean
    assert trader.post("/api/portfolios/nope/strategies/rsi/disable").status_code == 404
    assert market.as_role(Role.VIEWER).get("/api/portfolios/core/strategies").json() == []
