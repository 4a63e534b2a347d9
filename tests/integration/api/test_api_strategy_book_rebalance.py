"""``POST /api/portfolios/{p}/execute-rebalance`` with a ``strategy`` traded the unallocated
book to the strategy's targets: it trades the strategy's own book (the answer names it), and
an empty book is refused as ``trade run`` refuses it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from quantdesk.services import trading_replay
from quantdesk.services.auth import Role

if TYPE_CHECKING:
    from api_support import ApiHarness


def test_a_strategy_rebalance_trades_the_strategys_book(
    market: ApiHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trading_replay, "latest_targets", lambda *_: {"AAA": 0.5})
    trader = market.as_role(Role.TRADER)
    trader.post("/api/portfolios", json={"name": "core", "cash": "50000"})
    empty = trader.post("/api/portfolios/core/execute-rebalance", json={"strategy": "rsi"})
    assert empty.status_code == 422
    assert empty.json()["detail"] == (
        "book rsi of portfolio 'core' has no cash or positions to trade: fund it with "
        "'quantdesk portfolio deposit core AMOUNT --strategy rsi'"
    )
    fund = {"amount": "10000", "strategy": "rsi"}
    assert trader.post("/api/portfolios/core/cash-flows", json=fund).status_code == 200

    done = trader.post("/api/portfolios/core/execute-rebalance", json={"strategy": "rsi"})
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["strategy"] == "rsi"
    assert [(o["strategy"], o["symbol"], o["quantity"]) for o in body["orders"]] == [
        ("rsi", "AAA", "49")
    ]
    held = trader.get("/api/portfolios/core/positions").json()["items"]
    assert [(p["strategy"], p["symbol"]) for p in held] == [("rsi", "AAA")]
    hand = trader.post("/api/portfolios/core/rebalance", json={"targets": {"AAA": 0.1}})
    assert hand.json()["strategy"] == ""  # hand-given targets: the unallocated book
