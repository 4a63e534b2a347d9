"""Data quality report for a bars frame: what is wrong, how often, and where.

Every check is vectorised over the whole frame (one sort, then numpy), so millions of bars take
seconds. Errors (``ok`` turns False) are the hard rules of :mod:`quantdesk.data.rules` — the
same rules the importer refuses rows by: NaN, non-positive or out-of-bounds prices, bad volumes,
high < low, open/close outside [low, high], dates outside the accepted range, duplicate bars.
Warnings are things a human should look at but real data often has: gaps against the exchange
calendar, bars on non-session days, large one-day jumps (and likely unadjusted splits), stale
symbols (behind the newest data in the database, not the wall clock).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.core.errors import DataValidationError, InvalidRequestError, Problem
from quantdesk.data import rules
from quantdesk.data.calendar import TradingCalendar
from quantdesk.data.ports import BAR_COLUMNS
from quantdesk.data.rules import SPLIT_RATIO_TOLERANCE, SPLIT_RATIOS

__all__ = ["SPLIT_RATIOS", "SPLIT_RATIO_TOLERANCE", "check_quality", "check_quality_columns"]

PRICE_FIELDS = ("open", "high", "low", "close")


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class IssueKind(StrEnum):
    MISSING_PRICE = "missing_price"
    NON_POSITIVE_PRICE = "non_positive_price"
    PRICE_OUT_OF_BOUNDS = "price_out_of_bounds"
    NEGATIVE_VOLUME = "negative_volume"
    HIGH_BELOW_LOW = "high_below_low"
    OUTSIDE_HIGH_LOW = "outside_high_low"
    DUPLICATE_BAR = "duplicate_bar"
    DATE_OUT_OF_RANGE = "date_out_of_range"
    OFF_CALENDAR_BAR = "off_calendar_bar"
    MISSING_SESSION = "missing_session"
    PRICE_JUMP = "price_jump"
    UNADJUSTED_SPLIT = "unadjusted_split"
    STALE_SYMBOL = "stale_symbol"

    @property
    def severity(self) -> Severity:
        return Severity.ERROR if self in _ERRORS else Severity.WARNING


_ERRORS = frozenset(
    {
        IssueKind.MISSING_PRICE,
        IssueKind.NON_POSITIVE_PRICE,
        IssueKind.PRICE_OUT_OF_BOUNDS,
        IssueKind.NEGATIVE_VOLUME,
        IssueKind.HIGH_BELOW_LOW,
        IssueKind.OUTSIDE_HIGH_LOW,
        IssueKind.DUPLICATE_BAR,
        IssueKind.DATE_OUT_OF_RANGE,
    }
)
_CALENDAR_KINDS = (IssueKind.OFF_CALENDAR_BAR, IssueKind.MISSING_SESSION)


@dataclass(frozen=True, slots=True)
class QualityExample:
    """One finding: which bar (or symbol) and which value."""

    symbol: str
    ts: datetime | None
    field: str | None
    value: float | None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "ts": self.ts.isoformat() if self.ts is not None else None,
            "field": self.field,
            "value": _json_float(self.value),
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class QualityIssue:
    """All findings of one kind: ``count`` of them over ``symbols`` distinct symbols.

    ``count`` counts bad values (cells) for per-field checks, bars for per-bar checks, missing
    sessions for :attr:`IssueKind.MISSING_SESSION` and symbols for
    :attr:`IssueKind.STALE_SYMBOL`.
    """

    kind: IssueKind
    count: int
    symbols: int
    examples: tuple[QualityExample, ...] = ()

    @property
    def severity(self) -> Severity:
        return self.kind.severity

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity.value,
            "count": self.count,
            "symbols": self.symbols,
            "examples": [example.to_dict() for example in self.examples],
        }


@dataclass(frozen=True)
class QualityReport:
    """The result of :func:`check_quality`."""

    source: str
    as_of: date
    calendar: str | None
    symbols: int
    bars: int
    first_date: date | None
    last_date: date | None
    issues: tuple[QualityIssue, ...]
    missing_sessions_by_symbol: Mapping[str, int] = field(default_factory=dict)
    stale_symbols: Mapping[str, date] = field(default_factory=dict)
    #: the session staleness is measured against: the newest bar in the data, capped at as_of
    reference_date: date | None = None

    def issue(self, kind: IssueKind) -> QualityIssue:
        """The issue of ``kind``; a zero-count issue if that check found nothing or was skipped."""
        for issue in self.issues:
            if issue.kind == kind:
                return issue
        return QualityIssue(kind, 0, 0)

    @property
    def ok(self) -> bool:
        """True when no error-severity issue was found (warnings do not count)."""
        return self.error_count == 0

    @property
    def error_count(self) -> int:
        return sum(i.count for i in self.issues if i.severity is Severity.ERROR)

    @property
    def warning_count(self) -> int:
        return sum(i.count for i in self.issues if i.severity is Severity.WARNING)

    @property
    def skipped_checks(self) -> tuple[IssueKind, ...]:
        checked = {issue.kind for issue in self.issues}
        return tuple(kind for kind in IssueKind if kind not in checked)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (dates as ISO strings, NaN as null)."""
        return {
            "source": self.source,
            "as_of": self.as_of.isoformat(),
            "calendar": self.calendar,
            "ok": self.ok,
            "summary": {
                "symbols": self.symbols,
                "bars": self.bars,
                "first_date": _iso(self.first_date),
                "last_date": _iso(self.last_date),
                "errors": self.error_count,
                "warnings": self.warning_count,
            },
            "issues": {issue.kind.value: issue.to_dict() for issue in self.issues},
            "skipped_checks": [kind.value for kind in self.skipped_checks],
            "missing_sessions_by_symbol": dict(self.missing_sessions_by_symbol),
            "stale_symbols": {s: d.isoformat() for s, d in self.stale_symbols.items()},
            "reference_date": _iso(self.reference_date),
        }


