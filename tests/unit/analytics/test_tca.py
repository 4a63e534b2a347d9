"""Transaction-cost analysis against a case computed by hand."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from quantdesk.analytics.tca import OrderPrices, TcaGrouping, analyse, cost_bp


def _order(n: int, side: str, arrival: float, fill: float, **kw: object) -> OrderPrices:
    values: dict[str, object] = {
        "client_order_id": f"o{n}",
        "symbol": "AAA",
        "strategy": "s1",
        "side": side,
        "quantity": 10.0,
        "decided_at": datetime(2024, 1, 15, tzinfo=UTC),
        "decision_price": arrival,
        "arrival_price": arrival,
        "fill_price": fill,
    }
    values.update(kw)
    return OrderPrices(**values)  # type: ignore[arg-type]


def test_slippage_is_signed_against_the_side() -> None:
    assert cost_bp("buy", 100.0, 100.05) == pytest.approx(5.0)  # paid more: a cost
    assert cost_bp("sell", 50.0, 49.90) == pytest.approx(20.0)  # received less: a cost
    assert cost_bp("buy", 20.0, 19.99) == pytest.approx(-5.0)  # bought cheaper: improvement
    assert math.isnan(cost_bp("buy", None, 10.0))


def test_hand_computed_statistics_and_groups() -> None:
    orders = [
        _order(1, "buy", 100.0, 100.05),  # +5 bp
        _order(2, "sell", 50.0, 49.90, symbol="BBB"),  # +20 bp
        _order(3, "buy", 20.0, 19.99, decided_at=datetime(2024, 2, 1, tzinfo=UTC)),  # -5 bp
    ]
    report = analyse(orders, by=TcaGrouping.SYMBOL)
    overall = report.overall
    assert overall.orders == 3
    assert overall.mean_bp == pytest.approx(20 / 3)
    assert overall.median_bp == pytest.approx(5.0)
    # sample std of (5, 20, -5): sqrt(((5-6.667)^2 + (20-6.667)^2 + (-5-6.667)^2) / 2)
    assert overall.std_bp == pytest.approx(math.sqrt(475 / 3), rel=1e-9)
    # notional-weighted: (5*1000.5 + 20*499 - 5*199.9) / (1000.5 + 499 + 199.9)
    assert overall.weighted_mean_bp == pytest.approx(
        (5 * 1000.5 + 20 * 499.0 - 5 * 199.9) / (1000.5 + 499.0 + 199.9)
    )
    assert [(g.group, g.orders) for g in report.groups] == [("AAA", 2), ("BBB", 1)]
    assert report.groups[0].mean_bp == pytest.approx(0.0)
    by_month = analyse(orders, by=TcaGrouping.MONTH)
    assert [g.group for g in by_month.groups] == ["2024-01", "2024-02"]


def test_decision_delay_and_shortfall() -> None:
    (cost,) = analyse([_order(1, "buy", 101.0, 101.101, decision_price=100.0)]).orders
    assert cost.delay_bp == pytest.approx(100.0)  # the price moved 1 % before we sent
    assert cost.slippage_bp == pytest.approx(10.0)
    assert cost.shortfall_bp == pytest.approx(110.1)


def test_an_order_beyond_two_standard_deviations_is_an_outlier() -> None:
    orders = [_order(i, "buy", 100.0, 100.05) for i in range(9)]
    orders.append(_order(9, "buy", 100.0, 101.0))  # 100 bp
    report = analyse(orders)
    assert [o.client_order_id for o in report.orders if o.is_outlier] == ["o9"]
    assert report.overall.outliers == 1


def test_orders_without_an_arrival_price_are_counted_but_not_measured() -> None:
    manual = _order(3, "buy", 10.0, 10.0, arrival_price=None, decision_price=None)
    report = analyse([_order(1, "buy", 100.0, 100.05), manual])
    assert report.overall.orders == 2
    assert report.overall.measured == 1
    assert report.overall.mean_bp == pytest.approx(5.0)
