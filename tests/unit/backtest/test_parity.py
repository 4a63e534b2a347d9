"""One strategy, two engines: the vectorised and event-driven engines agree to 1e-9.

Every built-in allocation strategy of the default registry runs through both engines with the
same fill rules; ma-crossover's vectorised path is checked against the event engine too.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from quantdesk.backtest.costs import CostModel, FillTiming
from quantdesk.backtest.event import run_events
from quantdesk.backtest.result import BacktestResult
from quantdesk.backtest.signals import run_signal_strategy
from quantdesk.backtest.stops import StopLossRule
from quantdesk.backtest.vectorized import run_allocation
from quantdesk.data.panel import Panel
from quantdesk.strategies.base import AllocationStrategy
from quantdesk.strategies.ma_crossover import MovingAverageCrossover
from quantdesk.strategies.registry import default_registry

RTOL = 1e-9


def daily_panel(n_symbols: int = 25, n_days: int = 560, seed: int = 3) -> Panel:
    """Adjusted and raw prices with gaps: late listings, a missing day, a delisting."""
    rng = np.random.default_rng(seed)
    returns = rng.normal(0.0003, 0.02, (n_days, n_symbols))
    close = 50 * np.exp(np.cumsum(returns, axis=0))
    dividend_factor = np.exp(np.cumsum(np.full((n_days, n_symbols), 0.00005), axis=0))
    adj = close * dividend_factor / dividend_factor[-1]
    opens = close * (1 + rng.normal(0, 0.003, close.shape))
    for field in (close, adj, opens):
        field[:300, 0] = np.nan  # listed late
        field[400, 1] = np.nan  # one missing day: keeps its last price
        field[500:, 2] = np.nan  # delisted: marked at its last price
    dates = pd.bdate_range("2015-01-01", periods=n_days).values
    symbols = tuple(f"S{j:02d}" for j in range(n_symbols))
    return Panel(dates, symbols, {"open": opens, "close": close, "adj_close": adj})


def allocation_names() -> list[str]:
    registry = default_registry()
    # the research-layer strategies need bound data (benchmark, earnings); their parity runs
    # in test_parity_research.py, which asserts it covers exactly these names
    bound = {"momentum-composite", "sector-rotation", "etf-factor"}
    return [
        n
        for n in registry.names()
        if issubclass(registry.get(n), AllocationStrategy) and n not in bound
    ]


def assert_same_run(vector: BacktestResult, event: BacktestResult) -> None:
    assert vector.price_field == event.price_field
    np.testing.assert_allclose(event.equity, vector.equity, rtol=RTOL)
    np.testing.assert_allclose(event.cash, vector.cash, rtol=RTOL, atol=1e-6)
    np.testing.assert_allclose(event.weights, vector.weights, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(event.positions, vector.positions, rtol=RTOL, atol=1e-9)
    assert event.rebalance_dates.equals(vector.rebalance_dates)
    assert len(event.fills) == len(vector.fills) > 0
    for column in ("date", "symbol", "side"):
        assert event.fills[column].tolist() == vector.fills[column].tolist(), column
    for column in ("quantity", "price", "commission"):
        np.testing.assert_allclose(event.fills[column], vector.fills[column], rtol=RTOL, atol=1e-9)
    np.testing.assert_allclose(event.costs, vector.costs, rtol=RTOL, atol=1e-9)
    np.testing.assert_allclose(event.turnover, vector.turnover, rtol=RTOL, atol=1e-12)


def test_there_is_at_least_one_allocation_built_in() -> None:
    assert "momentum-12-1" in allocation_names()


COST_MODELS = {
    "s1-fees": CostModel(commission_per_order=0.0, commission_bps=10.0),
    "flat-and-slippage": CostModel(commission_per_order=1.0, commission_bps=5.0, slippage_bps=5),
    "thresholds": CostModel(commission_per_order=1.0, min_trade_weight=0.01, commission_bps=1),
}


@pytest.mark.parametrize("name", allocation_names())
@pytest.mark.parametrize("costs", list(COST_MODELS.values()), ids=list(COST_MODELS))
@pytest.mark.parametrize("timing", list(FillTiming))
def test_allocation_strategies_agree_across_engines(
    name: str, costs: CostModel, timing: FillTiming
) -> None:
    panel = daily_panel()
    strategy = default_registry().create(name)
    assert isinstance(strategy, AllocationStrategy)
    timed = dataclasses.replace(costs, fill_timing=timing)
    vector = run_allocation(panel, strategy, timed, initial_cash=1_000_000.0)
    event = run_events(panel, strategy, timed, 1_000_000.0)
    assert (event.engine, vector.engine) == ("event", "vector")
    assert_same_run(vector, event)


@pytest.mark.parametrize("name", allocation_names())
def test_whole_shares_and_drift_rebalancing_agree_across_engines(name: str) -> None:
    panel = daily_panel(seed=9)
    strategy = default_registry().create(name)
    assert isinstance(strategy, AllocationStrategy)
    costs = CostModel(commission_per_order=1.0, commission_bps=5.0)
    vector = run_allocation(
        panel, strategy, costs, initial_cash=250_000.0, fractional=False, drift_threshold=0.02
    )
    event = run_events(panel, strategy, costs, 250_000.0, fractional=False, drift_threshold=0.02)
    assert_same_run(vector, event)
    held = event.positions.to_numpy()
    np.testing.assert_array_equal(held, np.round(held))


@pytest.mark.parametrize("timing", list(FillTiming))
def test_ma_crossover_vectorised_path_agrees_with_the_event_engine(timing: FillTiming) -> None:
    wide = daily_panel(n_symbols=4, n_days=3_000, seed=4)
    # one symbol with adjusted closes and a missing day, so both price rules are exercised
    fields = {name: values[:, [1]] for name, values in wide.fields.items()}
    panel = Panel(wide.dates, ("S01",), fields)
    strategy = MovingAverageCrossover(fast=10, slow=40)
    costs = CostModel(commission_per_order=1.0, commission_bps=1.0, slippage_bps=2.0)
    vector = run_signal_strategy(panel, strategy, costs, 100_000.0, fill_timing=timing)
    event = run_events(panel, strategy, costs, 100_000.0, fill_timing=timing)
    assert_same_run(vector, event)


STOP_RULES = {
    "fixed": StopLossRule(stop=0.08),
    "trailing-take-profit": StopLossRule(stop=0.10, trailing=True, take_profit=0.15),
    "vix-bands": StopLossRule(bands=((0, 20, 0.05), (20, 30, 0.08), (30, np.inf, 0.12))),
}


def synthetic_vix(n_days: int, seed: int = 1) -> np.ndarray:
    """A VIX-like level (index points) crossing all three bands, unknown at first, with gaps."""
    rng = np.random.default_rng(seed)
    levels: np.ndarray = np.clip(20 * np.exp(np.cumsum(rng.normal(0, 0.06, n_days))), 9, 80)
    levels[:40] = np.nan  # before the series starts: the first band
    levels[200:210] = np.nan  # missing days: the last level carries forward
    return levels


def assert_same_exits(vector: BacktestResult, event: BacktestResult) -> None:
    assert event.fills["reason"].tolist() == vector.fills["reason"].tolist()
    assert (vector.fills["reason"] != "rebalance").sum() > 0, "no stop fired: the case is vacuous"


@pytest.mark.parametrize("rule", list(STOP_RULES.values()), ids=list(STOP_RULES))
@pytest.mark.parametrize("costs", list(COST_MODELS.values()), ids=list(COST_MODELS))
@pytest.mark.parametrize("timing", list(FillTiming))
def test_momentum_with_stop_loss_agrees_across_engines(
    rule: StopLossRule, costs: CostModel, timing: FillTiming
) -> None:
    panel = daily_panel()
    vix = synthetic_vix(len(panel.dates))
    strategy = default_registry().create("momentum-12-1")
    assert isinstance(strategy, AllocationStrategy)
    timed = dataclasses.replace(costs, fill_timing=timing)
    vector = run_allocation(panel, strategy, timed, stop_loss=rule, vix=vix)
    event = run_events(panel, strategy, timed, 1_000_000.0, stop_loss=rule, vix=vix)
    assert_same_run(vector, event)
    assert_same_exits(vector, event)


@pytest.mark.parametrize("rule", list(STOP_RULES.values()), ids=list(STOP_RULES))
def test_stop_loss_with_whole_shares_and_drift_agrees_across_engines(rule: StopLossRule) -> None:
    panel = daily_panel(seed=9)
    vix = synthetic_vix(len(panel.dates), seed=2)
    strategy = default_registry().create("momentum-12-1")
    assert isinstance(strategy, AllocationStrategy)
    costs = CostModel(commission_per_order=1.0, commission_bps=5.0)
    vector = run_allocation(
        panel,
        strategy,
        costs,
        initial_cash=250_000.0,
        fractional=False,
        drift_threshold=0.02,
        stop_loss=rule,
        vix=vix,
    )
    event = run_events(
        panel,
        strategy,
        costs,
        250_000.0,
        fractional=False,
        drift_threshold=0.02,
        stop_loss=rule,
        vix=vix,
    )
    assert_same_run(vector, event)
    assert_same_exits(vector, event)