def check_quality(
    bars: pd.DataFrame,
    calendar: TradingCalendar | None,
    as_of: date,
    *,
    stale_after_days: int = 5,
    jump_threshold: float = 0.4,
    max_examples: int = 10,
    source: str = "bars",
) -> QualityReport:
    """Check a bars frame (see :mod:`quantdesk.data.ports`) and report every problem found.

    ``calendar`` enables the gap and off-calendar checks (skipped when ``None``; staleness then
    counts weekdays). Staleness is relative to the data, not the wall clock: the reference is
    the newest bar of any symbol (capped at ``as_of``), and a symbol is stale when more than
    ``stale_after_days`` sessions lie after its last bar up to that reference — so a historical
    database is not "stale" as a whole, but a symbol that stopped early is. A one-bar close
    move is a jump when ``|close / previous close - 1| > jump_threshold`` (a fraction: 0.4 =
    40 %); it is a likely unadjusted split when the price ratio is within 6 % of a common split
    ratio (2, 3, 1/2, 10, …) and ``adj_close`` is missing or did not jump. Dates outside the
    rulebook's range (before 1885 or after ``as_of`` + 1 session) are errors and are left out
    of the calendar checks. ``source`` names the input in errors.
    """
    _check_options(stale_after_days, jump_threshold)
    return _check(
        _Bars.from_frame(bars, source),
        calendar,
        as_of,
        stale_after_days,
        jump_threshold,
        max_examples,
        source,
    )


def check_quality_columns(
    names: Sequence[str],
    codes: np.ndarray,
    ts: np.ndarray,
    values: Mapping[str, np.ndarray],
    calendar: TradingCalendar | None,
    as_of: date,
    *,
    stale_after_days: int = 5,
    jump_threshold: float = 0.4,
    max_examples: int = 10,
    source: str = "bars",
) -> QualityReport:
    """:func:`check_quality` of bars that are already columns, as the database hands them over:
    bar k belongs to ``names[codes[k]]`` (``names`` sorted), ``ts`` is Unix seconds (UTC) and
    ``values`` holds float arrays for open, high, low, close, volume and adj_close. No frame is
    built and no symbol string is looked at per bar; the report is the one
    :func:`check_quality` gives for the same bars as a frame."""
    _check_options(stale_after_days, jump_threshold)
    return _check(
        _Bars.from_columns(names, codes, ts, values),
        calendar,
        as_of,
        stale_after_days,
        jump_threshold,
        max_examples,
        source,
    )


def _check_options(stale_after_days: int, jump_threshold: float) -> None:
    if stale_after_days < 0:
        raise InvalidRequestError(
            f"stale_after_days (--stale-after) must be >= 0, got {stale_after_days}"
        )
    if not (jump_threshold > 0 and math.isfinite(jump_threshold)):
        raise InvalidRequestError(
            "jump_threshold (--jump) must be a positive fraction (0.4 = 40 %), "
            f"got {jump_threshold}"
        )


