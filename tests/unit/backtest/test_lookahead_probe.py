"""The look-ahead probe perturbs every input a strategy receives after the cut: one
deliberately leaky strategy per input (prices, volumes, benchmark, earnings, membership), each
caught, and honest strategies reading the same inputs pass."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from quantdesk.backtest.bias import (
    PROBE_HORIZON,
    CheckStatus,
    probe_allocation,
    probe_signal,
)
from quantdesk.backtest.event import run_events
from quantdesk.data.panel import Panel
from quantdesk.strategies.base import (
    AllocationStrategy,
    SignalStrategy,
    StrategyContext,
    StrategyParams,
)

ROWS, WIDTH = 400, 6


@pytest.fixture
def market() -> tuple[Panel, dict[str, Any]]:
    rng = np.random.default_rng(7)
    dates = pd.bdate_range("2015-01-01", periods=ROWS)
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.015, size=(ROWS, WIDTH)), axis=0))
    volume = rng.integers(10_000, 90_000, size=(ROWS, WIDTH)).astype(float)
    symbols = tuple(f"S{j}" for j in range(WIDTH))
    panel = Panel(
        dates.to_numpy(dtype="datetime64[ns]"), symbols, {"close": close, "volume": volume}
    )
    benchmark = pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, size=ROWS))), index=dates)
    reports = pd.bdate_range("2015-01-01", periods=ROWS)[::63]
    earnings = pd.DataFrame(
        [
            {"symbol": s, "report_date": day, "eps": float(rng.normal(1, 0.3))}
            for day in reports
            for s in symbols
        ]
    )
    membership = rng.random((ROWS, WIDTH)) > 0.3
    return panel, {"benchmark": benchmark, "earnings": earnings, "universe": membership}


class Leaky(AllocationStrategy):
    """Monthly from row 21; ``weigh`` sets the row's weights and may read any input."""

    name: ClassVar[str] = "leaky"

    def __init__(self, params: StrategyParams | None = None, **data: Any) -> None:
        super().__init__(params)
        self.data = data

    def rebalance_mask(self, dates: np.ndarray) -> np.ndarray:
        mask = np.zeros(len(dates), dtype=bool)
        mask[21::21] = True
        mask[-1] = False
        return mask

    def target_weights(self, panel: Panel, rebalance_mask: np.ndarray) -> np.ndarray:
        weights = np.full(panel.shape, np.nan)
        for t in np.flatnonzero(rebalance_mask).tolist():
            values = np.nan_to_num(np.asarray(self.weigh(panel, t), dtype=np.float64))
            weights[t] = np.abs(values) / max(np.abs(values).sum(), 1e-12)
        return weights

    def weigh(self, panel: Panel, t: int) -> np.ndarray:
        raise NotImplementedError


def _eps(self: Leaky, panel: Panel, t: int, ahead: bool) -> np.ndarray:
    """The EPS reported after t (look-ahead) or the last one known at t, per symbol."""
    earnings = self.data["earnings"].sort_values("report_date")
    day = pd.Timestamp(panel.dates[t])
    if ahead:
        known = earnings[earnings["report_date"] > day].groupby("symbol")["eps"].first()
    else:
        known = earnings[earnings["report_date"] <= day].groupby("symbol")["eps"].last()
    return known.reindex(panel.symbols).fillna(0.0).to_numpy()


def _bench(self: Leaky, t: int) -> float:
    return float(self.data["benchmark"].iloc[t])


# Each rule reads one input one day after the decision date (leaky) or at it (honest).
LEAKY = {
    "prices": lambda self, panel, t: panel["close"][t + 1] / panel["close"][t],
    "volumes": lambda self, panel, t: panel["volume"][t + 1],
    "benchmark": lambda self, panel, t: np.r_[_bench(self, t + 1) / _bench(self, t), np.ones(5)],
    "earnings": lambda self, panel, t: _eps(self, panel, t, ahead=True) + 2.0,
    "membership": lambda self, panel, t: self.data["universe"][t + 1] + 0.5,
}
HONEST = {
    "prices": lambda self, panel, t: panel["close"][t] / panel["close"][t - 1],
    "volumes": lambda self, panel, t: panel["volume"][t],
    "benchmark": lambda self, panel, t: np.r_[_bench(self, t) / _bench(self, t - 1), np.ones(5)],
    "earnings": lambda self, panel, t: _eps(self, panel, t, ahead=False) + 2.0,
    "membership": lambda self, panel, t: self.data["universe"][t] + 0.5,
}


