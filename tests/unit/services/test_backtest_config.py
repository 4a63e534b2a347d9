"""A run's configuration survives JSON exactly: VIX bands with an infinite top, every cost."""

from __future__ import annotations

import json
from datetime import date

import pytest

from quantdesk.backtest.costs import CostModel, FillTiming
from quantdesk.backtest.stops import MissingVix, StopLossRule
from quantdesk.core.enums import Timeframe
from quantdesk.core.errors import ConfigurationError
from quantdesk.research.universe import parse_universe
from quantdesk.services.backtest_config import RunConfig, config_from_json, config_to_json
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