def _check(
    frame: _Bars,
    calendar: TradingCalendar | None,
    as_of: date,
    stale_after_days: int,
    jump_threshold: float,
    max_examples: int,
    source: str,
) -> QualityReport:
    builder = _IssueBuilder(frame, max_examples)
    far = rules.date_out_of_range(frame.days, as_of)
    issues = [
        *_value_issues(frame, builder),
        _duplicate_issue(frame, builder),
        _date_issue(frame, far, builder),
    ]
    kept = frame.without(builder.duplicates | far)
    missing: dict[str, int] = {}
    sessions: pd.DatetimeIndex | None = None
    reference = _reference_day(kept, as_of)
    if calendar is not None and kept.size:
        sessions = calendar.sessions(kept.days.min().astype(date), reference.astype(date))
        off, gaps, missing = _calendar_issues(kept, sessions, builder)
        issues += [off, gaps]
    issues += _jump_issues(kept, jump_threshold, builder)
    stale_issue, stale = _stale_issue(kept, sessions, reference, stale_after_days, builder)
    issues.append(stale_issue)
    order = list(IssueKind)
    issues.sort(key=lambda issue: order.index(issue.kind))
    return QualityReport(
        source=source,
        as_of=as_of,
        calendar=calendar.name if calendar is not None else None,
        symbols=len(frame.names),
        bars=frame.size,
        first_date=frame.days.min().astype(date) if frame.size else None,
        last_date=frame.days.max().astype(date) if frame.size else None,
        issues=tuple(issues),
        missing_sessions_by_symbol=missing,
        stale_symbols=stale,
        reference_date=reference.astype(date) if kept.size else None,
    )


def _reference_day(frame: _Bars, as_of: date) -> np.datetime64:
    """The newest bar's day of any symbol, capped at ``as_of`` (the staleness reference)."""
    end = np.datetime64(as_of, "D")
    return min(frame.days.max(), end) if frame.size else end


def _date_issue(frame: _Bars, far: np.ndarray, builder: _IssueBuilder) -> QualityIssue:
    rows = np.flatnonzero(far)
    examples = tuple(
        _example(frame, int(row), "date", math.nan, "outside the accepted date range")
        for row in rows[: builder.max_examples]
    )
    return QualityIssue(
        IssueKind.DATE_OUT_OF_RANGE, len(rows), _distinct(frame.codes[rows]), examples
    )


@dataclass(frozen=True)
class _Bars:
    """The frame as sorted numpy arrays (by symbol, then time)."""

    names: np.ndarray  # symbol name per code
    codes: np.ndarray
    ts: np.ndarray  # datetime64[ns], UTC
    days: np.ndarray  # datetime64[D]
    values: Mapping[str, np.ndarray]

    @property
    def size(self) -> int:
        return len(self.codes)

    @classmethod
    def from_frame(cls, bars: pd.DataFrame, source: str) -> _Bars:
        missing = [column for column in BAR_COLUMNS if column not in bars.columns]
        if missing:
            raise DataValidationError(
                [Problem(source, None, None, column, "column is missing") for column in missing]
            )
        if bars["symbol"].isna().any():
            at = int(np.flatnonzero(bars["symbol"].isna().to_numpy())[0])
            raise DataValidationError(
                [Problem(source, None, None, "symbol", f"symbol is empty at position {at}")]
            )
        ts = bars["ts"]
        if not isinstance(ts.dtype, pd.DatetimeTZDtype):
            raise DataValidationError(
                [Problem(source, None, None, "ts", f"must be timezone-aware UTC, got {ts.dtype}")]
            )
        stamps = ts.dt.tz_convert(None).to_numpy().astype("datetime64[ns]")
        if np.isnat(stamps).any():
            at = int(np.flatnonzero(np.isnat(stamps))[0])
            symbol = str(bars["symbol"].iloc[at])
            raise DataValidationError(
                [Problem(source, None, symbol, "ts", f"timestamp is missing at position {at}")]
            )
        codes, names = pd.factorize(bars["symbol"], sort=True)
        values = {name: _floats(bars, name, source) for name in (*PRICE_FIELDS, "volume")}
        values["adj_close"] = _floats(bars, "adj_close", source)
        return cls._sorted(np.asarray(names, dtype=object), codes, stamps, values)

    @classmethod
    def from_columns(
        cls,
        names: Sequence[str],
        codes: np.ndarray,
        ts: np.ndarray,
        values: Mapping[str, np.ndarray],
    ) -> _Bars:
        stamps = np.asarray(ts, dtype=np.int64).astype("datetime64[s]").astype("datetime64[ns]")
        floats = {
            name: np.asarray(values[name], dtype=np.float64)
            for name in (*PRICE_FIELDS, "volume", "adj_close")
        }
        return cls._sorted(np.asarray(names, dtype=object), codes, stamps, floats)

    @classmethod
    def _sorted(
        cls, names: np.ndarray, codes: np.ndarray, stamps: np.ndarray, values: dict[str, np.ndarray]
    ) -> _Bars:
        sorted_already = len(codes) < 2 or bool(
            np.all(
                (codes[1:] > codes[:-1]) | ((codes[1:] == codes[:-1]) & (stamps[1:] >= stamps[:-1]))
            )
        )  # the database hands bars over sorted: skip the 2.4 M-row lexsort
        order = slice(None) if sorted_already else np.lexsort((stamps, codes))
        return cls(
            names=names,
            codes=codes[order],
            ts=stamps[order],
            days=stamps[order].astype("datetime64[D]"),
            values={name: column[order] for name, column in values.items()},
        )

    def without(self, drop: np.ndarray) -> _Bars:
        if not drop.any():  # the usual case: no copy of millions of bars
            return self
        keep = ~drop
        return _Bars(
            names=self.names,
            codes=self.codes[keep],
            ts=self.ts[keep],
            days=self.days[keep],
            values={name: column[keep] for name, column in self.values.items()},
        )


