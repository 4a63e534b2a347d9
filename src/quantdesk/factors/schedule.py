"""The one rebalance schedule: which panel dates are decision dates.

Research (scores, signals) and backtests (strategies' rebalance masks) both pick the last
trading date of each calendar week, month or quarter. They differ only in the final period of
the data, and that difference is an explicit flag here, never a second rule:

* ``include_final=True`` — the data's last date is a decision date even if its period is not
  over: it is the latest date a score or signal can be computed for (research, live signals);
* ``include_final=False`` — a date is a period end only when the next date falls in another
  period, so the final date of the data never is one: a backtest cannot know that the period
  has ended (nothing after it is read), and a trade there could never be held.

Every factor and score takes ``at=`` row indices; evaluating only the ~12 month ends of a year
instead of ~252 trading days is what keeps a 20-year scoring run well under a second.
Drift-threshold rebalancing needs the simulated holdings, so it lives in the engine
(``run_allocation(..., drift_threshold=x)``); the minimum trade threshold is part of the cost
model (``CostModel.min_trade_value`` / ``min_trade_weight``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import pandas as pd

from quantdesk.factors._arrays import IntArray
from quantdesk.factors.errors import FactorInputError

Dates = npt.ArrayLike | pd.DatetimeIndex | Sequence[pd.Timestamp] | Sequence[str]


class RebalanceFrequency(StrEnum):
    """Calendar rebalancing frequency; the decision date is the period's last trading day.
    Weeks run Monday to Sunday (pandas ``W``)."""

    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


_PERIOD_CODES = {
    RebalanceFrequency.WEEKLY: "W",
    RebalanceFrequency.MONTHLY: "M",
    RebalanceFrequency.QUARTERLY: "Q",
}


def _naive_index(dates: Dates) -> pd.DatetimeIndex:
    index = pd.DatetimeIndex(np.asarray(dates) if not isinstance(dates, pd.Index) else dates)
    if index.tz is not None:
        index = index.tz_convert(None)
    return index


def _frequency(frequency: RebalanceFrequency | str) -> RebalanceFrequency:
    try:
        return RebalanceFrequency(frequency)
    except ValueError:
        choices = ", ".join(f.value for f in RebalanceFrequency)
        raise FactorInputError(
            f"unknown rebalance frequency {frequency!r} (use {choices})"
        ) from None


def period_end_mask(
    dates: Dates, frequency: RebalanceFrequency | str, *, include_final: bool
) -> npt.NDArray[np.bool_]:
    """True on the last of ``dates`` in each week / month / quarter.

    ``include_final``: whether the data's last date counts as the end of its (possibly
    unfinished) period — see the module docstring. ``dates`` must be sorted ascending.
    """
    code = _PERIOD_CODES[_frequency(frequency)]
    index = _naive_index(dates)
    if len(index) > 1 and not index.is_monotonic_increasing:
        raise FactorInputError("dates must be sorted ascending")
    mask = np.zeros(len(index), dtype=bool)
    if len(index) == 0:
        return mask
    periods = np.asarray(index.to_period(code).asi8)
    mask[:-1] = periods[1:] != periods[:-1]
    mask[-1] = include_final
    return mask


def period_end_rows(
    dates: Dates, frequency: RebalanceFrequency | str, *, include_final: bool
) -> IntArray:
    """Row indices where :func:`period_end_mask` is True."""
    mask = period_end_mask(dates, frequency, include_final=include_final)
    return np.flatnonzero(mask).astype(np.intp)


def month_end_rows(dates: Dates, *, include_final: bool) -> IntArray:
    """Row index of the last panel date of each calendar month (see :func:`period_end_rows`)."""
    return period_end_rows(dates, RebalanceFrequency.MONTHLY, include_final=include_final)


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


def dates_mask(dates: Dates, rebalance_dates: Iterable[object]) -> npt.NDArray[np.bool_]:
    """True on each given date, moved forward to the first of ``dates`` on or after it.

    A given date after the last of ``dates`` raises :class:`FactorInputError` naming it.
    """
    index = _naive_index(dates)
    mask = np.zeros(len(index), dtype=bool)
    for raw in rebalance_dates:
        moment = pd.Timestamp(raw)  # type: ignore[arg-type]
        if moment.tz is not None:
            moment = moment.tz_convert(None)
        row = int(index.searchsorted(moment, side="left"))
        if row >= len(index):
            last = index[-1].date() if len(index) else "none"
            raise FactorInputError(
                f"rebalance date {moment.date()} is after the last date ({last})"
            )
        mask[row] = True
    return mask
