"""Drawdowns of a daily simple-returns series: depth, periods and duration.

Conventions follow quantstats 0.0.86: the equity curve starts from 1.0 *before* the first
return, so a loss on the first day is a drawdown; depths are negative fractions
(-0.25 = 25 % below the running peak).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from quantdesk.analytics._series import ReturnsLike, as_dated_returns, as_returns

DRAWDOWN_PERIOD_COLUMNS = ("start", "valley", "end", "recovered", "days", "max_drawdown")


def equity_curve(returns: ReturnsLike) -> pd.Series:
    """Growth of 1.0 invested before the first return (1.25 = +25 %)."""
    series = as_returns(returns)
    # quantstats builds prices as 1 + compsum; using the same float path keeps "back at the
    # peak" (drawdown exactly 0) decided identically, which drawdown periods depend on.
    return 1.0 + (series.add(1.0).cumprod() - 1.0)


def drawdown_series(returns: ReturnsLike) -> pd.Series:
    """Drawdown at each date as a non-positive fraction of the running peak equity.

    The running peak includes the starting equity of 1.0, as in ``qs.stats.to_drawdown_series``.
    """
    equity = equity_curve(returns)
    values = equity.to_numpy()
    peaks = np.maximum.accumulate(np.concatenate(([1.0], values)))[1:]
    drawdown = values / peaks - 1.0
    # -0.0 would print as a drawdown in reports
    drawdown[drawdown == 0.0] = 0.0
    return pd.Series(drawdown, index=equity.index, name="drawdown")


def max_drawdown(returns: ReturnsLike) -> float:
    """Deepest peak-to-trough loss as a negative fraction (0.0 if never under water).

    Matches ``qs.stats.max_drawdown`` on a returns series.
    """
    return float(min(0.0, drawdown_series(returns).min()))


def drawdown_periods(returns: ReturnsLike) -> pd.DataFrame:
    """One row per drawdown period (consecutive dates under water), in date order.

    Columns: ``start`` (first date under water), ``valley`` (date of the deepest point),
    ``end`` (last date under water; the last date of the series if not recovered),
    ``recovered`` (bool), ``days`` (calendar days from start to end, both included, as
    ``qs.stats.drawdown_details``) and ``max_drawdown`` (negative fraction, not percent).
    Needs a DatetimeIndex.
    """
    series = as_dated_returns(returns)
    drawdown = drawdown_series(series)
    values = drawdown.to_numpy()
    underwater = values < 0.0
    edges = np.diff(np.concatenate(([0], underwater.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)  # first position back at the peak (exclusive end)
    if not starts.size:
        empty = pd.DataFrame([], columns=list(DRAWDOWN_PERIOD_COLUMNS))
        return empty.astype({"recovered": bool, "days": "int64", "max_drawdown": float})
    # every period at once (a 22-year run has hundreds; one pandas window each cost ~1 s):
    # the underwater values back to back, one segment per period
    lengths = stops - starts
    first = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    deep = values[underwater]
    depth = np.minimum.reduceat(deep, first)
    period = np.repeat(np.arange(starts.size), lengths)
    # the valley is the first date at the period's minimum, as ``Series.idxmin``
    at_depth = deep == depth[period]
    _, at_minimum = np.unique(period[at_depth], return_index=True)
    valley = np.flatnonzero(underwater)[np.flatnonzero(at_depth)[at_minimum]]
    index = drawdown.index
    spans = pd.TimedeltaIndex(index[stops - 1] - index[starts])
    return pd.DataFrame(
        {
            "start": index[starts],
            "valley": index[valley],
            "end": index[stops - 1],
            "recovered": stops < len(index),
            "days": spans.days.to_numpy(dtype=np.int64) + 1,
            "max_drawdown": depth.astype(np.float64),
        },
        columns=list(DRAWDOWN_PERIOD_COLUMNS),
    )


def max_drawdown_duration(returns: ReturnsLike) -> int:
    """Longest drawdown in calendar days (quantstats' "Longest DD Days"); 0 if none.

    Counts from the first date under water to the last date under water, both included:
    a peak on Monday, losses Tuesday to Thursday and a new high on Friday is 3 days.
    A drawdown still open at the end of the series counts up to its last date.
    """
    periods = drawdown_periods(returns)
    return int(periods["days"].max()) if len(periods) else 0
