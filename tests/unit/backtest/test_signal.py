"""Signal strategies and their vectorised path: indicators, rules, and agreement with events."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantdesk.backtest.costs import CostModel, FillTiming
from quantdesk.backtest.event import run_events
from quantdesk.backtest.signals import run_signal_strategy, sma_crossover_grid
from quantdesk.data.panel import Panel
from quantdesk.strategies.base import StrategyParameterError
from quantdesk.strategies.ensemble import Ensemble
from quantdesk.strategies.ma_crossover import MovingAverageCrossover
from quantdesk.strategies.registry import StrategyRegistry
from quantdesk.strategies.rsi import RelativeStrengthIndex, relative_strength_index
from quantdesk.strategies.signals import PrecomputedSignalStrategy
from quantdesk.strategies.support_resistance import (
    SupportResistance,
    support_resistance_levels,
)

S2_COSTS = CostModel(commission_per_order=0.0, commission_bps=1.0)
FULL_COSTS = CostModel(commission_per_order=1.0, commission_bps=2.0, slippage_bps=3.0)


def minute_panel(n: int, seed: int) -> Panel:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.004, n)))
    opens = np.concatenate(([close[0]], close[:-1]))
    high = np.maximum(opens, close) * (1 + np.abs(rng.normal(0, 0.001, n)))
    low = np.minimum(opens, close) * (1 - np.abs(rng.normal(0, 0.001, n)))
    dates = pd.date_range("2024-01-02 14:30", periods=n, freq="min").values
    fields = {"open": opens, "high": high, "low": low, "close": close}
    return Panel(dates, ("X",), {k: v[:, None] for k, v in fields.items()})


def sma_reference(close: np.ndarray, fast: int, slow: int, fee_bps: float) -> float:
    """Independent S2 final equity (plain pandas rolling means and a Python loop)."""
    series = pd.Series(close)
    long = (series.rolling(fast).mean() > series.rolling(slow).mean()).to_numpy()
    cash, shares, fee = 1_000_000.0, 0.0, fee_bps / 10_000
    for t in range(len(close) - 1):
        if long[t] and shares == 0.0:
            shares, cash = cash / (close[t] * (1 + fee)), 0.0
        elif not long[t] and shares > 0.0:
            cash, shares = shares * close[t] * (1 - fee), 0.0
    return float(cash + shares * close[-1])


FAST = list(range(5, 51, 5))
SLOW = list(range(20, 201, 20))


def test_sma_grid_agrees_with_the_event_engine_on_every_combination() -> None:
    panel = minute_panel(1_500, seed=11)
    grid = sma_crossover_grid(panel["close"][:, 0], FAST, SLOW, commission_bps=1.0)
    assert grid.shape == (10, 10)
    for a, fast in enumerate(FAST):
        for b, slow in enumerate(SLOW):
            strategy = MovingAverageCrossover(fast=fast, slow=slow)
            event = run_events(panel, strategy, S2_COSTS).final_equity
            assert grid[a, b] == pytest.approx(event, rel=1e-9), (fast, slow)
    # equal windows never trade
    assert grid[FAST.index(20), SLOW.index(20)] == 1_000_000.0


@pytest.mark.parametrize(("fast", "slow"), [(5, 20), (20, 60), (50, 40)])
def test_sma_grid_matches_an_independent_implementation(fast: int, slow: int) -> None:
    close = minute_panel(5_000, seed=2)["close"][:, 0]
    (value,) = sma_crossover_grid(close, [fast], [slow], commission_bps=1.0).ravel()
    assert value == pytest.approx(sma_reference(close, fast, slow, 1.0), rel=1e-9)


STRATEGIES = [
    MovingAverageCrossover(fast=7, slow=30),
    RelativeStrengthIndex(period=10, lower=35, upper=65),
    SupportResistance(window=15),
    Ensemble(mode="vote", threshold=0.5),
    Ensemble(mode="weighted", threshold=0.2),
]


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: s.name)
@pytest.mark.parametrize("timing", list(FillTiming))
def test_vectorised_path_equals_the_event_engine(
    strategy: PrecomputedSignalStrategy, timing: FillTiming
) -> None:
    panel = minute_panel(4_000, seed=7)
    event = run_events(panel, strategy, FULL_COSTS, 100_000.0, fill_timing=timing)
    vector = run_signal_strategy(panel, strategy, FULL_COSTS, 100_000.0, fill_timing=timing)
    assert len(event.fills) > 4
    np.testing.assert_allclose(vector.equity, event.equity, rtol=1e-9)
    np.testing.assert_allclose(vector.weights, event.weights, rtol=1e-9, atol=1e-12)
    for column in ("quantity", "price", "commission"):
        np.testing.assert_allclose(vector.fills[column], event.fills[column], rtol=1e-9)
    assert vector.fills["date"].tolist() == event.fills["date"].tolist()
    assert vector.fills["side"].tolist() == event.fills["side"].tolist()
    np.testing.assert_allclose(vector.costs, event.costs, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(vector.turnover, event.turnover, rtol=1e-9, atol=1e-12)


def wilder_rsi(close: np.ndarray, period: int) -> np.ndarray:
    """RSI as TA-Lib defines it: simple average seed, then Wilder smoothing."""
    change = np.diff(close)
    gain, loss = np.clip(change, 0, None), np.clip(-change, 0, None)
    out = np.full(len(close), np.nan)
    avg_gain, avg_loss = gain[:period].mean(), loss[:period].mean()
    out[period] = 100 * avg_gain / (avg_gain + avg_loss)
    for t in range(period, len(change)):
        avg_gain = (avg_gain * (period - 1) + gain[t]) / period
        avg_loss = (avg_loss * (period - 1) + loss[t]) / period
        out[t + 1] = 100 * avg_gain / (avg_gain + avg_loss)
    return out


def test_rsi_indicator_and_rule() -> None:
    panel = minute_panel(600, seed=4)
    close = panel["close"][:, 0]
    rsi = relative_strength_index(panel["close"], 14)[:, 0]
    np.testing.assert_allclose(rsi, wilder_rsi(close, 14), rtol=1e-9, equal_nan=True)
    signals = RelativeStrengthIndex(period=14).signals(panel)[:, 0]
    with np.errstate(invalid="ignore"):
        expected = np.where(rsi < 30, 1, np.where(rsi > 70, -1, 0))
    np.testing.assert_array_equal(signals, expected)


def test_support_resistance_levels_use_only_earlier_bars() -> None:
    panel = minute_panel(300, seed=5)
    _, support, resistance = support_resistance_levels(panel, 10)
    high, low = pd.Series(panel["high"][:, 0]), pd.Series(panel["low"][:, 0])
    np.testing.assert_allclose(
        resistance[:, 0], high.rolling(10).max().shift(1), equal_nan=True, rtol=0
    )
    np.testing.assert_allclose(support[:, 0], low.rolling(10).min().shift(1), equal_nan=True)


def test_ensemble_vote_needs_a_majority_of_members() -> None:
    panel = minute_panel(2_000, seed=8)
    ensemble = Ensemble(mode="vote", threshold=0.6)
    votes = np.stack([m.signals(panel)[:, 0] for m in ensemble.members])
    buy, sell = (votes == 1).sum(axis=0) / 3, (votes == -1).sum(axis=0) / 3
    expected = np.where(
        (buy >= 0.6) & (buy > sell), 1, np.where((sell >= 0.6) & (sell > buy), -1, 0)
    )
    np.testing.assert_array_equal(ensemble.signals(panel)[:, 0], expected)


def test_ensemble_confidence_is_exposed_per_bar() -> None:
    panel = minute_panel(500, seed=9)
    ensemble = Ensemble(mode="weighted", threshold=0.1)
    seen: list[float] = []

    class Probe(Ensemble):
        def on_bar(self, context):  # type: ignore[no-untyped-def]
            seen.append(self.signal(context, "X").confidence)

    run_events(panel, Probe(ensemble.params), CostModel.free())
    assert len(seen) == 500
    assert all(0.0 <= c <= 1.0 for c in seen)


def test_bad_parameters_are_refused_with_a_hint() -> None:
    with pytest.raises(StrategyParameterError, match="lower"):
        RelativeStrengthIndex(lower=80, upper=70)
    with pytest.raises(StrategyParameterError, match="did you mean 'window'"):
        SupportResistance(windw=5)
    with pytest.raises(StrategyParameterError, match="ensemble member 0"):
        Ensemble(members=[{"strategy": "momentum-12-1"}])


def test_signal_strategies_register_by_name() -> None:
    registry = StrategyRegistry()
    for cls in (MovingAverageCrossover, RelativeStrengthIndex, SupportResistance, Ensemble):
        registry.register(cls)
    assert registry.names() == ["ensemble", "ma-crossover", "rsi", "support-resistance"]
    created = registry.create("ma-crossover", fast=3, slow=8)
    assert isinstance(created, MovingAverageCrossover)
    assert created.params.model_dump() == {"fast": 3, "slow": 8}


def wide_panel(n_symbols: int, n_days: int, seed: int) -> Panel:
    """Daily OHLC with adjusted closes, a late listing, a missing day and a delisting."""
    rng = np.random.default_rng(seed)
    close = 40 * np.exp(np.cumsum(rng.normal(0.0002, 0.02, (n_days, n_symbols)), axis=0))
    adj = close * np.exp(np.cumsum(np.full(close.shape, 0.0001), axis=0)) / 1.3
    opens = close * (1 + rng.normal(0, 0.004, close.shape))
    high = np.maximum(opens, close) * (1 + np.abs(rng.normal(0, 0.004, close.shape)))
    low = np.minimum(opens, close) * (1 - np.abs(rng.normal(0, 0.004, close.shape)))
    fields = {"open": opens, "high": high, "low": low, "close": close, "adj_close": adj}
    for values in fields.values():
        values[:200, 0] = np.nan  # listed late
        values[300, 1] = np.nan  # one missing day
        values[n_days - 150 :, 2] = np.nan  # delisted: held at its last price
    dates = pd.bdate_range("2010-01-04", periods=n_days).values
    return Panel(dates, tuple(f"S{j:02d}" for j in range(n_symbols)), fields)


MULTI_COSTS = {
    "full": FULL_COSTS,
    "thresholds": CostModel(commission_per_order=5.0, commission_bps=1.0, min_trade_value=4e3),
}


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: s.name)
@pytest.mark.parametrize("timing", list(FillTiming))
@pytest.mark.parametrize("costs", list(MULTI_COSTS.values()), ids=list(MULTI_COSTS))
def test_multi_symbol_vectorised_path_equals_the_event_engine(
    strategy: PrecomputedSignalStrategy, timing: FillTiming, costs: CostModel
) -> None:
    panel = wide_panel(12, 900, seed=21)
    event = run_events(panel, strategy, costs, 100_000.0, fill_timing=timing)
    vector = run_signal_strategy(panel, strategy, costs, 100_000.0, fill_timing=timing)
    assert vector.engine == "vector"
    assert event.fills["symbol"].nunique() > 5, "too few symbols traded: the case is vacuous"
    np.testing.assert_allclose(vector.equity, event.equity, rtol=1e-9)
    np.testing.assert_allclose(vector.cash, event.cash, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(vector.positions, event.positions, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(vector.weights, event.weights, rtol=1e-9, atol=1e-12)
    for frame in ("fills", "orders"):
        mine, theirs = getattr(vector, frame), getattr(event, frame)
        assert list(mine.columns) == list(theirs.columns)
        for column in ("date", "symbol", "side", "order_id", "reason"):
            assert mine[column].tolist() == theirs[column].tolist(), (frame, column)
        for column in ("quantity", "price", "commission"):
            np.testing.assert_allclose(mine[column], theirs[column], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(vector.costs, event.costs, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(vector.turnover, event.turnover, rtol=1e-9, atol=1e-12)
    assert vector.rebalance_dates.equals(event.rebalance_dates)
    pd.testing.assert_frame_equal(vector.trades, event.trades, rtol=1e-9)


def test_a_buy_the_cash_cannot_pay_is_trimmed_then_refused_like_the_event_engine() -> None:
    # every symbol signals BUY on the first bar: the last entries find the cash spent
    panel = wide_panel(6, 400, seed=3)
    signals = np.ones(panel.shape, dtype=np.int8)

    class AlwaysLong(MovingAverageCrossover):
        def signals(self, data: Panel) -> np.ndarray:
            return signals

        def entry_weight(self, data: Panel) -> float:
            return 0.4

    costs = CostModel(commission_per_order=25.0, slippage_bps=10.0)
    event = run_events(panel, AlwaysLong(), costs, 10_000.0)
    vector = run_signal_strategy(panel, AlwaysLong(), costs, 10_000.0)
    assert len(event.orders) > len(event.fills)  # a refused buy is an order without a fill
    assert vector.orders["order_id"].tolist() == event.orders["order_id"].tolist()
    assert vector.fills["order_id"].tolist() == event.fills["order_id"].tolist()
    np.testing.assert_allclose(vector.equity, event.equity, rtol=1e-12)