class _IssueBuilder:
    """Turns boolean masks over the sorted bars into :class:`QualityIssue` values."""

    def __init__(self, frame: _Bars, max_examples: int) -> None:
        self.frame = frame
        self.max_examples = max_examples
        self.duplicates = np.zeros(frame.size, dtype=bool)

    def from_cells(self, kind: IssueKind, masks: Mapping[str, np.ndarray]) -> QualityIssue:
        frame = self.frame
        count = sum(int(np.count_nonzero(mask)) for mask in masks.values())
        if not count:  # the usual case: nothing to locate
            return QualityIssue(kind, 0, 0)
        any_bad = np.zeros(frame.size, dtype=bool)
        for mask in masks.values():
            any_bad |= mask
        found: list[tuple[int, str]] = []
        for name, mask in masks.items():
            found += [(int(row), name) for row in np.flatnonzero(mask)[: self.max_examples]]
        found.sort()
        examples = tuple(
            _example(frame, row, name, frame.values[name][row])
            for row, name in found[: self.max_examples]
        )
        return QualityIssue(kind, count, _distinct(frame.codes[any_bad]), examples)


def _value_issues(frame: _Bars, builder: _IssueBuilder) -> list[QualityIssue]:
    values = frame.values
    high, low = values["high"], values["low"]
    # open/close outside [low, high] only makes sense when the range itself is sane.
    outside = {name: rules.outside_high_low(values[name], high, low) for name in ("open", "close")}
    inverted = builder.from_cells(
        IssueKind.HIGH_BELOW_LOW, {"high": rules.high_below_low(high, low)}
    )
    inverted = QualityIssue(
        inverted.kind,
        inverted.count,
        inverted.symbols,
        tuple(
            QualityExample(e.symbol, e.ts, e.field, e.value, "high is below low")
            for e in inverted.examples
        ),
    )
    non_positive = {name: values[name] <= 0 for name in (*PRICE_FIELDS, "adj_close")}
    return [
        builder.from_cells(IssueKind.MISSING_PRICE, _missing_prices(frame)),
        builder.from_cells(IssueKind.NON_POSITIVE_PRICE, non_positive),
        builder.from_cells(
            IssueKind.PRICE_OUT_OF_BOUNDS,
            {name: rules.bad_price(values[name]) & ~non_positive[name] for name in non_positive},
        ),
        builder.from_cells(
            IssueKind.NEGATIVE_VOLUME, {"volume": rules.bad_volume(values["volume"])}
        ),
        inverted,
        builder.from_cells(IssueKind.OUTSIDE_HIGH_LOW, outside),
    ]


