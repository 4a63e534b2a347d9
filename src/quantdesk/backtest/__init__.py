"""Backtesting: the shared cost model and result type, rebalancing schedules, the engines.

Names load on first use (PEP 562), so importing a light submodule such as
``quantdesk.backtest.costs`` or ``.result`` never pulls the numba engines in.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from quantdesk.backtest.costs import CostModel, FillTiming, Side
    from quantdesk.backtest.result import BacktestResult, round_trip_trades
    from quantdesk.backtest.stops import MissingVix, StopLossRule
    from quantdesk.backtest.vectorized import WeightsError, run_allocation
    from quantdesk.factors.schedule import RebalanceFrequency, dates_mask, period_end_mask

_EXPORTS = {
    "BacktestResult": "quantdesk.backtest.result",
    "CostModel": "quantdesk.backtest.costs",
    "FillTiming": "quantdesk.backtest.costs",
    "MissingVix": "quantdesk.backtest.stops",
    "RebalanceFrequency": "quantdesk.factors.schedule",
    "Side": "quantdesk.backtest.costs",
    "StopLossRule": "quantdesk.backtest.stops",
    "WeightsError": "quantdesk.backtest.vectorized",
    "dates_mask": "quantdesk.factors.schedule",
    "period_end_mask": "quantdesk.factors.schedule",
    "round_trip_trades": "quantdesk.backtest.result",
    "run_allocation": "quantdesk.backtest.vectorized",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'quantdesk.backtest' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "BacktestResult",
    "CostModel",
    "FillTiming",
    "MissingVix",
    "RebalanceFrequency",
    "Side",
    "StopLossRule",
    "WeightsError",
    "dates_mask",
    "period_end_mask",
    "round_trip_trades",
    "run_allocation",
]
