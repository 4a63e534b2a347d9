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
import pandas as pd

from quantdesk.core.errors import QuantdeskError
from quantdesk.data.panel import Panel
from quantdesk.strategies.base import AllocationStrategy, StrategyParams

Universe = pd.DataFrame | npt.NDArray[np.bool_]


class StrategyDataError(QuantdeskError, ValueError):
    """Data bound to a strategy does not fit the panel (the message names the input)."""


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


def universe_mask(universe: Universe | None, panel: Panel) -> npt.NDArray[np.bool_]:
    """A boolean array of the panel's shape: membership on each date (all True when None)."""
    if universe is None:
        return np.ones(panel.shape, dtype=bool)
    if isinstance(universe, pd.DataFrame):
        frame = universe.copy()
        frame.index = naive_index(universe.index, "universe")
        aligned = frame.reindex(
            index=pd.DatetimeIndex(panel.dates), columns=list(panel.symbols), fill_value=False
        )
        # only an explicit True is membership; missing cells (NaN) are not
        return np.asarray(aligned.eq(True).to_numpy(dtype=bool))
    mask = np.asarray(universe)
    if mask.dtype != np.bool_ or mask.shape != panel.shape:
        raise StrategyDataError(
            f"universe must be a boolean array of the panel's shape {panel.shape}, "
            f"got dtype {mask.dtype} and shape {mask.shape}"
        )
    return mask


def naive_index(index: pd.Index, name: str) -> pd.DatetimeIndex:
    """``index`` as timezone-naive dates (the panel's), or one error naming ``name``."""
    try:
        dates = pd.DatetimeIndex(index)
    except (TypeError, ValueError) as error:
        raise StrategyDataError(f"{name} must be indexed by date: {error}") from None
    return dates.tz_convert(None) if dates.tz is not None else dates
