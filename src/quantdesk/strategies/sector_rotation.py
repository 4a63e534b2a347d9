"""``sector-rotation``: hold the strongest sector ETFs by 12-1 momentum, equal weight.

At each period end ``t`` (default: a month's last trading day; never the final date of the
data) the momentum of each symbol is ``price[t − skip] / price[t − lookback] − 1`` (row offsets
in the panel's trading days; 12-1 with the defaults, as in the live-track-record design and
:func:`quantdesk.factors.sector_rotation_signal`). Eligible symbols have that momentum and a
price at ``t``; the ``top_n`` strongest get ``1 / top_n`` of equity each. When fewer than
``top_n`` are eligible the empty slots stay in cash rather than concentrating into the few
(the signal's rule). Ties go to the earlier panel column (alphabetical for panels built by
:meth:`~quantdesk.data.Panel.from_frames`). Prices are the panel's valuation field (adjusted
close where present). A period end with no eligible symbol decides nothing.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field, model_validator

from quantdesk.data.panel import Panel
from quantdesk.factors import rank, window_return
from quantdesk.factors.schedule import RebalanceFrequency, period_end_mask
from quantdesk.strategies.base import StrategyParams
from quantdesk.strategies.momentum_composite import StrategyDataError
from quantdesk.strategies.requirements import PRICE, DataRequirements
from quantdesk.strategies.universe import UniverseAware


class SectorRotationParams(StrategyParams):
    """Parameters of ``sector-rotation``; offsets in trading days (rows).

    ``symbols`` restricts the strategy to those panel columns (e.g. the sector ETFs of a panel
    that also holds the benchmark); ``None`` uses every column.
    """

    top_n: int = Field(3, ge=1, description="ETFs held, each at 1 / top_n of equity")
    lookback: int = Field(252, ge=2, description="rows back to the start of the window")
    skip: int = Field(21, ge=0, description="most recent rows left out of the window")
    frequency: RebalanceFrequency = RebalanceFrequency.MONTHLY
    symbols: tuple[str, ...] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _skip_inside_window(self) -> SectorRotationParams:
        if self.skip >= self.lookback:
            raise ValueError(f"skip ({self.skip}) must be less than lookback ({self.lookback})")
        return self


def symbol_columns(panel: Panel, symbols: tuple[str, ...] | None) -> np.ndarray:
    """Boolean per panel column: True for the columns named in ``symbols`` (all when None)."""
    if symbols is None:
        return np.ones(len(panel.symbols), dtype=bool)
    missing = sorted(set(symbols) - set(panel.symbols))
    if missing:
        raise StrategyDataError(f"symbols {missing} are not columns of the panel")
    return np.isin(np.asarray(panel.symbols, dtype=object), np.asarray(symbols, dtype=object))


class SectorRotation(UniverseAware):
    """Top-N equal-weight 12-1 sector momentum, rebalanced at period ends."""

    name: ClassVar[str] = "sector-rotation"
    Params: ClassVar[type[StrategyParams]] = SectorRotationParams
    default_universe: ClassVar[str] = "etf"  # rotates between ETFs, not single stocks
    # valuation prices and the point-in-time membership; warm-up = lookback
    requirements: ClassVar[DataRequirements] = DataRequirements(fields=(PRICE,), membership=True)
    params: SectorRotationParams

    def rebalance_mask(self, dates: np.ndarray) -> np.ndarray:
        return period_end_mask(dates, self.params.frequency, include_final=False)

    def target_weights(self, panel: Panel, rebalance_mask: np.ndarray) -> np.ndarray:
        """Weights (fractions) on rebalance rows, NaN elsewhere; row t reads rows ≤ t only."""
        _, prices = panel.prices()
        weights = np.full(panel.shape, np.nan)
        rows = np.flatnonzero(rebalance_mask)
        if rows.size == 0:
            return weights
        columns = symbol_columns(panel, self.params.symbols)
        momentum = window_return(prices, self.params.lookback, self.params.skip, at=rows)
        eligible = np.isfinite(momentum) & (prices[rows] > 0) & columns & self.members(panel)[rows]
        order = rank(np.where(eligible, momentum, np.nan), ascending=False)
        chosen = order <= self.params.top_n
        decided = eligible.any(axis=1)
        weights[rows[decided]] = np.where(chosen[decided], 1.0 / self.params.top_n, 0.0)
        return weights


__all__ = ["SectorRotation", "SectorRotationParams", "symbol_columns"]
