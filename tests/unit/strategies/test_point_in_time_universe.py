"""Regression: a point-in-time universe used to blank non-members' whole price history, so a
name joining the index at t could not be ranked for another 252 days. Membership now gates the
decision at t only; history stays visible."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantdesk.data.panel import Panel
from quantdesk.strategies.etf_factor import EtfFactor
from quantdesk.strategies.momentum_12_1 import Momentum121
from quantdesk.strategies.sector_rotation import SectorRotation

JOIN = 400


def trending_panel() -> tuple[Panel, np.ndarray]:
    """Ten symbols; NEW rises fastest all along but only joins the universe at row JOIN."""
    dates = pd.bdate_range("2010-01-01", periods=700)
    growth = np.linspace(0.0001, 0.0005, 10)
    growth[-1] = 0.003  # NEW
    prices = 100 * np.exp(np.outer(np.arange(len(dates)), growth))
    symbols = (*(f"S{j}" for j in range(9)), "NEW")
    universe = np.ones(prices.shape, dtype=bool)
    universe[:JOIN, -1] = False
    panel = Panel(dates.to_numpy(dtype="datetime64[ns]"), symbols, {"close": prices})
    return panel, universe


@pytest.mark.parametrize(
    "strategy",
    [Momentum121(top_fraction=0.1), SectorRotation(top_n=1), EtfFactor(positions=1)],
    ids=["momentum-12-1", "sector-rotation", "etf-factor"],
)
def test_new_member_is_eligible_from_its_first_day(strategy: Momentum121) -> None:
    panel, universe = trending_panel()
    bound = type(strategy)(strategy.params, universe=universe)
    mask = bound.rebalance_mask(panel.dates)
    weights = bound.target_weights(panel, mask)
    rows = np.flatnonzero(mask & (np.arange(len(mask)) >= 252))
    before = [r for r in rows if r < JOIN]
    after = [r for r in rows if r >= JOIN]
    assert before
    assert after
    assert all(np.nan_to_num(weights[r, -1]) == 0.0 for r in before)
    assert weights[after[0], -1] > 0  # ranked on its full history the day it joins