def _strategy(rule: Any, data: Mapping[str, Any]) -> Leaky:
    cls = type("Rule", (Leaky,), {"weigh": rule})
    return cls(**data)


@pytest.mark.parametrize("leak", sorted(LEAKY))
def test_a_strategy_reading_any_input_after_the_cut_fails(
    market: tuple[Panel, dict[str, Any]], leak: str
) -> None:
    """Regression: only prices were perturbed, so reading tomorrow's benchmark, earnings or
    membership passed."""
    panel, data = market
    strategy = _strategy(LEAKY[leak], data)
    check = probe_allocation(
        strategy, panel, data=data, rebuild=lambda changed: _strategy(LEAKY[leak], changed)
    )
    assert check.status is CheckStatus.FAIL, (leak, check.detail)
    assert "reads future data" in check.detail
    assert check.data["perturbed_inputs"] == [
        "prices",
        "volumes",
        "benchmark",
        "earnings",
        "membership",
    ]


@pytest.mark.parametrize("honest", sorted(HONEST))
def test_a_strategy_reading_each_input_up_to_the_date_passes(
    market: tuple[Panel, dict[str, Any]], honest: str
) -> None:
    panel, data = market
    check = probe_allocation(
        _strategy(HONEST[honest], data),
        panel,
        data=data,
        rebuild=lambda changed: _strategy(HONEST[honest], changed),
    )
    assert check.status is CheckStatus.PASS, (honest, check.detail)
    assert check.data["rows_rerun_after_cut"] == PROBE_HORIZON  # re-run only near the cut
    assert "benchmark, earnings, membership" in check.detail


class PeekingSignal(SignalStrategy):
    """Buys a symbol the day before its price rises: reads tomorrow in ``init``."""

    name: ClassVar[str] = "peeking-signal"

    def init(self, data: Panel) -> None:
        close = data["close"]
        self.rises = np.zeros(close.shape, dtype=bool)
        self.rises[:-1] = close[1:] > close[:-1]

    def on_bar(self, context: StrategyContext) -> None:
        for k, symbol in enumerate(context.symbols):
            if self.rises[context.index, k] and context.position(symbol) == 0:
                context.order_target_percent(symbol, 0.02)
            elif not self.rises[context.index, k] and context.position(symbol) > 0:
                context.close_position(symbol)


class HonestSignal(PeekingSignal):
    name: ClassVar[str] = "honest-signal"

    def init(self, data: Panel) -> None:
        close = data["close"]
        self.rises = np.zeros(close.shape, dtype=bool)
        self.rises[1:] = close[1:] > close[:-1]


@pytest.mark.parametrize(("cls", "status"), [(PeekingSignal, "fail"), (HonestSignal, "pass")])
def test_signal_probe_samples_symbols_and_still_catches_a_leak(
    cls: type[SignalStrategy], status: str
) -> None:
    rng = np.random.default_rng(3)
    rows, width = 300, 60
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.015, size=(rows, width)), axis=0))
    dates = pd.bdate_range("2016-01-01", periods=rows).to_numpy(dtype="datetime64[ns]")
    panel = Panel(dates, tuple(f"T{j:02d}" for j in range(width)), {"close": close})
    result = run_events(panel, cls(), None, 1_000_000.0)
    calls: list[int] = []

    def run(view: Panel, changed: Mapping[str, Any]) -> Any:
        calls.append(len(view.symbols))
        return run_events(view, cls(), None, 1_000_000.0)

    check = probe_signal(cls(), panel, result.orders, run=run, data={})
    assert check.status == status, check.detail
    assert calls == [24, 24]  # the sample, real and perturbed: not all 60 symbols
    assert check.data["symbols_probed"] == 24
    assert check.data["symbols"] == 60
    if status == "pass":
        assert "probed on 24 of 60 symbols" in check.detail
