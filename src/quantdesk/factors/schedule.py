"""Rebalance-date helpers: pick the panel rows a score needs to be evaluated on.

Every factor and score takes ``at=`` row indices; evaluating only the ~12 month ends of a year
instead of ~252 trading days is what keeps a 20-year scoring run well under a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import pandas as pd

from quantdesk.factors._arrays import IntArray
from quantdesk.factors.errors import FactorInputError

Dates = npt.ArrayLike | pd.DatetimeIndex | Sequence[pd.Timestamp] | Sequence[str]


class RebalanceFrequency(StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


_PERIOD_CODES = {
    RebalanceFrequency.WEEKLY: "W",
    RebalanceFrequency.MONTHLY: "M",
    RebalanceFrequency.QUARTERLY: "Q",
}


def period_end_rows(
    dates: Dates, frequency: RebalanceFrequency | str = RebalanceFrequency.MONTHLY
) -> IntArray:
    """Row index of the last panel date of each calendar week, month or quarter.

    Weeks end on Sunday (pandas ``W``). The final period is included even if the data stops
    before its calendar end: its last available date is the latest decision date there is; drop
    it if only complete periods are wanted.
    """
    index = pd.DatetimeIndex(np.asarray(dates))
    if len(index) > 1 and not index.is_monotonic_increasing:
        raise FactorInputError("dates must be sorted ascending")
    if len(index) == 0:
        return np.empty(0, dtype=np.intp)
    periods = index.tz_localize(None).to_period(_PERIOD_CODES[RebalanceFrequency(frequency)])
    codes = np.asarray(periods.asi8)
    last = np.ones(len(codes), dtype=bool)
    last[:-1] = codes[1:] != codes[:-1]
    return np.flatnonzero(last).astype(np.intp)


def month_end_rows(dates: Dates) -> IntArray:
    """Row index of the last panel date of each calendar month (see :func:`period_end_rows`)."""
    return period_end_rows(dates, RebalanceFrequency.MONTHLY)


def rows_for_dates(dates: Dates, wanted: Dates) -> IntArray:
    """Row indices of ``wanted`` dates in the panel ``dates``; every wanted date must be present."""
    index = pd.DatetimeIndex(np.asarray(dates))
    targets = pd.DatetimeIndex(np.asarray(wanted))
    rows = index.get_indexer(targets)
    if (rows < 0).any():
        missing = targets[rows < 0]
        raise FactorInputError(
            f"{len(missing)} date(s) not in the panel, first {missing[0].date()}"
        )
    return np.asarray(rows, dtype=np.intp)
