"""Cross-sectional transforms and filters, one date (row) at a time, in zipline Pipeline spirit.

Every transform treats each row independently and ignores NaN. ``universe`` is an optional
boolean dates × symbols mask (point-in-time membership): entries outside it come back NaN (False
for filters) and never influence the ranks, quantiles or moments of the members of that row.
``groups`` is an optional length-N array of labels (for example sectors); when given, the transform
runs separately inside each group, and symbols whose label is missing (None / NaN / "") get NaN.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pandas as pd

from quantdesk.factors._arrays import (
    BoolArray,
    FloatArray,
    as_mask,
    as_panel,
    positive_int,
    same_shape,
)
from quantdesk.factors.errors import FactorInputError
from quantdesk.factors.momentum import rolling_mean

Transform = Callable[[FloatArray], FloatArray]


def _prepare(values: npt.ArrayLike, universe: npt.ArrayLike | None, name: str) -> FloatArray:
    array = as_panel(values, name)
    mask = as_mask(universe, "universe", array.shape)
    keep = np.isfinite(array) if mask is None else mask & np.isfinite(array)
    return np.where(keep, array, np.nan)


def group_codes(groups: npt.ArrayLike, width: int) -> npt.NDArray[np.intp]:
    """Integer codes for ``groups`` (-1 for a missing label), in order of first appearance."""
    labels = pd.Series(np.asarray(groups, dtype=object)).replace("", None)
    if len(labels) != width:
        raise FactorInputError(
            f"groups has {len(labels)} labels, expected one per symbol ({width})"
        )
    codes, _ = pd.factorize(labels, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.intp)


def _by_group(transform: Transform, values: FloatArray, groups: npt.ArrayLike | None) -> FloatArray:
    if groups is None:
        return transform(values)
    codes = group_codes(groups, values.shape[1])
    out = np.full(values.shape, np.nan)
    for code in range(codes.max(initial=-1) + 1):
        columns = np.flatnonzero(codes == code)
        out[:, columns] = transform(values[:, columns])
    return out


def _ordinal_rank(values: FloatArray, ascending: bool) -> FloatArray:
    # A stable sort keeps column order among equal values, which is the documented tie rule;
    # NaN sorts last in numpy, so it never takes a member's place.
    keys = values if ascending else -values
    order = np.argsort(keys, axis=1, kind="stable")
    ranks = np.empty(values.shape)
    positions = np.broadcast_to(np.arange(1, values.shape[1] + 1, dtype=np.float64), values.shape)
    np.put_along_axis(ranks, order, positions, axis=1)
    ranks[np.isnan(values)] = np.nan
    return ranks


def rank(
    values: npt.ArrayLike,
    ascending: bool = True,
    *,
    universe: npt.ArrayLike | None = None,
    groups: npt.ArrayLike | None = None,
) -> FloatArray:
    """Ordinal rank 1..n of the valid entries of each row (float; NaN where missing).

    ``ascending=True`` gives rank 1 to the smallest value, ``False`` to the largest. Ties are
    broken deterministically by symbol (column) order: the earlier column gets the smaller rank
    number in both directions, so reruns and tied scores never reshuffle.
    """
    array = _prepare(values, universe, "values")
    return _by_group(lambda x: _ordinal_rank(x, ascending), array, groups)


def _average_rank_fraction(values: FloatArray) -> FloatArray:
    order = np.argsort(values, axis=1, kind="stable")
    ordered = np.take_along_axis(values, order, axis=1)
    width = values.shape[1]
    position = np.broadcast_to(np.arange(width), values.shape)
    starts_group = np.ones(values.shape, dtype=bool)
    starts_group[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    ends_group = np.ones(values.shape, dtype=bool)
    ends_group[:, :-1] = starts_group[:, 1:]
    start = np.maximum.accumulate(np.where(starts_group, position, 0), axis=1)
    end = np.minimum.accumulate(np.where(ends_group, position, width - 1)[:, ::-1], axis=1)[:, ::-1]
    average = (start + end) / 2.0 + 1.0
    out = np.empty(values.shape)
    np.put_along_axis(out, order, average, axis=1)
    counts = np.isfinite(values).sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction: FloatArray = out / counts
    fraction[np.isnan(values)] = np.nan
    return fraction


def percentile(
    values: npt.ArrayLike,
    *,
    universe: npt.ArrayLike | None = None,
    groups: npt.ArrayLike | None = None,
) -> FloatArray:
    """Percentile rank in (0, 1]: average rank / number of valid entries in the row.

    Tied values share their average rank (so identical scores get identical percentiles), the
    same as ``pandas.DataFrame.rank(axis=1, pct=True)``. The largest value gets 1.0.
    """
    array = _prepare(values, universe, "values")
    return _by_group(_average_rank_fraction, array, groups)


def _row_mean(values: FloatArray) -> FloatArray:
    # By hand rather than np.nanmean: empty rows are expected here and must not warn.
    valid = ~np.isnan(values)
    counts = valid.sum(axis=1, keepdims=True)
    total = np.where(valid, values, 0.0).sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(total / counts)


def _zscore(values: FloatArray) -> FloatArray:
    centred = values - _row_mean(values)
    std = np.sqrt(_row_mean(centred * centred))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(std > 0, centred / std, 0.0)
    out[np.isnan(values)] = np.nan
    return out


def zscore(
    values: npt.ArrayLike,
    *,
    universe: npt.ArrayLike | None = None,
    groups: npt.ArrayLike | None = None,
) -> FloatArray:
    """(value - row mean) / row standard deviation over valid entries (population std, ddof=0).

    The population deviation follows zipline's ``zscore``. A row whose valid values are all
    equal (or a single valid value) gets 0.0 rather than NaN: the scores carry no information
    but the symbols stay scored.
    """
    array = _prepare(values, universe, "values")
    return _by_group(_zscore, array, groups)


def _demean(values: FloatArray) -> FloatArray:
    return values - _row_mean(values)


def demean(
    values: npt.ArrayLike,
    *,
    universe: npt.ArrayLike | None = None,
    groups: npt.ArrayLike | None = None,
) -> FloatArray:
    """Value minus its row mean (within its group when ``groups`` is given), same units as input."""
    array = _prepare(values, universe, "values")
    return _by_group(_demean, array, groups)


def _row_quantiles(values: FloatArray, q: float) -> FloatArray:
    # numpy's "linear" method by hand: nanquantile along rows loops in Python over rows.
    ordered = np.sort(values, axis=1)
    counts = np.isfinite(values).sum(axis=1)
    position = np.maximum(counts - 1, 0) * q
    below = np.floor(position).astype(np.intp)
    above = np.minimum(below + 1, np.maximum(counts - 1, 0))
    low = np.take_along_axis(ordered, below[:, None], axis=1)[:, 0]
    high = np.take_along_axis(ordered, above[:, None], axis=1)[:, 0]
    out: FloatArray = low + (high - low) * (position - below)
    out[counts == 0] = np.nan
    return out


def winsorize(
    values: npt.ArrayLike,
    lower: float = 0.01,
    upper: float = 0.99,
    *,
    universe: npt.ArrayLike | None = None,
    groups: npt.ArrayLike | None = None,
) -> FloatArray:
    """Clip each row to its ``lower`` and ``upper`` quantiles (fractions 0-1, linear interpolation).

    Quantiles are computed over the valid entries of the row (members only), same as
    ``Series.quantile`` then ``Series.clip``.
    """
    if not 0.0 <= lower < upper <= 1.0:
        raise FactorInputError(f"winsorize needs 0 <= lower < upper <= 1, got ({lower}, {upper})")
    array = _prepare(values, universe, "values")

    def clip(x: FloatArray) -> FloatArray:
        low = _row_quantiles(x, lower)[:, None]
        high = _row_quantiles(x, upper)[:, None]
        return np.clip(x, low, high)

    return _by_group(clip, array, groups)


def top(
    values: npt.ArrayLike,
    n: int,
    *,
    universe: npt.ArrayLike | None = None,
    groups: npt.ArrayLike | None = None,
) -> BoolArray:
    """True for the ``n`` largest valid entries of each row (per group when ``groups`` is given).

    Ties at the cut-off go to the earlier column (see :func:`rank`).
    """
    n = positive_int(n, "n")
    ranks = rank(values, ascending=False, universe=universe, groups=groups)
    return np.asarray(ranks <= n)


def bottom(
    values: npt.ArrayLike,
    n: int,
    *,
    universe: npt.ArrayLike | None = None,
    groups: npt.ArrayLike | None = None,
) -> BoolArray:
    """True for the ``n`` smallest valid entries of each row (ties to the earlier column)."""
    n = positive_int(n, "n")
    ranks = rank(values, ascending=True, universe=universe, groups=groups)
    return np.asarray(ranks <= n)


def min_history(close: npt.ArrayLike, days: int) -> BoolArray:
    """True where the symbol has at least ``days`` valid prices up to and including t."""
    days = positive_int(days, "days")
    prices = as_panel(close, "close")
    return np.asarray(np.cumsum(np.isfinite(prices), axis=0) >= days)


def min_price(close: npt.ArrayLike, price: float) -> BoolArray:
    """True where the price at t is valid and at least ``price`` (same currency units)."""
    prices = as_panel(close, "close")
    with np.errstate(invalid="ignore"):
        return np.asarray(np.isfinite(prices) & (prices >= price))


def min_dollar_volume(
    close: npt.ArrayLike, volume: npt.ArrayLike, amount: float, window: int = 20
) -> BoolArray:
    """True where the mean of close × volume over the ``window`` days ending at t is >= ``amount``.

    Every day of the window must be valid (currency units per day).
    """
    prices = as_panel(close, "close")
    shares = as_panel(volume, "volume")
    same_shape(prices, shares, "volume")
    traded = rolling_mean(prices * shares, window)
    with np.errstate(invalid="ignore"):
        return np.asarray(np.isfinite(traded) & (traded >= amount))
