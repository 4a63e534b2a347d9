"""Performance analytics: quantstats-compatible metrics, trade statistics, overfitting tests.

Definitions (and every difference from quantstats 0.0.86) are in ``docs/metrics.md``.
"""

from quantdesk.analytics.drawdown import (
    drawdown_periods,
    drawdown_series,
    equity_curve,
    max_drawdown,
    max_drawdown_duration,
)
from quantdesk.analytics.metrics import (
    AlphaBeta,
    alpha_beta,
    best_month,
    cagr,
    calmar_ratio,
    conditional_value_at_risk,
    monthly_returns,
    monthly_returns_table,
    profit_factor,
    rolling_sharpe,
    rolling_volatility,
    sharpe_ratio,
    sortino_ratio,
    total_return,
    value_at_risk,
    volatility,
    win_rate,
    worst_month,
)
from quantdesk.analytics.overfitting import (
    BacktestOverfitting,
    DeflatedSharpeRatio,
    deflated_sharpe_ratio,
    deflated_sharpe_ratio_of_trials,
    expected_maximum_sharpe_ratio,
    probabilistic_sharpe_ratio,
    probability_of_backtest_overfitting,
)
from quantdesk.analytics.summary import MetricsSummary, summary
from quantdesk.analytics.trades import TradeStatistics, trade_statistics

__all__ = [
    "AlphaBeta",
    "BacktestOverfitting",
    "DeflatedSharpeRatio",
    "MetricsSummary",
    "TradeStatistics",
    "alpha_beta",
    "best_month",
    "cagr",
    "calmar_ratio",
    "conditional_value_at_risk",
    "deflated_sharpe_ratio",
    "deflated_sharpe_ratio_of_trials",
    "drawdown_periods",
    "drawdown_series",
    "equity_curve",
    "expected_maximum_sharpe_ratio",
    "max_drawdown",
    "max_drawdown_duration",
    "monthly_returns",
    "monthly_returns_table",
    "probabilistic_sharpe_ratio",
    "probability_of_backtest_overfitting",
    "profit_factor",
    "rolling_sharpe",
    "rolling_volatility",
    "sharpe_ratio",
    "sortino_ratio",
    "summary",
    "total_return",
    "trade_statistics",
    "value_at_risk",
    "volatility",
    "win_rate",
    "worst_month",
]
