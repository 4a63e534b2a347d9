"""Pure helpers between the factor library's arrays and stored score rows.

Everything here is numpy/pandas in, numpy/pandas out: no database, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np
import numpy.typing as npt
import pandas as pd

from quantdesk.data.panel import Panel
from quantdesk.research.errors import ResearchInputError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

SCORE_COLUMNS = ("date", "symbol", "score", "rank", "sector_rank")


def valuation_prices(panel: Panel) -> FloatArray:
    """Adjusted close per symbol, falling back to ``close`` for symbols with no adjusted close.

    The fallback is per column (a whole symbol), never per cell, so one price history is never a
    mix of adjusted and unadjusted values.
    """
    close = np.asarray(panel["close"], dtype=np.float64)
    adjusted = panel.fields.get("adj_close")
    if adjusted is None:
        return close
    adjusted = np.asarray(adjusted, dtype=np.float64)
    has_adjusted = np.isfinite(adjusted).any(axis=0)
    return np.where(has_adjusted[None, :], adjusted, close)


def with_valuation_prices(panel: Panel) -> Panel:
    """The panel with ``adj_close`` set to :func:`valuation_prices` (what ``prices()`` returns)."""
    fields = dict(panel.fields)
    fields["adj_close"] = valuation_prices(panel)
    return Panel(panel.dates, panel.symbols, fields)


def day_index(dates: npt.ArrayLike) -> pd.DatetimeIndex:
    """Panel dates (naive UTC ``datetime64``) as a normalised, naive DatetimeIndex."""
    index = pd.DatetimeIndex(np.asarray(dates))
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    return index.normalize()


def as_of_rows(panel_dates: npt.ArrayLike, wanted: Sequence[date]) -> IntArray:
    """For each wanted date, the last panel row on or before it (unique, ascending).

    A date before the first panel date is an error naming it.
    """
    index = day_index(panel_dates)
    if len(index) == 0:
        raise ResearchInputError("no price data to score")
    targets = pd.DatetimeIndex([pd.Timestamp(d) for d in wanted])
    rows = np.searchsorted(index.values, targets.values, side="right") - 1
    early = rows < 0
    if early.any():
        first = targets[np.flatnonzero(early)[0]].date()
        raise ResearchInputError(f"date {first} is before the first price date {index[0].date()}")
    return np.unique(rows).astype(np.intp)


def equal_weight_benchmark(prices: FloatArray, universe: npt.ArrayLike | None = None) -> FloatArray:
    """An equal-weight index of ``prices`` (starts at 1): the mean daily simple return of the
    symbols with a return on each date (members only when ``universe`` is given), compounded.

    Dates with no return leave the index unchanged. Uses data up to each date only.
    """
    returns = np.full(prices.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        returns[1:] = prices[1:] / prices[:-1] - 1.0
    returns[~np.isfinite(returns)] = np.nan
    if universe is not None:
        returns = np.where(np.asarray(universe, dtype=bool), returns, np.nan)
    valid = ~np.isnan(returns)
    counts = valid.sum(axis=1)
    total = np.where(valid, returns, 0.0).sum(axis=1)
    mean = np.divide(total, counts, out=np.zeros(len(total)), where=counts > 0)
    index: FloatArray = np.cumprod(1.0 + mean)
    return index


def last_valid(values: FloatArray, row: int) -> FloatArray:
    """Per column, the last finite value at or before ``row`` (NaN if none)."""
    window = values[: row + 1]
    finite = np.isfinite(window)
    has = finite.any(axis=0)
    last = window.shape[0] - 1 - np.argmax(finite[::-1], axis=0)
    out = np.full(values.shape[1], np.nan)
    columns = np.flatnonzero(has)
    out[columns] = window[last[columns], columns]
    return out


def score_frame(
    dates: npt.ArrayLike,
    symbols: Sequence[str],
    score: FloatArray,
    rank: FloatArray,
    sector_rank: FloatArray | None,
    components: Mapping[str, FloatArray],
    raw: Mapping[str, FloatArray],
    coverage: FloatArray | None = None,
) -> pd.DataFrame:
    """Long frame of the scored cells (finite score only), one row per date × symbol.

    Columns: :data:`SCORE_COLUMNS`, ``weight_coverage`` (the share of the composite's weight
    behind the score, a fraction; NaN when not measured), then ``<name>`` (normalised) and
    ``<name>_raw`` per component, NaN for a missing value — whole columns, so storing 100 k
    scores never builds a document per row.
    """
    days = np.asarray([d.date() for d in day_index(dates)], dtype=object)
    rows, columns = np.nonzero(np.isfinite(score))
    missing = np.full(rows.size, np.nan)
    sector = None if sector_rank is None else sector_rank[rows, columns]
    frame = pd.DataFrame(
        {
            "date": days[rows],
            "symbol": np.asarray(symbols, dtype=object)[columns],
            "score": score[rows, columns],
            "rank": rank[rows, columns].astype(np.int64),
            "sector_rank": (
                pd.array([None] * rows.size, dtype="Int64")
                if sector is None
                else pd.arrays.IntegerArray(
                    np.nan_to_num(sector).astype(np.int64), np.isnan(sector)
                )
            ),
            "weight_coverage": (
                np.full(rows.size, np.nan) if coverage is None else coverage[rows, columns]
            ),
        }
    )
    extra = {}
    for name in components:
        extra[name] = components[name][rows, columns]
        extra[f"{name}_raw"] = raw[name][rows, columns] if name in raw else missing
    return pd.concat([frame, pd.DataFrame(extra, index=frame.index)], axis=1)


def component_coverage(raw: Mapping[str, FloatArray]) -> dict[str, int]:
    """How many symbols (columns) have at least one finite raw value, per component."""
    return {name: int(np.isfinite(values).any(axis=0).sum()) for name, values in raw.items()}


def flatten_components(frame: pd.DataFrame) -> pd.DataFrame:
    """Stored rows with their ``components`` JSON spread into ``<name>`` (normalised) and
    ``<name>_raw`` columns, in first-seen component order; the JSON column is dropped."""
    if "components" not in frame:
        return frame
    documents = [value if isinstance(value, Mapping) else {} for value in frame["components"]]
    names: list[str] = []
    for document in documents:
        names.extend(name for name in document if name not in names)
    extra: dict[str, list[float]] = {}
    for name in names:
        extra[name] = [_part(document, name, "value") for document in documents]
        extra[f"{name}_raw"] = [_part(document, name, "raw") for document in documents]
    base = frame.drop(columns=["components"])
    return pd.concat([base, pd.DataFrame(extra, index=frame.index, dtype="float64")], axis=1)


def _part(document: Mapping[str, object], name: str, key: str) -> float:
    entry = document.get(name)
    if not isinstance(entry, Mapping):
        return float("nan")
    number = entry.get(key)
    return float(number) if isinstance(number, int | float) else float("nan")
