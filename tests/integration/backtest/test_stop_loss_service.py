"""Stop-loss exits through the service: fixed and VIX-regime, with the VIX read from the
database, stored with their reason and equal across engines."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quantdesk.backtest import StopLossRule
from quantdesk.core.errors import NotFoundError
from quantdesk.services import Services

CALM_UNTIL = pd.Timestamp("2005-01-01")


def load_vix(services: Services, tmp_path: Path) -> None:
    """A VIX that is calm (12) before 2005 and stressed (40) after, on the sample's dates."""
    dates = pd.DatetimeIndex(services.data.load_panel(["SP500"], ("close",)).dates)
    level = np.where(dates < CALM_UNTIL, 12.0, 40.0)
    path = tmp_path / "vix.csv"
    pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "symbol": "^VIX", "close": level}).to_csv(
        path, index=False
    )
    services.data.import_files([path])


def stop_fills(run) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return run.fills[run.fills["reason"] == "stop_loss"]


def test_vix_regime_stops_fire_only_in_the_tight_band(
    sample_services: Services, tmp_path: Path
) -> None:
    fixed = sample_services.backtest.run(
        "momentum-12-1", stop_loss=StopLossRule(stop=0.05), benchmark="SP500"
    )
    with pytest.raises(NotFoundError, match=r"\^VIX"):
        sample_services.backtest.run(
            "momentum-12-1",
            stop_loss=StopLossRule(bands=((0.0, 20.0, 0.05), (20.0, math.inf, 0.95))),
        )
    load_vix(sample_services, tmp_path)
    regime = sample_services.backtest.run(
        "momentum-12-1",
        stop_loss=StopLossRule(bands=((0.0, 20.0, 0.05), (20.0, math.inf, 0.95))),
        benchmark="SP500",
    )

    fixed_stops, regime_stops = stop_fills(fixed), stop_fills(regime)
    assert len(fixed_stops) > 0
    assert len(regime_stops) > 0
    assert (pd.to_datetime(regime_stops["date"]) < CALM_UNTIL).all()
    assert (pd.to_datetime(fixed_stops["date"]) >= CALM_UNTIL).any()
    assert "^VIX" not in set(regime.fills["symbol"])  # the VIX is data, never traded

    reloaded = sample_services.backtest.get_run(regime.run_id)
    assert reloaded.fills["reason"].tolist() == regime.fills["reason"].tolist()


def test_stop_loss_runs_agree_across_engines(sample_services: Services) -> None:
    rule = StopLossRule(stop=0.07, take_profit=0.5)
    vector = sample_services.backtest.run(
        "momentum-12-1", engine="vector", stop_loss=rule, store=False
    )
    event = sample_services.backtest.run(
        "momentum-12-1", engine="event", stop_loss=rule, store=False
    )
    assert set(vector.fills["reason"]) >= {"rebalance", "stop_loss"}
    assert event.fills["reason"].tolist() == vector.fills["reason"].tolist()
    np.testing.assert_allclose(event.equity.to_numpy(), vector.equity.to_numpy(), rtol=1e-9)


def test_signal_strategies_refuse_a_portfolio_stop_rule(sample_services: Services) -> None:
    from quantdesk.core.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="attaches its exits"):
        sample_services.backtest.run(
            "rsi", universe="AAPL", stop_loss=StopLossRule(stop=0.1), store=False
        )
