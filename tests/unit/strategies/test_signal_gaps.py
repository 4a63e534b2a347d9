"""Regression: one missing bar used to freeze TA-Lib indicators (SMA NaN, RSI 0) for the rest of
the series, so ma-crossover stopped trading and rsi bought on the gap and never sold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantdesk.backtest import CostModel
from quantdesk.backtest.event import run_events
from quantdesk.data.panel import Panel
from quantdesk.strategies.ma_crossover import MovingAverageCrossover, simple_moving_average
from quantdesk.strategies.rsi import RelativeStrengthIndex, relative_strength_index

GAP = 300


def wavy_prices(n: int = 800) -> np.ndarray:
    t = np.arange(n)
    prices = 100 + 10 * np.sin(t / 15) + 0.01 * t
    prices[GAP] = np.nan  # a missing bar, e.g. a halted session
    return prices


def panel(prices: np.ndarray) -> Panel:
    dates = pd.bdate_range("2015-01-01", periods=len(prices)).to_numpy(dtype="datetime64[ns]")
    return Panel(dates, ("GAP",), {"close": prices[:, None], "open": prices[:, None]})


def test_indicators_resume_after_a_missing_bar() -> None:
    prices = wavy_prices()
    average = simple_moving_average(prices, 20)
    strength = relative_strength_index(prices[:, None], 14)[:, 0]
    assert np.isnan(average[GAP])
    assert np.isfinite(average[GAP + 1 :]).all()
    assert np.isfinite(strength[GAP + 1 :]).all()
    assert strength[GAP + 1 :].max() > 70  # still oscillates, not stuck at 0
    # after the gap the SMA spans the 20 last valid prices, skipping the missing one
    valid = np.flatnonzero(~np.isnan(prices[: GAP + 20]))[-20:]
    assert average[GAP + 19] == pytest.approx(np.mean(prices[valid]), rel=1e-12)


def test_strategies_keep_trading_after_the_gap() -> None:
    data = panel(wavy_prices())
    costs = CostModel.free()
    for strategy in (MovingAverageCrossover(fast=5, slow=20), RelativeStrengthIndex()):
        fills = run_events(data, strategy, costs).fills
        after = pd.to_datetime(fills["date"]) > pd.Timestamp(data.dates[GAP])
        assert after.sum() >= 4, strategy.name
        assert set(fills.loc[after, "side"].astype(str)) == {"buy", "sell"}, strategy.name
