"""``POST /api/portfolios/{p}/transfers``: cash or a holding moved between two strategy books,
as ``quantdesk portfolio transfer`` does; a trader's call, like a cash flow."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from quantdesk.services.auth import Role

if TYPE_CHECKING:
    from api_support import ApiHarness

URL = "/api/portfolios/core/transfers"


def test_a_trader_moves_cash_and_shares_between_books(market: ApiHarness) -> None:
    trader = market.as_role(Role.TRADER)
    trader.post("/api/portfolios", json={"name": "core", "cash": "50000"})
    buy = [{"symbol": "AAA", "side": "buy", "quantity": "100"}]
    assert trader.post("/api/portfolios/core/orders", json={"orders": buy}).status_code == 201
    before = trader.get("/api/portfolios/core").json()["value"]

    viewer = market.as_role(Role.VIEWER)
    body = {"from_book": "unallocated", "to_book": "rsi", "cash": "1000"}
    assert viewer.post(URL, json=body).status_code == 403
    paid = trader.post(URL, json=body)
    assert paid.status_code == 200, paid.text
    assert {k: paid.json()[k] for k in ("from_book", "to_book", "value", "symbol")} == {
        "from_book": "unallocated",
        "to_book": "rsi",
        "value": "1000",
        "symbol": None,
    }
    moved = trader.post(URL, json={"from_book": "unallocated", "to_book": "rsi", "symbol": "AAA"})
    assert moved.status_code == 200, moved.text
    done = moved.json()
    assert (Decimal(done["quantity"]), Decimal(done["price"])) == (100, 100)
    assert done["priced_on"] == "2024-01-02"
    assert [(b["strategy"], b["positions"]) for b in done["books"]] == [("", 0), ("rsi", 1)]
    assert Decimal(done["books"][1]["equity"]) == Decimal(11_000)

    after = trader.get("/api/portfolios/core").json()
    for figure in ("cash", "equity", "net_deposits"):
        assert after["value"][figure] == before[figure], figure
    assert [(p["strategy"], p["quantity"]) for p in after["positions"]] == [("rsi", "100")]


def test_a_refused_transfer_is_one_problem(market: ApiHarness) -> None:
    trader = market.as_role(Role.TRADER)
    trader.post("/api/portfolios", json={"name": "core", "cash": "500"})
    short = trader.post(URL, json={"from_book": "unallocated", "to_book": "rsi", "cash": "600"})
    assert short.status_code == 422
    assert short.json()["detail"] == (
        "the unallocated book of portfolio 'core' has 500.00 USD cash; cannot transfer 600.00"
    )
    unknown = trader.post(URL, json={"from_book": "alpha", "to_book": "rsi", "cash": "1"})
    assert unknown.status_code == 404
    assert "has no book 'alpha'" in unknown.json()["detail"]
    nowhere = "/api/portfolios/nope/transfers"
    body = {"from_book": "unallocated", "to_book": "rsi", "cash": "1"}
    assert trader.post(nowhere, json=body).status_code == 404
    both = trader.post(URL, json={**body, "symbol": "AAA"})
    assert both.status_code == 422
    assert "exactly one of cash or symbol" in both.json()["detail"]
    value = trader.get("/api/portfolios/core").json()["value"]
    assert (value["cash"], value["net_deposits"]) == ("500", "500")
