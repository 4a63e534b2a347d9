"""A signal strategy runs bar by bar from ``context.history()``: given only its declared warm-up
up front (as on a live feed), it places the same orders as when it precomputes the whole panel."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from quantdesk.backtest.event import run_events
from quantdesk.data.panel import Panel
from quantdesk.strategies.registry import create
from quantdesk.strategies.signals import PrecomputedSignalStrategy
from quantdesk.strategies.warmup import LiveFeed


def _panel(rows: int = 320) -> Panel:
    rng = np.random.default_rng(5)
    dates = pd.bdate_range("2020-01-01", periods=rows).to_numpy(dtype="datetime64[ns]")
    steps = (
        0.02 * rng.standard_normal((rows, 3)) + 0.1 * np.sin(np.arange(rows) / 9.0)[:, None] * 0.1
    )
    close = 50.0 * np.exp(np.cumsum(steps, axis=0))
    close[150:154, 1] = np.nan  # a gap: indicators skip it, the window must widen over it
    close[:40, 2] = np.nan  # listed later
    fields = {
        "open": close * 0.998,
        "high": close * 1.015,
        "low": close * 0.985,
        "close": close,
        "adj_close": close * 0.9,
    }
    return Panel(dates, ("AAA", "BBB", "CCC"), fields)


CASES: list[tuple[str, dict[str, Any]]] = [
    ("ma-crossover", {"fast": 5, "slow": 20}),
    ("rsi", {"period": 10, "lower": 40, "upper": 60}),
    ("support-resistance", {"window": 15}),
    ("ensemble", {"threshold": 0.3}),
    (
        "ensemble",
        {
            "mode": "weighted",
            "threshold": 0.2,
            "members": [
                {"strategy": "rsi", "params": {"period": 8, "lower": 45, "upper": 55}},
                {"strategy": "ma-crossover", "params": {"fast": 3, "slow": 12}},
            ],
        },
    ),
]


def _orders(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    return [
        (pd.Timestamp(r.date), r.symbol, r.side, round(float(r.quantity), 9))
        for r in frame.itertuples()
    ]


@pytest.mark.parametrize(("name", "params"), CASES)
def test_a_strategy_fed_bar_by_bar_places_the_orders_of_the_whole_panel_run(
    name: str, params: dict[str, Any]
) -> None:
    panel = _panel()
    whole = run_events(panel, create(name, **params))
    strategy = create(name, **params)
    assert isinstance(strategy, PrecomputedSignalStrategy)
    warmup = strategy.needs.warmup
    fed = run_events(panel, LiveFeed(strategy, warmup))
    assert strategy._rows == warmup  # init saw the warm-up only
    assert len(whole.orders) > 4
    assert _orders(fed.orders) == _orders(whole.orders)
    np.testing.assert_allclose(fed.equity.to_numpy(), whole.equity.to_numpy(), rtol=1e-12)


def test_the_window_a_bar_reads_is_the_declared_one() -> None:
    crossover = create("ma-crossover", fast=5, slow=20)
    assert isinstance(crossover, PrecomputedSignalStrategy)
    assert crossover.history_bars() == 21
    rsi = create("rsi", period=10)
    assert isinstance(rsi, PrecomputedSignalStrategy)
    assert rsi.history_bars() is None  # Wilder smoothing: the whole history
