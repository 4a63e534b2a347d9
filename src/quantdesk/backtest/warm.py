"""Load the engines' numba kernels once, so a process that imports this module trades at full
speed from its first task (process-pool workers are forked from a server that imported it).

Importing runs each kernel on a tiny panel: numba then has the cached machine code loaded and
every dispatcher typed for the array types the engines pass, instead of paying that in each
worker's first task.
"""

from __future__ import annotations

import numpy as np

from quantdesk.backtest.costs import CostModel, FillTiming
from quantdesk.backtest.nb import round_trips_nb
from quantdesk.backtest.signals import run_signals
from quantdesk.backtest.vectorized import run_allocation
from quantdesk.data.panel import Panel


def warm_kernels() -> None:
    """Run the allocation and signal kernels once per fill timing on a 3 × 2 panel."""
    dates = np.array(["2020-01-01", "2020-01-02", "2020-01-03"], dtype="datetime64[ns]")
    close = np.array([[10.0, 20.0], [11.0, np.nan], [12.0, 21.0]])
    panel = Panel(dates, ("A", "B"), {"open": close, "close": close})
    weights = np.array([[0.5, 0.5], [np.nan, np.nan], [1.0, 0.0]])
    signals = np.array([[1, 1], [0, 0], [-1, 1]], dtype=np.int8)
    for timing in FillTiming:
        costs = CostModel(fill_timing=timing)
        run_allocation(panel, weights, costs)
        # plain targets run in NumPy; a drift threshold (like stops) takes the numba kernel
        run_allocation(panel, weights, costs, drift_threshold=0.5)
        run_signals(panel, signals, costs, weight=0.5, strategy="warm", params={})
    # ``round_trip_trades`` walks small fill sets in Python and large ones with this kernel
    one = np.ones(1)
    round_trips_nb(np.zeros(1, dtype=np.int64), one, one, one, np.zeros(1, dtype=np.int64), one)


warm_kernels()
