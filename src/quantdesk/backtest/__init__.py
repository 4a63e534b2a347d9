"""Backtesting: the shared cost model and result type, rebalancing schedules, the engines.

Names load on first use (PEP 562), so importing a light submodule such as
``quantdesk.backtest.costs`` or ``.result`` never pulls the numba engines in.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from quantdesk.backtest.costs import CostModel, FillTiming, Side
    from quantdesk.backtest.rebalance import Frequency, dates_mask, period_end_mask
    from quantdesk.backtest.result import BacktestResult, round_trip_trades
    from quantdesk.backtest.stops import MissingVix, StopLossRule
    from quantdesk.backtest.vectorized import WeightsError, run_allocation

_EXPORTS = {
    "BacktestResult": "result",
    "CostModel": "costs",
    "FillTiming": "costs",
    "Frequency": "rebalance",
    "MissingVix": "stops",
    "Side": "costs",
    "StopLossRule": "stops",
    "WeightsError": "vectorized",
    "dates_mask": "rebalance",
    "period_end_mask": "rebalance",
    "round_trip_trades": "result",
    "run_allocation": "vectorized",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'quantdesk.backtest' has no attribute {name!r}")
    return getattr(importlib.import_module(f"quantdesk.backtest.{module}"), name)


__all__ = [
    "BacktestResult",
    "CostModel",
    "FillTiming",
    "Frequency",
    "MissingVix",
    "Side",
    "StopLossRule",
    "WeightsError",
    "dates_mask",
    "period_end_mask",
    "round_trip_trades",
    "run_allocation",
]
