"""Input checks and small array helpers shared by the factor modules."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from quantdesk.factors.errors import FactorInputError

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.intp]
Rows = Sequence[int] | npt.NDArray[np.integer] | None


def as_panel(values: npt.ArrayLike, name: str) -> FloatArray:
    """``values`` as a 2-D float64 array, or a :class:`FactorInputError` naming ``name``."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2:
        raise FactorInputError(
            f"{name} must be a 2-D dates × symbols array, got shape {array.shape}"
        )
    return array


def as_series(values: npt.ArrayLike, name: str, length: int) -> FloatArray:
    """``values`` as a 1-D float64 array of ``length`` (one value per panel date)."""
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (length,):
        raise FactorInputError(f"{name} must have shape ({length},), got {array.shape}")
    return array


def as_mask(values: npt.ArrayLike | None, name: str, shape: tuple[int, ...]) -> BoolArray | None:
    """An optional boolean mask of exactly ``shape``."""
    if values is None:
        return None
    mask = np.asarray(values)
    if mask.dtype != np.bool_:
        raise FactorInputError(f"{name} must be a boolean array, got dtype {mask.dtype}")
    if mask.shape != shape:
        raise FactorInputError(f"{name} must have shape {shape}, got {mask.shape}")
    return mask


def same_shape(reference: FloatArray, other: FloatArray, name: str) -> None:
    if other.shape != reference.shape:
        raise FactorInputError(f"{name} has shape {other.shape}, expected {reference.shape}")


def positive_int(value: int, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise FactorInputError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def as_rows(at: Rows, length: int) -> IntArray:
    """Row indices to evaluate: all rows when ``at`` is None, else validated integer indices."""
    if at is None:
        return np.arange(length, dtype=np.intp)
    rows = np.asarray(at)
    if rows.ndim != 1 or (rows.size and not np.issubdtype(rows.dtype, np.integer)):
        raise FactorInputError(f"at must be a 1-D array of integer row indices, got {rows!r}")
    rows = rows.astype(np.intp)
    if rows.size and (rows.min() < 0 or rows.max() >= length):
        raise FactorInputError(
            f"at has row indices outside [0, {length}): {rows.min()}..{rows.max()}"
        )
    return rows


def lagged(values: FloatArray, rows: IntArray, lag: int) -> FloatArray:
    """``values[rows - lag]`` with NaN where the lagged row falls before the first date."""
    source = rows - lag
    out = np.full((rows.size, values.shape[1]), np.nan)
    inside = source >= 0
    out[inside] = values[source[inside]]
    return out


def simple_returns(close: FloatArray) -> FloatArray:
    """Daily simple returns ``close[t] / close[t-1] - 1``; NaN if either price is missing."""
    out = np.full(close.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[1:] = close[1:] / close[:-1] - 1.0
    out[~np.isfinite(out)] = np.nan
    return out


def running_sum(values: FloatArray) -> FloatArray:
    """``np.cumsum(values, axis=0)`` below a row of zeros (row ``t`` holds the sum of rows
    ``0 .. t-1``), so a window's sum is the difference of two rows.

    The same sequential sums as ``np.cumsum`` (bit for bit), added a row at a time: NumPy's
    cumulative sum down axis 0 walks each column in turn, about three times slower on a wide
    C-ordered panel.
    """
    out = np.empty((values.shape[0] + 1, values.shape[1]))
    out[0] = 0.0
    if values.shape[0]:
        out[1] = values[0]
    for t in range(1, values.shape[0]):
        np.add(out[t], values[t], out=out[t + 1])
    return out