def _missing_prices(frame: _Bars) -> dict[str, np.ndarray]:
    """NaN cells among the fields a symbol provides: a close-only symbol (no open/high/low on
    any bar) is missing only closes; inventing the rest is not expected of its source."""
    values = frame.values
    masks = {name: np.isnan(values[name]) for name in PRICE_FIELDS}
    if not any(masks[name].any() for name in ("open", "high", "low")):
        return masks  # every bar has its range: no symbol to look at
    has_range = np.zeros(len(frame.names), dtype=bool)
    for name in ("open", "high", "low"):
        has_range |= np.bincount(frame.codes[~masks[name]], minlength=len(frame.names)) > 0
    provides_range = has_range[frame.codes]
    for name in ("open", "high", "low"):
        masks[name] &= provides_range
    return masks


def _duplicate_issue(frame: _Bars, builder: _IssueBuilder) -> QualityIssue:
    repeat = np.zeros(frame.size, dtype=bool)
    repeat[1:] = (frame.codes[1:] == frame.codes[:-1]) & (frame.ts[1:] == frame.ts[:-1])
    builder.duplicates = repeat
    rows = np.flatnonzero(repeat)
    examples = []
    for row in rows[: builder.max_examples]:
        same = all(
            _same(frame.values[name][row], frame.values[name][row - 1]) for name in frame.values
        )
        note = "identical to the previous bar" if same else "conflicts with the previous bar"
        examples.append(_example(frame, int(row), "close", frame.values["close"][row], note))
    symbols = _distinct(frame.codes[repeat])
    return QualityIssue(IssueKind.DUPLICATE_BAR, len(rows), symbols, tuple(examples))


def _calendar_issues(
    frame: _Bars, sessions: pd.DatetimeIndex, builder: _IssueBuilder
) -> tuple[QualityIssue, QualityIssue, dict[str, int]]:
    # One row per (symbol, day) so intraday bars count a day once.
    first_of_day = np.ones(frame.size, dtype=bool)
    first_of_day[1:] = (frame.codes[1:] != frame.codes[:-1]) | (frame.days[1:] != frame.days[:-1])
    codes, days = _where(first_of_day, frame.codes, frame.days)
    session_days = sessions.to_numpy().astype("datetime64[D]")
    position, on_session = _session_positions(session_days, days)

    off_rows = np.flatnonzero(~on_session)
    off = QualityIssue(
        IssueKind.OFF_CALENDAR_BAR,
        len(off_rows),
        _distinct(codes[off_rows]),
        tuple(
            QualityExample(
                str(frame.names[codes[row]]), _midnight(days[row]), None, None, "not a session"
            )
            for row in off_rows[: builder.max_examples]
        ),
    )

    codes, position = _where(on_session, codes, position)
    step = position[1:] - position[:-1]
    gap = (codes[1:] == codes[:-1]) & (step > 1)
    sizes = step[gap] - 1
    per_symbol = np.bincount(codes[1:][gap], weights=sizes, minlength=len(frame.names))
    missing = {str(frame.names[code]): int(per_symbol[code]) for code in np.flatnonzero(per_symbol)}
    starts, gap_codes = position[:-1][gap] + 1, codes[1:][gap]
    largest = np.argsort(-sizes, kind="stable")[: builder.max_examples]
    examples = tuple(
        QualityExample(
            str(frame.names[gap_codes[i]]),
            _midnight(session_days[starts[i]]),
            None,
            float(sizes[i]),
            f"{sizes[i]} session(s) missing from {session_days[starts[i]]} "
            f"to {session_days[starts[i] + sizes[i] - 1]}",
        )
        for i in largest
    )
    gaps = QualityIssue(IssueKind.MISSING_SESSION, int(sizes.sum()), len(missing), examples)
    return off, gaps, missing


