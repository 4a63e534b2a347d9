"""Attribution adds up: hand-worked positions, a hand-worked long-short and a factor split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantdesk.analytics.attribution import (
    TradeFlow,
    factor_attribution,
    long_short_returns,
    position_attribution,
    sector_attribution,
)


def test_position_contributions_sum_to_the_return_but_the_commissions() -> None:
    # start: 10 A at 100 and 20 B at 50, no cash (equity 2,000); in the period sell 5 A at 110
    # and buy 10 B at 55, paying 1 commission each; end prices A 120, B 60
    # end: 5 A (600) + 30 B (1,800) + cash 550 - 550 - 2 = 2,398 → return 19.9 %
    result = position_attribution(
        {"A": 10, "B": 20},
        {"A": 5, "B": 30},
        {"A": 100.0, "B": 50.0},
        {"A": 120.0, "B": 60.0},
        [TradeFlow("A", -5, 110.0), TradeFlow("B", 10, 55.0)],
        start_equity=2_000.0,
        end_equity=2_398.0,
        costs=2.0,
    )
    by_symbol = {p.symbol: p for p in result.positions}
    assert by_symbol["A"].pnl == pytest.approx(600 - 1000 + 550)  # 150
    assert by_symbol["B"].pnl == pytest.approx(1800 - 1000 - 550)  # 250
    assert by_symbol["A"].contribution == pytest.approx(0.075)
    assert by_symbol["B"].contribution == pytest.approx(0.125)
    assert by_symbol["B"].end_weight == pytest.approx(1800 / 2398)
    assert result.period_return == pytest.approx(0.199)
    assert result.total_contribution == pytest.approx(0.2)
    # the residual is exactly the commissions over the start equity
    assert result.residual == pytest.approx(-2 / 2000)
    assert result.unexplained == pytest.approx(0.0, abs=1e-15)
    assert [p.symbol for p in result.positions] == ["B", "A"]  # largest contribution first


def test_without_trades_the_contribution_is_weight_times_return_linked_over_days() -> None:
    # 1,000 in each of A and B; day 1 A +10 %; day 2 B +10 %
    result = position_attribution(
        {"A": 10, "B": 10},
        {"A": 10, "B": 10},
        {"A": 100.0, "B": 100.0},
        {"A": 110.0, "B": 110.0},
        [],
        start_equity=2_000.0,
        end_equity=2_200.0,
    )
    weights_day_1 = {"A": 0.5, "B": 0.5}
    weights_day_2 = {"A": 1100 / 2100, "B": 1000 / 2100}
    growth_after_day_1 = 2100 / 2000
    linked_a = weights_day_1["A"] * 0.10
    linked_b = weights_day_2["B"] * 0.10 * growth_after_day_1
    by_symbol = {p.symbol: p.contribution for p in result.positions}
    assert by_symbol == pytest.approx({"A": linked_a, "B": linked_b})
    assert result.residual == pytest.approx(0.0, abs=1e-15)


def test_a_held_symbol_without_a_price_is_named() -> None:
    with pytest.raises(ValueError, match="no end price for held symbol 'B'"):
        position_attribution({}, {"B": 1}, {}, {}, [], 1.0, 1.0)


def test_sectors_sum_their_positions() -> None:
    result = position_attribution(
        {"A": 1, "B": 1, "C": 1},
        {"A": 1, "B": 1, "C": 1},
        {"A": 10.0, "B": 10.0, "C": 10.0},
        {"A": 11.0, "B": 12.0, "C": 9.0},
        [],
        30.0,
        32.0,
    )
    sectors = sector_attribution(result, {"A": "Tech", "B": "Tech", "C": None})
    assert [(s.sector, s.positions) for s in sectors] == [("Tech", 2), ("(unknown)", 1)]
    assert sectors[0].contribution == pytest.approx(3 / 30)
    assert sum(s.contribution for s in sectors) == pytest.approx(result.total_contribution)


def test_long_short_holds_the_top_and_bottom_from_the_day_after_scoring() -> None:
    days = pd.date_range("2024-01-01", periods=3, freq="D")
    returns = pd.DataFrame(
        {
            "A": [0.05, 0.02, 0.01],
            "B": [0.0, 0.5, 0.0],
            "C": [0.0, -0.5, 0.0],
            "D": [0.0, -0.01, 0.03],
        },
        index=days,
    )
    scores = pd.DataFrame({"A": [4.0], "B": [3.0], "C": [2.0], "D": [1.0]}, index=days[:1])
    spread = long_short_returns(returns, scores, fraction=0.25)
    # day 0: nothing held yet; then long A, short D
    assert spread.tolist() == pytest.approx([0.0, 0.02 - (-0.01), 0.01 - 0.03])


def test_factor_split_adds_up_to_the_summed_returns() -> None:
    generator = np.random.default_rng(7)
    days = pd.bdate_range("2023-01-02", periods=250)
    factors = pd.DataFrame(
        generator.normal(0.0, 0.01, size=(250, 2)), index=days, columns=["market", "momentum"]
    )
    noise = generator.normal(0.0, 0.001, size=250)
    returns = pd.Series(
        0.0003 + 1.2 * factors["market"] - 0.4 * factors["momentum"] + noise, index=days
    )
    result = factor_attribution(returns, factors)
    betas = {e.factor: e.beta for e in result.exposures}
    assert betas == pytest.approx({"market": 1.2, "momentum": -0.4}, abs=0.03)
    explained = result.alpha_contribution + sum(e.contribution for e in result.exposures)
    assert explained == pytest.approx(float(returns.sum()), abs=1e-12)
    assert result.r_squared > 0.95
    assert result.compounded_return == pytest.approx(float(np.prod(1 + returns) - 1))


def test_factor_attribution_needs_enough_days() -> None:
    days = pd.bdate_range("2023-01-02", periods=3)
    with pytest.raises(ValueError, match="at least 4 days"):
        factor_attribution(
            pd.Series([0.1, 0.2, 0.3], index=days),
            pd.DataFrame({"market": [0.1, 0.0, 0.2], "momentum": [0.0, 0.1, 0.0]}, index=days),
        )
