from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantdesk.portfolio import (
    PortfolioInputError,
    apply_caps,
    cap_weights,
    cash_buffer,
    sector_caps,
)


def water_fill_reference(weights: np.ndarray, cap: float) -> np.ndarray:
    """Independent closed form: min(cap, c × w) with c found by bisection to keep the sum."""
    total = weights.sum()
    if (weights > 0).sum() * cap <= total:
        return np.where(weights > 0, cap, 0.0)
    low, high = 1.0, 1e9
    for _ in range(200):
        middle = (low + high) / 2
        if np.minimum(cap, middle * weights).sum() < total:
            low = middle
        else:
            high = middle
    return np.minimum(cap, high * weights)


def test_cap_redistributes_excess_pro_rata_hand_worked() -> None:
    # A's excess 0.1 goes to B and C in proportion 0.3 : 0.2
    capped = cap_weights(pd.Series({"A": 0.5, "B": 0.3, "C": 0.2}), 0.4)
    assert capped.to_dict() == pytest.approx({"A": 0.4, "B": 0.36, "C": 0.24})


def test_cap_iterates_when_redistribution_pushes_another_name_over() -> None:
    # round 1: A → 0.35, B 0.38 → over; round 2: A, B at 0.35, C gets the rest
    capped = cap_weights(pd.Series({"A": 0.6, "B": 0.3, "C": 0.1}), 0.35)
    assert capped.to_dict() == pytest.approx({"A": 0.35, "B": 0.35, "C": 0.3})


def test_infeasible_cap_keeps_capped_weights_and_leaves_cash() -> None:
    capped = cap_weights(pd.Series({"A": 0.5, "B": 0.3, "C": 0.2}), 0.25)
    assert capped.to_dict() == pytest.approx({"A": 0.25, "B": 0.25, "C": 0.25})
    assert 1 - capped.sum() == pytest.approx(0.25)


def test_cap_never_gives_weight_to_unselected_names() -> None:
    capped = cap_weights(pd.Series({"A": 0.9, "B": 0.1, "Z": 0.0}), 0.5)
    assert capped["Z"] == 0.0
    assert capped["A"] == pytest.approx(0.5)


def test_cap_keeps_existing_cash() -> None:
    capped = cap_weights(pd.Series({"A": 0.6, "B": 0.2}), 0.5)
    assert capped.sum() == pytest.approx(0.8)
    assert capped.to_dict() == pytest.approx({"A": 0.5, "B": 0.3})


@settings(max_examples=200, deadline=None)
@given(
    # the bisection reference cannot reach factors near 1e300, so no denormal weights here
    raw=st.lists(st.one_of(st.just(0.0), st.floats(1e-6, 1.0)), min_size=1, max_size=15),
    cap=st.floats(0.01, 1.0),
    invested=st.floats(0.0, 1.0),
)
def test_cap_properties_and_reference(raw: list[float], cap: float, invested: float) -> None:
    values = np.array(raw)
    if values.sum() > 0:
        values = values / values.sum() * invested
    weights = pd.Series(values, index=[f"S{i}" for i in range(len(values))])
    capped = cap_weights(weights, cap)
    assert np.isfinite(capped).all()
    assert (capped >= 0).all()
    assert (capped <= cap + 1e-9).all()
    assert capped.sum() <= weights.sum() + 1e-9
    assert capped.to_numpy() == pytest.approx(water_fill_reference(values, cap), abs=1e-7)


def test_cap_with_a_denormal_weight_does_not_overflow() -> None:
    # regression: room / (tiny sum) overflowed to inf and both names were capped (sum 1.5)
    capped = cap_weights(pd.Series({"A": 1.0, "B": 5e-324}), 0.75)
    assert capped.to_dict() == pytest.approx({"A": 0.75, "B": 0.25})


def test_sector_cap_hand_worked() -> None:
    weights = pd.Series({"A": 0.4, "B": 0.3, "C": 0.3})
    sectors = {"A": "Tech", "B": "Tech", "C": "Energy"}
    capped = sector_caps(weights, sectors, {"Tech": 0.5})
    # Tech scaled 0.7 → 0.5 keeping A : B = 4 : 3; its excess 0.2 goes to Energy
    assert capped.to_dict() == pytest.approx({"A": 0.5 * 4 / 7, "B": 0.5 * 3 / 7, "C": 0.5})


