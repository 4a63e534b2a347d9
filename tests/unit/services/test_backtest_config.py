"""A run's configuration survives JSON exactly: VIX bands with an infinite top, every cost."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from quantdesk.backtest.costs import CostModel, FillTiming
from quantdesk.backtest.stops import MissingVix, StopLossRule
from quantdesk.core.enums import Timeframe
from quantdesk.core.errors import ConfigurationError
from quantdesk.data.panel import Panel
from quantdesk.research.universe import parse_universe
from quantdesk.services.backtest_config import (
    RunConfig,
    SnapshotMemo,
    config_from_json,
    config_to_json,
    data_snapshot,
)
from quantdesk.services.backtest_run import RunRequest


def test_configuration_round_trips_through_json_exactly() -> None:
    request = RunRequest(
        strategy="momentum-12-1",
        start=date(2005, 1, 3),
        end=None,
        universe=parse_universe("index:sp500"),
        benchmark="none",
        engine="event",
        costs=CostModel(
            commission_per_order=0.1,
            commission_per_share=0.005,
            commission_bps=1.5,
            slippage_bps=2.25,
            min_trade_value=100.0,
            min_trade_weight=0.001,
            fill_timing=FillTiming.NEXT_OPEN,
        ),
        initial_cash=123_456.78,
        stop_loss=StopLossRule(
            bands=((0.0, 20.0, 0.08), (20.0, float("inf"), 0.12)),
            take_profit=0.3,
            trailing=True,
            before_vix=MissingVix.NO_STOP,
        ),
        timeframe=Timeframe.D1,
    )
    config = RunConfig(request, {"lookback": 200, "frequency": "quarterly"}, 7, "abc", "0.1.0")
    document = json.loads(json.dumps(config_to_json(config), allow_nan=False))
    assert config_from_json(document, "r1") == config


def test_a_run_without_a_stored_configuration_says_it_cannot_be_rerun() -> None:
    with pytest.raises(ConfigurationError, match="run r1 was stored without its configuration"):
        config_from_json({}, "r1")


def test_the_data_snapshot_of_a_panel_is_the_one_stored_runs_carry() -> None:
    """The snapshot hashes the arrays' buffers directly now (no copy per field); a stored run's
    snapshot must still equal a fresh run's on the same data, whatever the arrays' layout."""
    dates = pd.bdate_range("2020-01-01", periods=4).to_numpy(dtype="datetime64[ns]")
    close = np.array([[1.0, 2.0], [1.5, np.nan], [2.0, 2.5], [2.5, 3.0]])
    panel = Panel(dates, ("A", "B"), {"close": close, "open": np.asfortranarray(close * 0.5)})
    benchmark = np.array([10.0, 11.0, 12.0, 13.0])
    # the value computed with the former tobytes() copies (main at 5215585)
    assert data_snapshot(panel, benchmark) == "32edfcf77559a5396854b27e"
    assert data_snapshot(panel) != data_snapshot(panel, benchmark)


def test_a_memoised_snapshot_equals_the_fresh_one_and_follows_new_arrays() -> None:
    """A warm server hashes a cached panel once; the memo must never return another panel's
    snapshot: equal content in new arrays hashes equal, changed content hashes differently."""
    dates = pd.bdate_range("2020-01-01", periods=4).to_numpy(dtype="datetime64[ns]")
    close = np.array([[1.0, 2.0], [1.5, np.nan], [2.0, 2.5], [2.5, 3.0]])
    panel = Panel(dates, ("A", "B"), {"close": close, "open": np.asfortranarray(close * 0.5)})
    benchmark = np.array([10.0, 11.0, 12.0, 13.0])
    memo = SnapshotMemo(size=1)
    expected = "32edfcf77559a5396854b27e"
    assert data_snapshot(panel, benchmark, memo) == expected
    assert data_snapshot(panel, benchmark, memo) == expected  # from the memo
    assert data_snapshot(panel, None, memo) == data_snapshot(panel)
    changed = close.copy()
    changed[0, 0] = 1.25
    other = Panel(dates, ("A", "B"), {"close": changed, "open": panel["open"]})
    assert data_snapshot(other, benchmark, memo) == data_snapshot(other, benchmark)
    assert data_snapshot(other, benchmark, memo) != expected
    renamed = Panel(dates, ("A", "C"), dict(panel.fields))  # same arrays, other symbols
    assert data_snapshot(renamed, benchmark, memo) == data_snapshot(renamed, benchmark)
    assert data_snapshot(panel, benchmark, memo) == expected
