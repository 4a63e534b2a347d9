from __future__ import annotations

from decimal import Decimal

import pytest

from quantdesk.portfolio import (
    PortfolioInputError,
    continuous_kelly_fraction,
    fixed_fraction_shares,
    kelly_fraction,
)


def test_kelly_hand_worked() -> None:
    # p = 0.6, b = 2: f* = 0.6 - 0.4 / 2 = 0.4
    assert kelly_fraction(0.6, 2.0) == pytest.approx(0.4)
    assert kelly_fraction(0.6, 2.0, multiplier=0.5) == pytest.approx(0.2)
    assert kelly_fraction(0.6, 2.0, cap=0.25) == pytest.approx(0.25)


def test_kelly_with_negative_edge_is_no_position() -> None:
    assert kelly_fraction(0.4, 1.0) == 0.0
    assert continuous_kelly_fraction(-0.05, 0.04) == 0.0


def test_kelly_equals_the_growth_optimal_fraction_found_numerically() -> None:
    # maximise p log(1 + b f) + (1 - p) log(1 - f) on a fine grid
    import numpy as np

    p, b = 0.55, 1.5
    grid = np.linspace(0, 0.99, 99_001)
    growth = p * np.log1p(b * grid) + (1 - p) * np.log1p(-grid)
    assert kelly_fraction(p, b) == pytest.approx(grid[np.argmax(growth)], abs=1e-4)


def test_continuous_kelly_hand_worked() -> None:
    # (0.08 - 0.02) / 0.2² = 1.5, capped at 1; half Kelly 0.75
    assert continuous_kelly_fraction(0.08, 0.04, risk_free_rate=0.02) == 1.0
    assert continuous_kelly_fraction(
        0.08, 0.04, risk_free_rate=0.02, multiplier=0.5
    ) == pytest.approx(0.75)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((1.2, 2.0), "win_rate"),
        ((0.5, 0.0), "win_loss_ratio"),
        ((0.5, float("inf")), "win_loss_ratio"),
    ],
)
def test_kelly_rejects_bad_input(arguments: tuple[float, float], message: str) -> None:
    with pytest.raises(PortfolioInputError, match=message):
        kelly_fraction(*arguments)


def test_kelly_rejects_bad_multiplier_and_cap() -> None:
    with pytest.raises(PortfolioInputError, match="multiplier"):
        kelly_fraction(0.6, 2.0, multiplier=2.0)
    with pytest.raises(PortfolioInputError, match="cap"):
        continuous_kelly_fraction(0.1, 0.04, cap=0.0)
    with pytest.raises(PortfolioInputError, match="variance"):
        continuous_kelly_fraction(0.1, -0.04)


def test_fixed_fraction_hand_worked() -> None:
    # risk 1 % of 100,000 = 1,000; 50 - 45 = 5 per share → 200 shares (10,000 notional)
    shares = fixed_fraction_shares(100_000, 0.01, 50.0, 45.0)
    assert shares == Decimal(200)
    assert isinstance(shares, Decimal)


def test_fixed_fraction_rounds_down_and_supports_fractions() -> None:
    assert fixed_fraction_shares(10_000, 0.01, 33.0, 30.0) == Decimal(33)  # 33.33…
    fractional = fixed_fraction_shares(10_000, 0.01, 33.0, 30.0, whole_shares=False)
    assert fractional == Decimal("33.333333")


def test_fixed_fraction_is_limited_by_the_account() -> None:
    # a 0.10 stop on a 100 entry would mean 1,000 shares = 100,000 notional on 10,000 equity
    assert fixed_fraction_shares(10_000, 0.01, 100, 99.9) == Decimal(100)
    assert fixed_fraction_shares(10_000, 0.01, 100, 99.9, max_position_fraction=0.2) == 20


def test_fixed_fraction_sizes_a_short_with_a_stop_above() -> None:
    assert fixed_fraction_shares(Decimal("100000"), 0.01, 50, 55) == Decimal(200)


@pytest.mark.parametrize(
    ("equity", "entry", "stop", "message"),
    [
        (100_000, 50.0, 50.0, "risk per share is zero"),
        (100_000, -50.0, 45.0, "entry price"),
        (-1, 50.0, 45.0, "equity"),
        (100_000, float("nan"), 45.0, "entry must be finite"),
    ],
)
def test_fixed_fraction_rejects_bad_input(
    equity: float, entry: float, stop: float, message: str
) -> None:
    with pytest.raises(PortfolioInputError, match=message):
        fixed_fraction_shares(equity, 0.01, entry, stop)
