"""Live updates: an order placed through the API reaches a Server-Sent-Events listener as an
``order`` and a ``fill`` event, with the portfolio's new value; job progress is pushed."""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from quantdesk.services.auth import Role

if TYPE_CHECKING:
    from conftest import ApiHarness

# the bus is in-process; storage plays no part: SQLite only
pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


def listen(client: TestClient, query: str, found: list[dict[str, object]]) -> threading.Thread:
    def run() -> None:
        with client.stream("GET", f"/api/events?{query}") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            event: dict[str, object] = {}
            for line in response.iter_lines():
                if line.startswith("event: "):
                    event["topic"] = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    event["data"] = json.loads(line.removeprefix("data: "))
                    found.append(event)
                    event = {}

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def wait_for_subscriber(harness: ApiHarness) -> None:
    deadline = time.monotonic() + 10
    while harness.web.events.subscriber_count == 0:
        assert time.monotonic() < deadline, "the event stream never subscribed"
        time.sleep(0.01)


def test_sse_stream_delivers_order_fill_and_value_events(market: ApiHarness) -> None:
    trader = market.as_role(Role.TRADER)
    trader.post("/api/portfolios", json={"name": "core", "cash": "50000"})
    found: list[dict[str, object]] = []
    thread = listen(market.as_role(Role.VIEWER), "topics=order,fill,portfolio&limit=3", found)
    wait_for_subscriber(market)
    trader.post(
        "/api/trades", json={"portfolio": "core", "symbol": "CCC", "side": "buy", "quantity": "4"}
    )
    thread.join(timeout=20)
    assert not thread.is_alive()
    assert [e["topic"] for e in found] == ["order", "fill", "portfolio"]
    order = found[0]["data"]
    assert isinstance(order, dict)
    assert (order["symbol"], order["status"], order["filled_quantity"]) == ("CCC", "filled", "4")
    value = found[2]["data"]
    assert isinstance(value, dict)
    assert value["portfolio"] == "core"
    assert float(str(value["equity"])) < 50_000  # the commission and slippage are paid


def test_sse_pushes_job_progress_and_refuses_unknown_topics(market: ApiHarness) -> None:
    viewer = market.as_role(Role.VIEWER)
    assert viewer.get("/api/events", params={"topics": "orders"}).status_code == 422
    found: list[dict[str, object]] = []
    thread = listen(viewer, "topics=job&limit=3", found)
    wait_for_subscriber(market)
    market.as_role(Role.TRADER).post(
        "/api/backtests", json={"strategy": "ma-crossover", "universe": "AAA"}
    )
    thread.join(timeout=60)
    statuses = [e["data"]["status"] for e in found if isinstance(e["data"], dict)]
    assert statuses[:2] == ["queued", "running"]


def test_sse_needs_authentication_once_users_exist(harness: ApiHarness) -> None:
    assert harness.client.get("/api/events").status_code == 401
