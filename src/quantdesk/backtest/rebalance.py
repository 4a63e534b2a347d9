"""When to rebalance: calendar schedules and explicit dates, as boolean masks over dates.

Drift-threshold rebalancing needs the simulated holdings, so it lives in the engine
(``run_allocation(..., drift_threshold=x)``); the minimum trade threshold is part of the cost
model (``CostModel.min_trade_value`` / ``min_trade_weight``).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

import numpy as np
import pandas as pd


class Frequency(StrEnum):
    """Calendar rebalancing frequency; the rebalance is the period's last trading day."""

    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


_PERIOD_CODES = {Frequency.WEEKLY: "W", Frequency.MONTHLY: "M", Frequency.QUARTERLY: "Q"}


def period_end_mask(dates: np.ndarray | pd.DatetimeIndex, frequency: Frequency | str) -> np.ndarray:
    """True on the last of ``dates`` in each week / month / quarter.

    A date is a period end when the next date falls in another period, so the final date of
    the data is never one (its period may not be over).  ``dates`` must be sorted; weeks run
    Monday to Sunday.
    """
    try:
        code = _PERIOD_CODES[Frequency(frequency)]
    except ValueError:
        choices = ", ".join(f.value for f in Frequency)
        raise ValueError(f"unknown rebalance frequency {frequency!r} (use {choices})") from None
    index = pd.DatetimeIndex(dates)
    if index.tz is not None:
        index = index.tz_convert(None)
    if len(index) == 0:
        return np.zeros(0, dtype=bool)
    periods = index.to_period(code).asi8
    mask = np.zeros(len(index), dtype=bool)
    mask[:-1] = periods[1:] != periods[:-1]
    return mask


def dates_mask(
    dates: np.ndarray | pd.DatetimeIndex, rebalance_dates: Iterable[object]
) -> np.ndarray:
    """True on each given date, moved forward to the first of ``dates`` on or after it.

    A given date after the last of ``dates`` raises ``ValueError`` naming it.
    """
    index = pd.DatetimeIndex(dates)
    if index.tz is not None:
        index = index.tz_convert(None)
    mask = np.zeros(len(index), dtype=bool)
    for raw in rebalance_dates:
        moment = pd.Timestamp(raw)  # type: ignore[arg-type]
        if moment.tz is not None:
            moment = moment.tz_convert(None)
        row = int(index.searchsorted(moment, side="left"))
        if row >= len(index):
            last = index[-1].date() if len(index) else "none"
            raise ValueError(f"rebalance date {moment.date()} is after the last date ({last})")
        mask[row] = True
    return mask
