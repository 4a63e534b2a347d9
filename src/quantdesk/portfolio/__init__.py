"""Portfolio construction (select → weigh → constrain), sizing, drift and rebalance trade lists.

Weights everywhere are fractions of portfolio value (0.1 = 10 %), long-only, summing to at
most 1 with the rest in cash. Money in trade lists is ``decimal.Decimal``.
"""

from quantdesk.portfolio.constraints import apply_caps, cap_weights, cash_buffer, sector_caps
from quantdesk.portfolio.construct import (
    ConstructionConfig,
    SelectionMethod,
    WeightingMethod,
    construct,
)
from quantdesk.portfolio.errors import (
    DegenerateInputError,
    MissingPriceError,
    OptimizationError,
    PortfolioInputError,
)
from quantdesk.portfolio.rebalance import (
    RebalancePlan,
    Trade,
    TradeSide,
    current_weights,
    drift,
    needs_rebalance,
    portfolio_value,
    rebalance_trades,
)
from quantdesk.portfolio.report import format_trade_list
from quantdesk.portfolio.select import rank_order, top_fraction, top_n
from quantdesk.portfolio.sizing import (
    continuous_kelly_fraction,
    fixed_fraction_shares,
    kelly_fraction,
)
from quantdesk.portfolio.weigh import (
    MeanVarianceObjective,
    equal_weight,
    hierarchical_risk_parity,
    inverse_volatility,
    mean_variance,
    rank_weight,
)

__all__ = [
    "ConstructionConfig",
    "DegenerateInputError",
    "MeanVarianceObjective",
    "MissingPriceError",
    "OptimizationError",
    "PortfolioInputError",
    "RebalancePlan",
    "SelectionMethod",
    "Trade",
    "TradeSide",
    "WeightingMethod",
    "apply_caps",
    "cap_weights",
    "cash_buffer",
    "construct",
    "continuous_kelly_fraction",
    "current_weights",
    "drift",
    "equal_weight",
    "fixed_fraction_shares",
    "format_trade_list",
    "hierarchical_risk_parity",
    "inverse_volatility",
    "kelly_fraction",
    "mean_variance",
    "needs_rebalance",
    "portfolio_value",
    "rank_order",
    "rank_weight",
    "rebalance_trades",
    "sector_caps",
    "top_fraction",
    "top_n",
]
