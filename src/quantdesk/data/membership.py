"""Index membership history (point-in-time universes) from the `index-constitution` package.

Membership frame columns: ``index`` (str, e.g. ``"sp500"``), ``symbol`` (str), ``name`` (str),
``start_date`` (``datetime64[ns]``, first day as a member), ``end_date`` (``datetime64[ns]``,
first day no longer a member; ``NaT`` = still a member). A symbol is a member on day ``d``
iff ``start_date <= d < end_date``; a symbol that left and rejoined has one row per spell.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import index_constitution
import numpy as np
import pandas as pd

from quantdesk.core.errors import NotFoundError

MEMBERSHIP_COLUMNS = ("index", "symbol", "name", "start_date", "end_date")
US_INDICES = ("sp500", "nasdaq100", "dow30")


def load_index_membership(indices: Iterable[str] = US_INDICES) -> pd.DataFrame:
    """Membership history of ``indices`` as a membership frame, sorted by index, symbol, start.

    Symbols keep the package's spelling (e.g. ``BRK.B``); map them to your price data's
    convention before joining.
    """
    frames = []
    for index in indices:
        if index not in index_constitution.INDICES:
            raise NotFoundError(
                f"index {index!r} is not in index-constitution; "
                f"available: {', '.join(index_constitution.INDICES)}"
            )
        history = index_constitution.history(index)
        frames.append(
            pd.DataFrame(
                {
                    "index": index,
                    "symbol": history["symbol"].astype(str).str.strip().to_numpy(),
                    "name": history["name"].astype(str).to_numpy(),
                    "start_date": _dates(history["opt-in"]),
                    "end_date": _dates(history["opt-out"]),
                }
            )
        )
    if not frames:
        return empty_membership_frame()
    frame = pd.concat(frames, ignore_index=True)
    return frame.sort_values(["index", "symbol", "start_date"], ignore_index=True)


def empty_membership_frame() -> pd.DataFrame:
    """A membership frame with no rows and the right dtypes."""
    return pd.DataFrame(
        {
            "index": pd.Series(dtype=str),
            "symbol": pd.Series(dtype=str),
            "name": pd.Series(dtype=str),
            "start_date": pd.Series(dtype="datetime64[ns]"),
            "end_date": pd.Series(dtype="datetime64[ns]"),
        }
    )


def members_on(frame: pd.DataFrame, index: str, day: date) -> list[str]:
    """Sorted symbols that were members of ``index`` on ``day``."""
    stamp = pd.Timestamp(day)
    rows = frame[frame["index"] == index]
    inside = (rows["start_date"] <= stamp) & (rows["end_date"].isna() | (stamp < rows["end_date"]))
    return sorted(set(rows.loc[inside, "symbol"]))


def membership_mask(
    frame: pd.DataFrame,
    index: str,
    dates: Sequence[date] | pd.DatetimeIndex,
    symbols: Sequence[str],
) -> np.ndarray:
    """Boolean ``len(dates) × len(symbols)`` array: True where the symbol was in ``index``.

    Member on day ``d`` iff ``start_date <= d < end_date``. ``dates`` may be dates, naive
    timestamps or UTC-aware timestamps (daily bars' ``ts``); only the calendar date counts.
    Symbols never in the index are all False.
    """
    days = _day_numbers(dates)
    column_of = {symbol: column for column, symbol in enumerate(symbols)}
    if len(column_of) != len(symbols):
        repeated = sorted({s for s in symbols if list(symbols).count(s) > 1})
        raise ValueError(f"membership_mask: symbols repeated: {', '.join(repeated)}")
    mask = np.zeros((len(days), len(symbols)), dtype=bool)
    rows = frame[(frame["index"] == index) & frame["symbol"].isin(column_of)]
    if rows.empty or len(days) == 0:
        return mask
    order = np.argsort(days, kind="stable")
    sorted_days = days[order]
    starts = rows["start_date"].to_numpy().astype("datetime64[D]")
    # NaT end = still a member: treat as beyond every date asked about.
    ends = rows["end_date"].to_numpy().astype("datetime64[D]")
    ends = np.where(np.isnat(ends), np.datetime64("9999-12-31"), ends)
    first = np.searchsorted(sorted_days, starts, side="left")
    last = np.searchsorted(sorted_days, ends, side="left")
    columns = rows["symbol"].map(column_of).to_numpy()
    for column, low, high in zip(columns, first, last, strict=True):
        if high > low:
            mask[order[low:high], column] = True
    return mask


def _dates(values: pd.Series) -> np.ndarray:
    return pd.to_datetime(values).dt.normalize().to_numpy().astype("datetime64[ns]")


def _day_numbers(dates: Sequence[date] | pd.DatetimeIndex) -> np.ndarray:
    index = dates if isinstance(dates, pd.DatetimeIndex) else pd.DatetimeIndex(list(dates))
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    return index.to_numpy().astype("datetime64[D]")
