"""Reading the drift writes nothing: ``GET /api/portfolios/{p}/drift`` used to store a drift
alert (a read with a side effect). The alert is raised where someone acts: a rebalance check
(``POST …/rebalance``, ``quantdesk trade rebalance`` without ``--execute``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from quantdesk.db.tables import Base
from quantdesk.services import trading_replay
from quantdesk.services.auth import Role

if TYPE_CHECKING:
    from api_support import ApiHarness

    from quantdesk.services import Services


def row_counts(services: Services) -> dict[str, int]:
    with services.database.read() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in Base.metadata.sorted_tables
        }


@pytest.fixture
def drifted(market: ApiHarness, monkeypatch: pytest.MonkeyPatch) -> ApiHarness:
    """Book ``fixed`` of portfolio ``core`` holds about 50 % AAA; strategy ``fixed`` wants 20 %
    now; threshold 10 %."""
    trader = market.as_role(Role.TRADER)
    trader.post("/api/portfolios", json={"name": "core", "cash": "0"})
    funded = trader.post(
        "/api/portfolios/core/cash-flows", json={"amount": "100000", "strategy": "fixed"}
    )
    assert funded.status_code == 200, funded.text
    monkeypatch.setattr(trading_replay, "latest_targets", lambda *_: {"AAA": 0.5})
    executed = trader.post("/api/portfolios/core/execute-rebalance", json={"strategy": "fixed"})
    assert executed.status_code == 200, executed.text
    monkeypatch.setattr(trading_replay, "latest_targets", lambda *_: {"AAA": 0.2})
    admin = market.as_role(Role.ADMIN)
    put = admin.put("/api/portfolios/core/settings", json={"drift_threshold": 0.1})
    assert put.status_code == 200, put.text
    return market


def test_a_get_of_the_drift_writes_no_row_and_no_audit_row(drifted: ApiHarness) -> None:
    viewer = drifted.as_role(Role.VIEWER)
    before = row_counts(drifted.services)
    audit_before = len(drifted.web.audit.entries())
    for _ in range(2):
        read = viewer.get("/api/portfolios/core/drift", params={"strategy": "fixed"})
        assert read.status_code == 200, read.text
        (aaa,) = [row for row in read.json()["drift"] if row["symbol"] == "AAA"]
        assert aaa["target_weight"] == pytest.approx(0.2)
    drifted.services.trading.drift("core", {"AAA": 0.2})  # the service's read as well
    assert row_counts(drifted.services) == before
    assert before["alerts"] == 0
    assert len(drifted.web.audit.entries()) == audit_before
    assert viewer.get("/api/alerts").json()["items"] == []


def test_a_rebalance_check_still_raises_the_drift_alert(drifted: ApiHarness) -> None:
    trader = drifted.as_role(Role.TRADER)
    checked = trader.post("/api/portfolios/core/rebalance", json={"strategy": "fixed"})
    assert checked.status_code == 200, checked.text
    (alert,) = trader.get("/api/alerts", params={"acknowledged": "false"}).json()["items"]
    assert (alert["kind"], alert["portfolio"]) == ("drift", "core")
    assert "against a target of 20.0% (strategy:fixed)" in alert["message"]
