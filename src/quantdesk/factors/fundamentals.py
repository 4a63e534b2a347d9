"""Point-in-time earnings panels and the EPS, P/E, value and quality factors built on them.

**Known-date rule (conservative).** An earnings row becomes known on the first panel date
*strictly after* its ``report_date``; only when ``release_time == "pre"`` (released before the
open) is it known *on* ``report_date``. An unknown or missing release time counts as after the
close. Rows reported after the last panel date never show up. Values then carry forward until the
next report, and expire (NaN) once the latest report is older than ``max_age_days`` calendar
days, so a company that stops reporting is not scored on stale earnings.

**Quarters.** A quarter is identified by ``fiscal_period_end`` (its report date when that is
missing); a later row for the same quarter is a restatement and replaces it from its own known
date onwards. Trailing-twelve-month (TTM) EPS is the sum of the four latest known quarters, and
only when they are consecutive: first and last period ends at most 320 days apart (three quarters
are ~273 days), otherwise NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from quantdesk.factors._arrays import (
    FloatArray,
    Rows,
    as_panel,
    as_rows,
    lagged,
    positive_int,
    same_shape,
)
from quantdesk.factors.errors import FactorInputError

_TTM_MAX_SPAN = np.timedelta64(320, "D")
_QUALITY_QUARTERS = 8
_QUALITY_MIN_QUARTERS = 4
_RELEASE_TIMES = {"pre", "post"}


@dataclass(frozen=True)
class EarningsPanels:
    """Dates × symbols panels of what was known about earnings on each date.

    ``latest_eps``: EPS of the most recent fiscal quarter (currency per share).
    ``ttm_eps``: sum of the four latest consecutive quarters (currency per share).
    ``latest_surprise``: reported minus estimated EPS of the latest quarter (currency per share).
    ``beat_rate``: fraction (0-1) of the last 8 known quarters with EPS above the estimate
    (quarters without an estimate skipped; needs 4).
    ``eps_stability``: minus the coefficient of variation of the last 8 quarterly EPS,
    ``-std(ddof=1) / mean(|eps|)`` (needs 4; higher = steadier; a ratio, not percent).
    """

    latest_eps: FloatArray
    ttm_eps: FloatArray
    latest_surprise: FloatArray
    beat_rate: FloatArray
    eps_stability: FloatArray


def _naive_days(values: pd.Series) -> npt.NDArray[np.datetime64]:
    parsed = pd.to_datetime(values, errors="coerce")
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return np.asarray(parsed.dt.normalize().to_numpy(dtype="datetime64[ns]"))


def _validated(earnings: pd.DataFrame) -> pd.DataFrame:
    missing = {"symbol", "report_date", "eps"} - set(earnings.columns)
    if missing:
        raise FactorInputError(f"earnings frame is missing column(s) {sorted(missing)}")
    frame = pd.DataFrame(
        {
            "symbol": earnings["symbol"].astype(object),
            "report_date": _naive_days(earnings["report_date"]),
            "fiscal_period_end": _naive_days(
                earnings.get("fiscal_period_end", pd.Series(pd.NaT, index=earnings.index))
            ),
            "eps": pd.to_numeric(earnings["eps"], errors="coerce").astype(np.float64),
            "eps_estimate": pd.to_numeric(
                earnings.get("eps_estimate", pd.Series(np.nan, index=earnings.index)),
                errors="coerce",
            ).astype(np.float64),
            "release_time": earnings.get("release_time", pd.Series(None, index=earnings.index)),
        }
    )
    bad_date = frame["report_date"].isna()
    if bad_date.any():
        first = int(np.flatnonzero(bad_date.to_numpy())[0])
        raise FactorInputError(
            f"earnings row {first} (symbol {frame['symbol'].iloc[first]!r}) "
            "has no valid report_date"
        )
    release = frame["release_time"]
    unknown = release.notna() & ~release.isin(_RELEASE_TIMES)
    if unknown.any():
        first = int(np.flatnonzero(unknown.to_numpy())[0])
        raise FactorInputError(
            f"earnings row {first} (symbol {frame['symbol'].iloc[first]!r}) has release_time "
            f"{release.iloc[first]!r}; expected 'pre', 'post' or None"
        )
    return frame[frame["eps"].notna()]


@dataclass
class _Quarter:
    key: np.datetime64
    eps: float
    estimate: float


def _state(quarters: list[_Quarter]) -> tuple[float, float, float, float, float]:
    """(latest EPS, TTM EPS, latest surprise, beat rate, stability) from quarters sorted by key."""
    latest = quarters[-1]
    ttm = np.nan
    if len(quarters) >= 4 and quarters[-1].key - quarters[-4].key <= _TTM_MAX_SPAN:
        ttm = float(sum(q.eps for q in quarters[-4:]))
    recent = quarters[-_QUALITY_QUARTERS:]
    estimated = [q for q in recent if np.isfinite(q.estimate)]
    beat = np.nan
    if len(estimated) >= _QUALITY_MIN_QUARTERS:
        beat = sum(q.eps > q.estimate for q in estimated) / len(estimated)
    stability = np.nan
    if len(recent) >= _QUALITY_MIN_QUARTERS:
        values = np.array([q.eps for q in recent])
        scale = float(np.mean(np.abs(values)))
        if scale > 0:
            stability = -float(np.std(values, ddof=1)) / scale
    return latest.eps, ttm, latest.eps - latest.estimate, beat, stability


def _panel_dates(dates: npt.ArrayLike) -> npt.NDArray[np.datetime64]:
    index = pd.DatetimeIndex(np.asarray(dates))
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    panel_dates = np.asarray(index.normalize().values).astype("datetime64[ns]")
    if panel_dates.size > 1 and np.any(np.diff(panel_dates) <= np.timedelta64(0)):
        raise FactorInputError("dates must be strictly increasing")
    return panel_dates


@dataclass(frozen=True)
class _Events:
    """One entry per earnings row: where it becomes known and the state it leaves behind."""

    rows: npt.NDArray[np.intp]
    columns: npt.NDArray[np.intp]
    report_dates: npt.NDArray[np.datetime64]
    values: FloatArray  # (events, 5) in EarningsPanels field order


def _events(
    frame: pd.DataFrame, panel_dates: npt.NDArray[np.datetime64], column_of: dict[str, int]
) -> _Events:
    report = frame["report_date"].to_numpy(dtype="datetime64[ns]")
    pre = (frame["release_time"] == "pre").to_numpy(dtype=bool)
    known_row = np.where(
        pre,
        np.searchsorted(panel_dates, report, side="left"),
        np.searchsorted(panel_dates, report, side="right"),
    )
    frame = frame.assign(known_row=known_row, order=np.arange(len(frame)))
    frame = frame[frame["known_row"] < panel_dates.size]
    # Pre-market releases sort before post-market ones of the same day; ties keep file order.
    frame = frame.assign(is_post=~frame["release_time"].eq("pre"))
    frame = frame.sort_values(["symbol", "report_date", "is_post", "order"], kind="stable")

    symbol_of = frame["symbol"].to_numpy(dtype=object)
    period_end = frame["fiscal_period_end"].to_numpy(dtype="datetime64[ns]")
    report = frame["report_date"].to_numpy(dtype="datetime64[ns]")
    keys = np.where(np.isnat(period_end), report, period_end)
    eps = frame["eps"].to_numpy(dtype=np.float64)
    estimate = frame["eps_estimate"].to_numpy(dtype=np.float64)
    values = np.empty((len(frame), 5))
    quarters: dict[np.datetime64, _Quarter] = {}
    for i in range(len(frame)):
        if i == 0 or symbol_of[i] != symbol_of[i - 1]:
            quarters = {}
        quarters[keys[i]] = _Quarter(keys[i], float(eps[i]), float(estimate[i]))
        values[i] = _state([quarters[k] for k in sorted(quarters)])
    columns = np.array([column_of[str(s)] for s in symbol_of], dtype=np.intp)
    return _Events(frame["known_row"].to_numpy(dtype=np.intp), columns, report, values)


def align_earnings(
    earnings: pd.DataFrame,
    dates: npt.ArrayLike,
    symbols: tuple[str, ...] | list[str],
    max_age_days: int = 200,
) -> EarningsPanels:
    """Point-in-time earnings panels on ``dates`` × ``symbols`` (see the module docstring rules).

    ``earnings`` follows the earnings-frame contract of :mod:`quantdesk.data.ports` (``symbol``,
    ``report_date`` and ``eps`` are required; ``fiscal_period_end``, ``release_time`` and
    ``eps_estimate`` are used when present). Rows without EPS are ignored; symbols not in
    ``symbols`` are ignored.
    """
    panel_dates = _panel_dates(dates)
    max_age_days = positive_int(max_age_days, "max_age_days")
    frame = _validated(earnings)
    column_of = {symbol: j for j, symbol in enumerate(symbols)}
    events = _events(frame[frame["symbol"].isin(column_of)], panel_dates, column_of)
    shape = (panel_dates.size, len(symbols))
    if events.rows.size == 0:
        return EarningsPanels(*(np.full(shape, np.nan) for _ in range(5)))

    # Event ids grow with time inside each column, so a running maximum down the rows picks the
    # latest event known at each date.
    latest_event = np.full(shape, -1, dtype=np.intp)
    np.maximum.at(latest_event, (events.rows, events.columns), np.arange(events.rows.size))
    latest_event = np.maximum.accumulate(latest_event, axis=0)
    has_event = latest_event >= 0
    event = np.where(has_event, latest_event, 0)
    age = panel_dates[:, None] - events.report_dates[event]
    fresh = has_event & (age <= np.timedelta64(max_age_days, "D"))
    panels = [np.where(fresh, events.values[event, k], np.nan) for k in range(5)]
    return EarningsPanels(*panels)


def eps_momentum(ttm_eps: npt.ArrayLike, lookback: int = 252, *, at: Rows = None) -> FloatArray:
    """Change in TTM EPS over ``lookback`` rows, scaled by the old level's magnitude (a fraction).

    ``(ttm[t] - ttm[t-lookback]) / |ttm[t-lookback]|``, with both TTM values as known on their
    dates. Dividing by the absolute value keeps the sign meaningful when earnings were negative
    (a loss shrinking from -2 to -1 is +0.5). NaN when either is missing or the old TTM is 0.
    """
    ttm = as_panel(ttm_eps, "ttm_eps")
    lookback = positive_int(lookback, "lookback")
    rows = as_rows(at, ttm.shape[0])
    old = lagged(ttm, rows, lookback)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (ttm[rows] - old) / np.abs(old)
    out[~np.isfinite(out)] = np.nan
    return out


def pe_ratio(close: npt.ArrayLike, ttm_eps: npt.ArrayLike, *, at: Rows = None) -> FloatArray:
    """Price / TTM EPS (a multiple); NaN where TTM EPS <= 0 (P/E is undefined for losses)."""
    prices = as_panel(close, "close")
    ttm = as_panel(ttm_eps, "ttm_eps")
    same_shape(prices, ttm, "ttm_eps")
    rows = as_rows(at, prices.shape[0])
    earnings = ttm[rows]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(earnings > 0, prices[rows] / earnings, np.nan)
    out[~np.isfinite(out)] = np.nan
    return out


def pe_momentum(
    close: npt.ArrayLike, ttm_eps: npt.ArrayLike, lookback: int = 63, *, at: Rows = None
) -> FloatArray:
    """Relative change in P/E over ``lookback`` rows: ``pe[t] / pe[t-lookback] - 1`` (a fraction).

    Positive when the market pays a rising multiple for the company's earnings (re-rating up),
    which the momentum design scores as positive momentum. NaN when either P/E is undefined.
    """
    lookback = positive_int(lookback, "lookback")
    prices = as_panel(close, "close")
    rows = as_rows(at, prices.shape[0])
    now = pe_ratio(prices, ttm_eps, at=rows)
    source = rows - lookback
    before = np.full(now.shape, np.nan)
    inside = source >= 0
    before[inside] = pe_ratio(prices, ttm_eps, at=source[inside])
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = now / before - 1.0
    out[~np.isfinite(out)] = np.nan
    return out


def earnings_yield(close: npt.ArrayLike, ttm_eps: npt.ArrayLike, *, at: Rows = None) -> FloatArray:
    """Value factor: TTM EPS / price (a fraction; negative for loss makers, unlike P/E)."""
    prices = as_panel(close, "close")
    ttm = as_panel(ttm_eps, "ttm_eps")
    same_shape(prices, ttm, "ttm_eps")
    rows = as_rows(at, prices.shape[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        out = ttm[rows] / prices[rows]
    out[~np.isfinite(out)] = np.nan
    return out