def _session_positions(session_days: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.searchsorted(session_days, days)`` and whether each day is a session, looked up in
    a table over the days' span (at most the rulebook's date range): a gather per bar instead
    of a binary search."""
    if not len(days):
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=bool)
    first = days.min()
    span = np.arange(first, days.max() + 1)
    position = np.searchsorted(session_days, span)
    on_session = position < len(session_days)
    on_session[on_session] = session_days[position[on_session]] == span[on_session]
    offset = (days - first).astype(np.int64)
    return position[offset], on_session[offset]


def _where(keep: np.ndarray, *columns: np.ndarray) -> tuple[np.ndarray, ...]:
    """``columns`` at the rows ``keep`` marks; no copy when it marks them all (the usual case)."""
    if keep.all():
        return columns
    return tuple(column[keep] for column in columns)


def _jump_issues(frame: _Bars, threshold: float, builder: _IssueBuilder) -> list[QualityIssue]:
    close = frame.values["close"]
    usable = np.isfinite(close) & (close > 0)
    codes, close, adj = _where(usable, frame.codes, close, frame.values["adj_close"])
    rows = np.flatnonzero(usable) if len(close) < len(usable) else None  # None: every row
    moves = rules.close_moves(codes, close, adj, threshold)

    def issue(kind: IssueKind, chosen: np.ndarray) -> QualityIssue:
        picked = moves.at[chosen]
        ratio, adj_moved = moves.ratio[chosen], moves.adj_change[chosen]
        change, nearest = moves.change[chosen], moves.nearest[chosen]
        order = np.argsort(-np.abs(np.log(ratio)), kind="stable")
        examples = []
        for i in order[: builder.max_examples]:
            row = picked[i] + 1 if rows is None else rows[picked[i] + 1]
            adj_text = (
                "adj_close missing" if np.isnan(adj_moved[i]) else f"adj_close {adj_moved[i]:+.1%}"
            )
            note = f"close {close[picked[i]]:.4g} -> {close[picked[i] + 1]:.4g} "
            note += f"({change[i]:+.1%}), {adj_text}"
            if kind is IssueKind.UNADJUSTED_SPLIT:
                note += f"; ratio {ratio[i]:.3g} ~ {_ratio_text(nearest[i])}"
            examples.append(_example(frame, int(row), "close", frame.values["close"][row], note))
        return QualityIssue(kind, len(picked), _distinct(codes[picked]), tuple(examples))

    return [
        issue(IssueKind.PRICE_JUMP, ~moves.split),
        issue(IssueKind.UNADJUSTED_SPLIT, moves.split),
    ]


def _stale_issue(
    frame: _Bars,
    sessions: pd.DatetimeIndex | None,
    end: np.datetime64,
    stale_after_days: int,
    builder: _IssueBuilder,
) -> tuple[QualityIssue, dict[str, date]]:
    """Symbols whose last bar is more than ``stale_after_days`` sessions before ``end`` (the
    newest bar of any symbol, capped at the as-of date)."""
    if not frame.size:
        return QualityIssue(IssueKind.STALE_SYMBOL, 0, 0), {}
    last = np.flatnonzero(np.append(frame.codes[1:] != frame.codes[:-1], True))
    last_days = frame.days[last]
    if sessions is not None:
        session_days = sessions.to_numpy().astype("datetime64[D]")
        behind = np.searchsorted(session_days, end, side="right") - np.searchsorted(
            session_days, last_days, side="right"
        )
    else:
        behind = np.busday_count(last_days + 1, end + 1)
    behind = np.maximum(behind, 0)
    stale = np.flatnonzero(behind > stale_after_days)
    found = {str(frame.names[frame.codes[last[i]]]): last_days[i].astype(date) for i in stale}
    worst = stale[np.argsort(-behind[stale], kind="stable")][: builder.max_examples]
    examples = tuple(
        QualityExample(
            str(frame.names[frame.codes[last[i]]]),
            _midnight(last_days[i]),
            None,
            float(behind[i]),
            f"last bar {last_days[i]}, {behind[i]} session(s) before {end} (newest data)",
        )
        for i in worst
    )
    return QualityIssue(IssueKind.STALE_SYMBOL, len(stale), len(stale), examples), found


def _distinct(codes: np.ndarray) -> int:
    """How many different symbol codes (small non-negative ints): a bincount, not a hash."""
    return int(np.count_nonzero(np.bincount(codes))) if len(codes) else 0


def _floats(bars: pd.DataFrame, name: str, source: str) -> np.ndarray:
    try:
        return bars[name].to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError) as error:
        raise DataValidationError(
            [Problem(source, None, None, name, f"values are not numeric ({error})")]
        ) from error


def _example(frame: _Bars, row: int, name: str, value: float, note: str = "") -> QualityExample:
    stamp = pd.Timestamp(frame.ts[row]).tz_localize(UTC).to_pydatetime()
    return QualityExample(str(frame.names[frame.codes[row]]), stamp, name, float(value), note)


def _midnight(day: np.datetime64) -> datetime:
    return datetime.combine(day.astype(date), datetime.min.time(), tzinfo=UTC)


def _same(left: float, right: float) -> bool:
    return bool(left == right or (np.isnan(left) and np.isnan(right)))


def _ratio_text(ratio: float) -> str:
    return f"{ratio:.0f}:1 split" if ratio >= 1 else f"1:{1 / ratio:.0f} reverse split"


def _json_float(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None
