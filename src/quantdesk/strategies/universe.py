"""Point-in-time universes for allocation strategies.

A strategy that mixes this in takes ``universe=`` (a dates × symbols boolean array, or a boolean
DataFrame indexed by date) as *data*, like a benchmark: on each decision row only members are
eligible, while every symbol's price history stays visible — a name that joined the index today
is ranked on its full 12-1 history, and one that left is sold.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from quantdesk.data.panel import Panel
from quantdesk.strategies.base import AllocationStrategy, StrategyParams
from quantdesk.strategies.momentum_composite import Universe, universe_mask


class UniverseAware(AllocationStrategy):
    """Base for allocation strategies that honour a point-in-time universe."""

    def __init__(
        self,
        params: StrategyParams | None = None,
        *,
        universe: Universe | None = None,
        **values: Any,
    ) -> None:
        super().__init__(params, **values)
        self.universe = universe

    def members(self, panel: Panel) -> npt.NDArray[np.bool_]:
        """Membership on each date, shape of the panel (all True without a universe)."""
        return universe_mask(self.universe, panel)
