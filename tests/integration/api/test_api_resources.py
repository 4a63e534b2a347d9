"""The REST resources on a small market (three stocks and the VIX, January–June 2024): one
test per status code per resource family, as the roles that may call them."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import TYPE_CHECKING

from fastapi.testclient import TestClient

from quantdesk.services.auth import Role

if TYPE_CHECKING:
    from conftest import ApiHarness


def wait_for_job(client: TestClient, job_id: str, seconds: float = 60.0) -> dict[str, object]:
    deadline = time.monotonic() + seconds
    seen = []
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        seen.append((job["status"], job["progress"]))
        if job["status"] in ("succeeded", "failed"):
            job["seen"] = seen
            return dict(job)
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish in {seconds} s: {seen[-3:]}")


def test_portfolio_lifecycle(market: ApiHarness) -> None:
    trader = market.as_role(Role.TRADER)
    viewer = market.as_role(Role.VIEWER)
    created = trader.post("/api/portfolios", json={"name": "core", "cash": "100000"})
    assert created.status_code == 201
    assert created.json()["account"] == "paper-core"
    listed = viewer.get("/api/portfolios").json()
    assert (listed["total"], listed["items"][0]["name"]) == (1, "core")
    # read (and cached for a second) before the trade; the trade must show at once anyway
    assert viewer.get("/api/portfolios/core/positions").json()["total"] == 0
    bought = trader.post(
        "/api/trades",
        json={"portfolio": "core", "symbol": "AAA", "side": "buy", "quantity": "10"},
    )
    assert bought.status_code == 201
    order = bought.json()
    assert (order["status"], order["filled_quantity"]) == ("filled", "10")
    detail = viewer.get("/api/portfolios/core").json()
    cash = Decimal(detail["value"]["cash"])
    fill = Decimal(order["average_fill_price"])
    # the paper broker's $1 commission and the fill price explain the cash to the cent
    assert cash == Decimal("100000") - 10 * fill - 1
    positions = viewer.get("/api/portfolios/core/positions").json()["items"]
    assert [(p["symbol"], p["quantity"]) for p in positions] == [("AAA", "10")]
    trades = viewer.get("/api/portfolios/core/trades").json()
    assert [t["client_order_id"] for t in trades["items"]] == [order["client_order_id"]]
    later = viewer.get("/api/portfolios/core/trades", params={"start_date": "2024-02-01"})
    assert later.json()["total"] == 0
    performance = viewer.get("/api/portfolios/core/performance", params={"period": "3M"})
    assert performance.status_code == 200
    assert performance.json()["period"] == "3M"


def test_portfolio_errors(market: ApiHarness) -> None:
    trader = market.as_role(Role.TRADER)
    assert trader.get("/api/portfolios/nope").status_code == 404
    negative = trader.post("/api/portfolios", json={"name": "x", "cash": "-5"})
    assert negative.status_code == 422
    assert negative.json()["errors"][0]["field"] == "body.cash"
    trader.post("/api/portfolios", json={"name": "core", "cash": "1000"})
    again = trader.post("/api/portfolios", json={"name": "core", "cash": "1000"})
    assert again.status_code == 422
    assert "exists already" in again.json()["detail"]
    oversell = trader.post(
        "/api/portfolios/core/orders",
        json={"orders": [{"symbol": "AAA", "side": "sell", "quantity": "5"}]},
    )
    assert oversell.status_code == 422
    bad_period = trader.get("/api/portfolios/core/performance", params={"period": "2W"})
    assert bad_period.status_code == 422
    both = trader.post(
        "/api/portfolios/core/rebalance", json={"targets": {"AAA": 0.5}, "strategy": "x"}
    )
    assert both.status_code == 422


def test_rebalance_preview_then_execute(market: ApiHarness) -> None:
    trader = market.as_role(Role.TRADER)
    trader.post("/api/portfolios", json={"name": "core", "cash": "100000"})
    body = {"targets": {"AAA": 0.5, "CCC": 0.25}}
    preview = trader.post("/api/portfolios/core/rebalance", json=body).json()
    assert preview["executed"] is False
    assert {t["symbol"] for t in preview["trades"]} == {"AAA", "CCC"}
    assert market.as_role(Role.VIEWER).get("/api/portfolios/core/positions").json()["total"] == 0
    done = trader.post("/api/portfolios/core/execute-rebalance", json=body).json()
    assert done["executed"] is True
    assert {o["symbol"] for o in done["orders"]} == {"AAA", "CCC"}
    weights = {
        p["symbol"]: p["weight"]
        for p in trader.get("/api/portfolios/core/positions").json()["items"]
    }
    assert abs(weights["AAA"] - 0.5) < 0.01
    assert abs(weights["CCC"] - 0.25) < 0.01
    reconciled = trader.post("/api/portfolios/core/reconcile").json()
    assert reconciled["clean"] is True


def test_orders_modify_and_cancel(market: ApiHarness) -> None:
    trader = market.as_role(Role.TRADER)
    trader.post("/api/portfolios", json={"name": "core", "cash": "100000"})
    placed = trader.post(
        "/api/portfolios/core/orders",
        json={"orders": [{"symbol": "AAA", "side": "buy", "quantity": "5", "limit_price": "1"}]},
    )
    assert placed.status_code == 201
    order_id = placed.json()[0]["client_order_id"]
    assert placed.json()[0]["status"] in ("accepted", "submitted", "new", "working")
    open_orders = trader.get("/api/portfolios/core/orders", params={"open": "true"}).json()
    assert [o["client_order_id"] for o in open_orders["items"]] == [order_id]
    changed = trader.patch(f"/api/portfolios/core/orders/{order_id}", json={"quantity": "7"})
    assert changed.status_code == 200
    assert changed.json()["quantity"] == "7"
    cancelled = trader.delete(f"/api/portfolios/core/orders/{order_id}")
    assert cancelled.json()["status"] == "cancelled"
    assert trader.delete("/api/portfolios/core/orders/no-such-order").status_code == 404
    assert trader.patch(f"/api/portfolios/core/orders/{order_id}", json={}).status_code == 422


def test_journal_and_tca(market: ApiHarness) -> None:
    trader = market.as_role(Role.TRADER)
    trader.post("/api/portfolios", json={"name": "core", "cash": "100000"})
    order = trader.post(
        "/api/trades", json={"portfolio": "core", "symbol": "BBB", "side": "buy", "quantity": "3"}
    ).json()
    entry = trader.post(
        "/api/portfolios/core/journal",
        json={"thesis": "mean reversion", "client_order_id": order["client_order_id"]},
    )
    assert entry.status_code == 201
    entry_id = entry.json()["id"]
    edited = trader.patch(f"/api/journal/{entry_id}", json={"lesson": "size smaller"})
    assert (edited.json()["thesis"], edited.json()["lesson"]) == ("mean reversion", "size smaller")
    assert trader.patch("/api/journal/999", json={"lesson": "x"}).status_code == 404
    listed = trader.get("/api/portfolios/core/journal").json()
    assert listed["total"] == 1
    tca = trader.get("/api/tca", params={"portfolio": "core", "by": "symbol"}).json()
    assert tca["overall"]["orders"] == 1
    assert abs(tca["overall"]["mean_bp"] - 5.0) < 0.5  # the paper broker's 5 bp slippage
    assert [g["group"] for g in tca["groups"]] == ["BBB"]


def test_market_data_routes(market: ApiHarness) -> None:
    viewer = market.as_role(Role.VIEWER)
    status = viewer.get("/api/data/status").json()
    assert status["symbols"] == 4
    page = viewer.get("/api/data/symbols", params={"limit": 2, "offset": 1}).json()
    assert (page["total"], len(page["items"]), page["offset"]) == (4, 2, 1)
    bars = viewer.get(
        "/api/data/bars/aaa", params={"start": "2024-01-02", "end": "2024-01-05"}
    ).json()
    assert [b["close"] for b in bars["bars"]] == [100.0, 100.1, 100.2, 100.3]
    assert viewer.get("/api/data/bars/ZZZZ").status_code == 404
    assert viewer.get("/api/data/quality").status_code == 200
    vix = viewer.get("/api/risk/vix", params={"end": "2024-01-04"}).json()
    assert [p["close"] for p in vix["points"]] == [15.0, 16.0, 17.0]
    reversed_dates = viewer.get(
        "/api/risk/vix", params={"start": "2024-02-01", "end": "2024-01-01"}
    )
    assert reversed_dates.status_code == 422


def test_strategies_and_factors(market: ApiHarness) -> None:
    viewer = market.as_role(Role.VIEWER)
    names = [s["name"] for s in viewer.get("/api/strategies").json()]
    assert "momentum-12-1" in names
    momentum = viewer.get("/api/strategies/momentum-12-1").json()
    assert momentum["parameters"]
    missing = viewer.get("/api/strategies/momentum-13-1")
    assert missing.status_code == 404
    assert "momentum-12-1" in missing.json()["detail"]  # the "did you mean" hint
    latest = viewer.get("/api/factors/latest").json()
    assert (latest["total"], latest["scores"]) == (0, [])
    assert viewer.get("/api/factors/ZZZZ").status_code == 404


def test_backtest_job_runs_to_completion_with_progress(market: ApiHarness) -> None:
    trader = market.as_role(Role.TRADER)
    started = trader.post("/api/backtests", json={"strategy": "ma-crossover", "universe": "AAA"})
    assert started.status_code == 202
    job = wait_for_job(trader, started.json()["id"])
    assert job["status"] == "succeeded", job
    assert job["progress"] == 1.0
    run_id = str(job["reference"])
    detail = trader.get(f"/api/backtests/{run_id}").json()
    assert detail["strategy"] == "ma-crossover"
    assert detail["equity"][0]["date"] == "2024-01-02"
    assert detail["final_equity"] == detail["equity"][-1]["equity"]
    listed = trader.get("/api/backtests").json()
    assert [r["run_id"] for r in listed["items"]] == [run_id]
    compared = trader.get("/api/backtests/compare", params={"ids": [run_id]}).json()
    assert compared["runs"] == [run_id]
    assert compared["labels"]["strategy"] == ["ma-crossover"]
    assert trader.get("/api/backtests/nope-nope").status_code == 404
    assert trader.get("/api/jobs/nope").status_code == 404
    unknown = trader.post("/api/backtests", json={"strategy": "no-such-strategy"})
    assert unknown.status_code == 404


def test_failed_job_says_why_in_one_line(market: ApiHarness) -> None:
    trader = market.as_role(Role.TRADER)
    started = trader.post(
        "/api/backtests", json={"strategy": "ma-crossover", "universe": "NOPE1,NOPE2"}
    )
    job = wait_for_job(trader, started.json()["id"])
    assert job["status"] == "failed"
    assert "NOPE1" in str(job["error"])


def test_users_and_tokens_for_admins(market: ApiHarness) -> None:
    admin = market.as_role(Role.ADMIN)
    created = admin.post(
        "/api/users", json={"username": "dana", "password": "a long password", "role": "trader"}
    )
    assert created.status_code == 201
    assert "password" not in created.text
    issued = admin.post("/api/users/dana/tokens", json={"name": "script"}).json()
    assert issued["secret"].startswith("qd_")
    as_dana = TestClient(market.client.app)
    as_dana.headers["Authorization"] = f"Bearer {issued['secret']}"
    assert as_dana.get("/api/me").json()["name"] == "dana"
    listed = admin.get("/api/users/dana/tokens").text
    assert issued["secret"] not in listed
    assert admin.delete(f"/api/tokens/{issued['token']['id']}").status_code == 200
    assert as_dana.get("/api/me").status_code == 401
    assert admin.delete("/api/users/dana").status_code == 204
    assert admin.delete("/api/users/dana").status_code == 404
    short = admin.post("/api/users", json={"username": "eve", "password": "short"})
    assert short.status_code == 422
    audit = admin.get("/api/audit", params={"limit": 50}).json()
    actions = {(e["action"], e["outcome"]) for e in audit["items"]}
    assert ("POST /api/users", "ok") in actions
    assert ("DELETE /api/users/{username}", "failed") in actions
