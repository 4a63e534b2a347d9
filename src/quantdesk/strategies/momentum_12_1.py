"""``momentum-12-1``: hold the top decile by 12-month return skipping the last month.

At each period end ``t`` (default: a month's last trading day; never the final date of the
data) the eligible symbols are those with a price at ``t``, ``t − skip`` and ``t − lookback``
(row offsets in the panel's trading days).  With ``k = max(1, floor(top_fraction × eligible))``
the strategy holds the ``k`` highest ``price[t − skip] / price[t − lookback] − 1`` (ties broken
by symbol, alphabetically) at ``1 / k`` of equity each.  Prices are the panel's valuation field
(adjusted close where present).  A period end with no eligible symbol decides nothing.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
from pydantic import Field, model_validator

from quantdesk.backtest.costs import CostModel
from quantdesk.data.panel import Panel
from quantdesk.factors.schedule import RebalanceFrequency, period_end_mask
from quantdesk.strategies.base import StrategyParams
from quantdesk.strategies.requirements import PRICE, DataRequirements
from quantdesk.strategies.universe import UniverseAware

# guards floor(0.1 × 30) against 2.9999999999999996-style float error
_FLOOR_EPSILON = 1e-9


class Momentum121Params(StrategyParams):
    """Parameters of ``momentum-12-1``; offsets are in trading days (rows)."""

    lookback: int = Field(252, ge=2, description="rows back to the start of the window")
    skip: int = Field(21, ge=0, description="most recent rows left out of the window")
    top_fraction: float = Field(0.10, gt=0, le=1, description="fraction of eligible names held")
    frequency: RebalanceFrequency = RebalanceFrequency.MONTHLY

    @model_validator(mode="after")
    def _skip_inside_window(self) -> Momentum121Params:
        if self.skip >= self.lookback:
            raise ValueError(f"skip ({self.skip}) must be less than lookback ({self.lookback})")
        return self


class Momentum121(UniverseAware):
    """Top-fraction equal-weight 12-1 momentum, rebalanced at period ends."""

    name: ClassVar[str] = "momentum-12-1"
    Params: ClassVar[type[StrategyParams]] = Momentum121Params
    # the rule's own fee: 10 bp of traded notional, no per-order charge
    default_costs: ClassVar[CostModel] = CostModel(commission_per_order=0.0, commission_bps=10.0)
    # valuation prices and the point-in-time membership; warm-up = lookback
    requirements: ClassVar[DataRequirements] = DataRequirements(fields=(PRICE,), membership=True)
    params: Momentum121Params

    def rebalance_mask(self, dates: np.ndarray) -> np.ndarray:
        return period_end_mask(dates, self.params.frequency, include_final=False)

    def target_weights(self, panel: Panel, rebalance_mask: np.ndarray) -> np.ndarray:
        """Weights (fractions) on rebalance rows, NaN elsewhere; row t reads rows ≤ t only."""
        _, prices = panel.prices()
        lookback, skip = self.params.lookback, self.params.skip
        weights = np.full(prices.shape, np.nan)
        # tie-break position of each column when symbols compare alphabetically
        symbol_rank = np.argsort(np.argsort(np.asarray(panel.symbols, dtype=str), kind="stable"))
        members = self.members(panel)
        for t in np.flatnonzero(rebalance_mask):
            if t < lookback:
                continue
            now, recent, start = prices[t], prices[t - skip], prices[t - lookback]
            eligible = np.flatnonzero((now > 0) & (recent > 0) & (start > 0) & members[t])
            if eligible.size == 0:
                continue
            score = recent[eligible] / start[eligible] - 1.0
            k = max(1, math.floor(self.params.top_fraction * eligible.size + _FLOOR_EPSILON))
            best = eligible[np.lexsort((symbol_rank[eligible], -score))[:k]]
            weights[t] = 0.0
            weights[t, best] = 1.0 / k
        return weights