def test_sector_caps_all_binding_leave_cash() -> None:
    weights = pd.Series({"A": 0.6, "C": 0.4})
    capped = sector_caps(weights, {"A": "Tech", "C": "Energy"}, {}, default_cap=0.3)
    assert capped.to_dict() == pytest.approx({"A": 0.3, "C": 0.3})


def test_zero_sector_cap_excludes_the_sector() -> None:
    weights = pd.Series({"A": 0.5, "B": 0.25, "C": 0.25})
    capped = sector_caps(weights, {"A": "Banks", "B": "Tech", "C": "Tech"}, {"Banks": 0.0})
    assert capped.to_dict() == pytest.approx({"A": 0.0, "B": 0.5, "C": 0.5})


def test_joint_caps_hold_both_limits_at_once() -> None:
    weights = pd.Series({"A": 0.4, "B": 0.3, "C": 0.2, "D": 0.1})
    sectors = {"A": "Tech", "B": "Tech", "C": "Energy", "D": "Energy"}
    capped = apply_caps(weights, max_weight=0.3, sectors=sectors, caps={"Tech": 0.5})
    tech = capped["A"] + capped["B"]
    assert tech == pytest.approx(0.5)
    assert capped.max() <= 0.3 + 1e-12
    assert capped.sum() == pytest.approx(1.0)
    # Energy absorbs 0.5 in its 2 : 1 ratio but C is held at 0.3
    assert capped["C"] == pytest.approx(0.3)
    assert capped["D"] == pytest.approx(0.2)


@settings(max_examples=150, deadline=None)
@given(
    raw=st.lists(st.floats(0.001, 1.0), min_size=2, max_size=12),
    cap=st.floats(0.05, 1.0),
    sector_cap=st.floats(0.0, 1.0),
    seed=st.integers(0, 1000),
)
def test_joint_caps_properties(raw: list[float], cap: float, sector_cap: float, seed: int) -> None:
    values = np.array(raw) / sum(raw)
    symbols = [f"S{i}" for i in range(len(values))]
    rng = np.random.default_rng(seed)
    sectors = {symbol: f"X{rng.integers(3)}" for symbol in symbols}
    capped = apply_caps(
        pd.Series(values, index=symbols), max_weight=cap, sectors=sectors, default_cap=sector_cap
    )
    assert (capped >= 0).all()
    assert (capped <= cap + 1e-9).all()
    assert capped.sum() <= 1 + 1e-9
    totals = capped.groupby(pd.Series(sectors)).sum()
    assert (totals <= sector_cap + 1e-9).all()


def test_cash_buffer_scales_only_when_needed() -> None:
    full = pd.Series({"A": 0.5, "B": 0.5})
    assert cash_buffer(full, 0.05).to_dict() == pytest.approx({"A": 0.475, "B": 0.475})
    partly_cash = pd.Series({"A": 0.45, "B": 0.45})
    assert cash_buffer(partly_cash, 0.05).to_dict() == pytest.approx({"A": 0.45, "B": 0.45})
    assert cash_buffer(full, 0.0).sum() == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"A": 0.7, "B": 0.5}, "sum to 1.2"),
        ({"A": -0.1, "B": 0.5}, "negative for \\['A'\\]"),
        ({"A": float("nan")}, "not finite for \\['A'\\]"),
    ],
)
def test_bad_weights_are_rejected(weights: dict[str, float], message: str) -> None:
    with pytest.raises(PortfolioInputError, match=message):
        cap_weights(weights, 0.5)


def test_bad_caps_and_missing_sectors_are_rejected() -> None:
    weights = pd.Series({"A": 0.5, "B": 0.5})
    with pytest.raises(PortfolioInputError, match="max_weight"):
        cap_weights(weights, 0.0)
    with pytest.raises(PortfolioInputError, match="no sector: \\['B'\\]"):
        sector_caps(weights, {"A": "Tech"}, {"Tech": 0.5})
    with pytest.raises(PortfolioInputError, match="'Tech'"):
        sector_caps(weights, {"A": "Tech", "B": "Tech"}, {"Tech": 1.5})
    with pytest.raises(PortfolioInputError, match="buffer"):
        cash_buffer(weights, 1.0)
