"""Backtesting: the shared cost model and result type, rebalancing schedules, the engines."""

from quantdesk.backtest.costs import CostModel, FillTiming, Side
from quantdesk.backtest.result import BacktestResult, round_trip_trades
from quantdesk.backtest.stops import MissingVix, StopLossRule
from quantdesk.backtest.vectorized import WeightsError, run_allocation
from quantdesk.factors.schedule import RebalanceFrequency, dates_mask, period_end_mask

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
