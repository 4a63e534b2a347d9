"""CostModel: commissions, slippage, thresholds, validation."""

from __future__ import annotations

import pytest

from quantdesk.backtest.costs import CostModel, FillTiming, Side


def test_default_is_one_dollar_per_order_like_the_paper_broker() -> None:
    costs = CostModel()
    assert costs.commission(100, 50.0) == 1.0
    assert costs.fill_timing is FillTiming.CLOSE


def test_commission_adds_flat_per_share_and_bp_of_notional() -> None:
    costs = CostModel(commission_per_order=1.0, commission_per_share=0.005, commission_bps=10)
    # 200 shares at $50: $1 + 200 × $0.005 + 10 bp × $10,000
    assert costs.commission(200, 50.0) == pytest.approx(1.0 + 1.0 + 10.0)
    assert costs.commission(-200, 50.0) == pytest.approx(12.0)


def test_no_shares_no_commission() -> None:
    assert CostModel(commission_per_order=5.0).commission(0, 50.0) == 0.0


def test_slippage_is_adverse_for_both_sides() -> None:
    costs = CostModel(slippage_bps=5)
    assert costs.fill_price(Side.BUY, 100.0) == pytest.approx(100.05)
    assert costs.fill_price("sell", 100.0) == pytest.approx(99.95)


def test_affordable_shares_spends_the_cash_exactly() -> None:
    costs = CostModel(commission_per_order=1.0, commission_bps=10)
    shares = costs.affordable_shares(1001.0, 20.0)
    assert shares * 20.0 + costs.commission(shares, 20.0) == pytest.approx(1001.0)
    assert costs.affordable_shares(0.5, 20.0) == 0.0


def test_thresholds_skip_small_trades() -> None:
    costs = CostModel(min_trade_value=100.0, min_trade_weight=0.01)
    assert costs.is_below_threshold(99.0, 1_000.0)
    assert costs.is_below_threshold(-500.0, 100_000.0)  # 0.5 % < 1 %
    assert not costs.is_below_threshold(2_000.0, 100_000.0)


def test_string_fill_timing_is_normalised() -> None:
    costs = CostModel(fill_timing="next_open")  # type: ignore[arg-type]
    assert costs.fill_timing is FillTiming.NEXT_OPEN


@pytest.mark.parametrize("field", ["commission_bps", "slippage_bps", "commission_per_order"])
def test_negative_or_nan_rates_are_rejected_naming_the_field(field: str) -> None:
    for bad in (-1.0, float("nan")):
        with pytest.raises(ValueError, match=field):
            CostModel(**{field: bad})  # type: ignore[arg-type]
