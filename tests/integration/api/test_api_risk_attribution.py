"""``/api/portfolios/{name}/risk`` and ``/api/portfolios/{name}/attribution`` on the small
market (three stocks and the VIX, January–June 2024): a portfolio buys AAA (rising) and BBB
(falling) on 2 January and is valued on 28 March; the figures are checked against the bars
and the reports service by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import pytest

from quantdesk.services.auth import Role

if TYPE_CHECKING:
    from api_support import ApiHarness

ENTRY = date(2024, 1, 2)
VALUED = date(2024, 3, 28)


def closes(harness: ApiHarness, symbol: str, start: date, end: date) -> list[float]:
    bars = harness.services.data.get_bars(symbol, start, end)
    return [float(c) for c in bars["close"]]


@pytest.fixture
def held(market: ApiHarness) -> ApiHarness:
    """Portfolio ``core``: 100 AAA and 200 BBB bought on 2 January, snapshots to 28 March."""
    trader = market.as_role(Role.TRADER)
    assert trader.post("/api/portfolios", json={"name": "core", "cash": "100000"}).is_success
    for symbol, quantity in (("AAA", "100"), ("BBB", "200")):
        order = {"portfolio": "core", "symbol": symbol, "side": "buy", "quantity": quantity}
        assert trader.post("/api/trades", json=order).is_success
    market.services.trading.snapshot("core")
    for day in (date(2024, 2, 29), VALUED):
        market.services.clock.advance_to(datetime(day.year, day.month, day.day, 21, tzinfo=UTC))  # type: ignore[attr-defined]
        market.services.trading.snapshot("core")
    return market


def test_risk_gives_each_holdings_drawdown_from_its_peak_and_distance_to_the_stop(
    held: ApiHarness,
) -> None:
    response = held.as_role(Role.VIEWER).get("/api/portfolios/core/risk")
    assert response.status_code == 200, response.text
    risk = response.json()
    # ^VIX closes are 15 + k % 5: calm (below 20) whose stop distance is 8%
    vix = closes(held, "^VIX", VALUED, VALUED)[-1]
    assert (risk["vix_level"], risk["vix_date"]) == (vix, VALUED.isoformat())
    assert (risk["vix_regime"], risk["stop_distance"]) == ("calm", 0.08)
    rows = {p["symbol"]: p for p in risk["positions"]}
    assert set(rows) == {"AAA", "BBB"}
    for symbol in ("AAA", "BBB"):
        since_entry = closes(held, symbol, ENTRY, VALUED)
        peak, last = max(since_entry), since_entry[-1]
        row = rows[symbol]
        assert row["entry"] == ENTRY.isoformat()
        assert row["peak"] == pytest.approx(peak)
        assert row["last"] == pytest.approx(last)
        assert row["drawdown"] == pytest.approx(last / peak - 1.0)
        assert row["distance_to_stop"] == pytest.approx(0.08 - abs(last / peak - 1.0))
        entry_price = since_entry[0]
        assert row["pnl_fraction"] == pytest.approx(last / entry_price - 1.0, abs=1e-3)
    # AAA only rises: at its peak; BBB only falls: below its entry close
    assert rows["AAA"]["drawdown"] == pytest.approx(0.0)
    assert rows["BBB"]["drawdown"] < 0.0
    assert rows["BBB"]["peak"] == pytest.approx(closes(held, "BBB", ENTRY, ENTRY)[0])
    value = held.services.trading.value("core")
    weights = {p.symbol: p.weight for p in value.positions}
    assert {s: r["weight"] for s, r in rows.items()} == pytest.approx(weights)
    correlation = risk["correlation"]
    assert correlation["symbols"] == ["AAA", "BBB"]
    assert correlation["matrix"][0][0] == pytest.approx(1.0)
    assert correlation["matrix"][0][1] == correlation["matrix"][1][0]


def test_risk_of_a_portfolio_without_holdings_has_no_positions_and_no_correlation(
    market: ApiHarness,
) -> None:
    market.as_role(Role.TRADER).post("/api/portfolios", json={"name": "idle", "cash": "1000"})
    risk = market.as_role(Role.VIEWER).get("/api/portfolios/idle/risk").json()
    assert (risk["positions"], risk["correlation"], risk["vix_regime"]) == ([], None, "calm")


def test_risk_of_an_unknown_portfolio_is_a_404_problem(market: ApiHarness) -> None:
    response = market.as_role(Role.VIEWER).get("/api/portfolios/nobody/risk")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "nobody" in response.json()["detail"]


def test_risk_needs_a_login(market: ApiHarness) -> None:
    assert market.client.get("/api/portfolios/core/risk").status_code == 401


def test_vix_history_names_each_closes_regime(market: ApiHarness) -> None:
    vix = market.as_role(Role.VIEWER).get("/api/risk/vix", params={"end": "2024-01-10"}).json()
    # 15 + k % 5 over the first sessions: all below 20, calm
    assert [(p["close"], p["regime"]) for p in vix["points"]][:6] == [
        (15.0, "calm"),
        (16.0, "calm"),
        (17.0, "calm"),
        (18.0, "calm"),
        (19.0, "calm"),
        (15.0, "calm"),
    ]


def test_attribution_contributions_sum_to_the_period_return_minus_the_residual(
    held: ApiHarness,
) -> None:
    response = held.as_role(Role.VIEWER).get(
        "/api/portfolios/core/attribution", params={"period": "2024-03"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    report = held.services.reports.portfolio_report("core", "2024-03")
    parts = report.extra["attribution"]
    # the month clipped to the snapshots: from 1 March to the last one, 28 March
    assert (body["period"], body["start"], body["end"]) == ("2024-03", "2024-03-01", "2024-03-28")
    assert body["period_return"] == pytest.approx(parts.period_return)
    assert body["period_return"] == pytest.approx(report.metric("total_return").period)
    rows = {p["symbol"]: p for p in body["by_position"]}
    assert set(rows) == {"AAA", "BBB"}
    total = sum(p["contribution"] for p in rows.values())
    assert total == pytest.approx(body["period_return"] - body["residual"])
    # March: AAA rose and BBB fell, so their contributions have those signs
    assert rows["AAA"]["contribution"] > 0 > rows["BBB"]["contribution"]
    for p in parts.positions:
        row = rows[p.symbol]
        assert row["contribution"] == pytest.approx(p.pnl / parts.start_equity)
        assert row["weight"] == pytest.approx(p.end_weight)
        # nothing traded in March: a holding's return is its own price change
        march = closes(held, p.symbol, date(2024, 2, 29), VALUED)
        assert row["return"] == pytest.approx(march[-1] / march[0] - 1.0)
    # no instrument file, so no sectors: one "(unknown)" row holding both
    assert [(s["sector"], s["positions"]) for s in body["by_sector"]] == [("(unknown)", 2)]
    assert sum(s["contribution"] for s in body["by_sector"]) == pytest.approx(total)
    assert body["by_factor"] == []
    assert body["factor_method"] is None
    assert any("factor" in note for note in body["notes"])


def test_attribution_of_a_period_without_snapshots_is_a_422_problem(held: ApiHarness) -> None:
    response = held.as_role(Role.VIEWER).get(
        "/api/portfolios/core/attribution", params={"period": "2023-06"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "2023-06" in response.json()["detail"]


def test_attribution_of_an_unknown_portfolio_or_book_is_a_problem(held: ApiHarness) -> None:
    viewer = held.as_role(Role.VIEWER)
    missing = viewer.get("/api/portfolios/nobody/attribution")
    assert missing.status_code == 404
    assert "nobody" in missing.json()["detail"]
    no_book = viewer.get("/api/portfolios/core/attribution", params={"strategy": "nosuch"})
    assert no_book.status_code in (404, 422)
    assert "nosuch" in no_book.json()["detail"]
    assert held.client.get("/api/portfolios/core/attribution").status_code == 401
