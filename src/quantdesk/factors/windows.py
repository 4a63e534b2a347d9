"""Trailing-window statistics evaluated only at requested rows, in NumPy.

Evaluating at requested rows (for example month ends) instead of every date is what makes scoring
240 rebalance dates over 20 years cheap; passing every row gives the full rolling series.
Windows cover rows ``t - window + 1 .. t`` inclusive; NaN entries are skipped and the result is
NaN when fewer than ``min_periods`` valid entries remain (and always when none does).

Why NumPy and not a numba kernel: a score run evaluates a few hundred rows, so the loops below
take ``window`` whole-array steps each; loading numba and a cached kernel cost every ``scores
--compute`` process about 0.6 s (issue 11), several times this arithmetic. Each sum runs in the
order of a scalar loop over the window: one step per window offset, oldest row first, starting
from 0.0, a missing entry skipped (or adding 0.0, which leaves a sum that started at 0.0
unchanged), so every result is bit for bit the one a plain sequential loop gives
(``tests/unit/factors/test_factors_windows.py``). Nothing relies on the order of a NumPy
reduction, which is pairwise along a contiguous axis.
"""

from __future__ import annotations

import numpy as np

from quantdesk.factors._arrays import BoolArray, FloatArray, IntArray


class _Window:
    """The ``window`` rows ending at each requested row, one offset at a time.

    The panel is padded with ``window - 1`` missing rows on top, so every offset of every
    requested row is an index into it; requested rows in one ascending run are read as slices
    (views), others by gathering.
    """

    def __init__(self, values: FloatArray, rows: IntArray, window: int, fill: float) -> None:
        self.rows = rows
        self.window = window
        self.valid: BoolArray = np.zeros(
            (values.shape[0] + window - 1, values.shape[1]), dtype=np.bool_
        )
        np.logical_not(np.isnan(values), out=self.valid[window - 1 :])
        # missing entries (and the padding) hold ``fill``
        self.filled: FloatArray = np.full(self.valid.shape, fill)
        np.copyto(self.filled[window - 1 :], values, where=self.valid[window - 1 :])
        self._contiguous = rows.size > 0 and bool(np.all(np.diff(rows) == 1))

    def _index(self, offset: int) -> slice | IntArray:
        """Rows ``t - window + 1 + offset`` of the padded arrays, for every requested row t."""
        if self._contiguous:
            first = int(self.rows[0]) + offset
            return slice(first, first + self.rows.size)
        return self.rows + offset

    def values_and_valid(self, offset: int) -> tuple[FloatArray, BoolArray]:
        index = self._index(offset)
        return self.filled[index], self.valid[index]


def _mean(steps: _Window, min_periods: int) -> tuple[FloatArray, IntArray]:
    """The mean of each window (NaN with fewer than ``min_periods`` valid entries or none) and
    its count of valid entries."""
    total = np.zeros((steps.rows.size, steps.filled.shape[1]))
    count = np.zeros(total.shape, dtype=np.intp)
    for offset in range(steps.window):
        filled, valid = steps.values_and_valid(offset)
        total += filled  # 0.0 for a missing entry
        count += valid
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = total / count
    mean[count < max(min_periods, 1)] = np.nan
    return mean, count


def rolling_mean_at(
    values: FloatArray, rows: IntArray, window: int, min_periods: int
) -> FloatArray:
    """Trailing mean at ``rows``."""
    mean, _ = _mean(_Window(values, rows, window, 0.0), min_periods)
    return mean


def rolling_mean_std_at(
    values: FloatArray, rows: IntArray, window: int, min_periods: int, ddof: int
) -> tuple[FloatArray, FloatArray]:
    """Trailing mean and standard deviation (two-pass, so no cancellation error) at ``rows``.

    The standard deviation divides by ``count - ddof`` (``ddof=1``: the sample one) and is NaN
    where that is not positive or the mean is NaN.
    """
    steps = _Window(values, rows, window, 0.0)
    mean, count = _mean(steps, min_periods)
    squares = np.zeros_like(mean)
    deviation = np.empty_like(mean)
    for offset in range(window):
        filled, valid = steps.values_and_valid(offset)
        np.subtract(filled, mean, out=deviation)
        np.multiply(deviation, deviation, out=deviation)
        np.add(squares, deviation, out=squares, where=valid)
    with np.errstate(divide="ignore", invalid="ignore"):
        std = np.sqrt(squares / (count - ddof))
    std[np.isnan(mean) | (count - ddof <= 0)] = np.nan
    return mean, std


def rolling_max_at(values: FloatArray, rows: IntArray, window: int, min_periods: int) -> FloatArray:
    """Trailing maximum over the valid entries at ``rows``."""
    steps = _Window(values, rows, window, -np.inf)
    best = np.full((rows.size, values.shape[1]), -np.inf)
    count = np.zeros(best.shape, dtype=np.intp)
    for offset in range(window):
        filled, valid = steps.values_and_valid(offset)
        # a scalar max keeps the earlier of equal values (0.0 before -0.0); -inf if missing
        np.copyto(best, filled, where=filled > best)
        count += valid
    best[count < max(min_periods, 1)] = np.nan
    return best
