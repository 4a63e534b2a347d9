"""Quarterly earnings (EPS) from CSV files into the earnings frame, with a cleaning report.

Two formats:

* :func:`parse_kaggle_earnings` reads the messy Kaggle/Zacks file ``earnings_latest.csv``
  (``symbol,date,qtr,eps_est,eps,release_time[,surp]``; ``date`` is M/D/YY, ``qtr`` is ``17-Jun``).
* :func:`parse_earnings_csv` reads quantdesk's own format: exactly the earnings frame columns
  (:data:`quantdesk.data.ports.EARNINGS_COLUMNS`) with ISO dates.

Both return ``(frame, FundamentalsReport)``. Row numbers are file lines (header = line 1).
Dates in the frame are tz-naive ``datetime64[ns]`` at midnight (calendar dates, no time).

Cleaning (lenient mode) drops, with a reason per row:

* malformed values (unparseable report date, non-numeric EPS, unknown release time, empty
  symbol) - in strict mode these raise :class:`DataValidationError` instead;
* ``eps_out_of_range``: ``|eps|`` or ``|eps_estimate|`` above ``max_abs_eps`` (USD per share,
  default 100). In the Kaggle file these are penny stocks restated after huge reverse splits
  (e.g. DCIX at ±987.54), not EPS anyone could trade on;
* ``eps_robust_outlier``: for symbols with at least ``min_quarters`` reports,
  ``|eps - median| / max(1.4826·MAD, min_scale) > robust_z`` (default 20): a quarter far off
  the symbol's own history, usually a one-off gain or a unit error - **unless the consensus
  estimate confirms it**: a quarter within ``consensus_tolerance`` (default 50 %) of its
  ``eps_estimate`` (``|eps - est| <= tol * max(|est|, min_scale)``) is a real result the market
  expected (GILD 2015 Q1/Q2, INTU's April quarters), not a unit error, and is kept (counted as
  ``confirmed_by_consensus``). Each drop's message gives the EPS, the estimate and the z-score;
* ``conflicting_duplicate``: several rows for one symbol and report date with different EPS -
  all of them, since we cannot tell which is right.

Exact duplicate rows are collapsed to one. A fiscal period that cannot be parsed (``NULL``,
``Q2``) or that ends after the report date (52/53-week fiscal years reported by month only)
becomes ``NaT`` and is counted; the row is kept since the report date is what point-in-time
research needs.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.core.errors import DataValidationError, Problem
from quantdesk.data.ports import EARNINGS_COLUMNS

KAGGLE_COLUMNS = ("symbol", "date", "qtr", "eps_est", "eps", "release_time")
RELEASE_TIMES = ("pre", "post")
_NULL_TOKENS = frozenset({"", "null", "none", "nan", "na", "n/a", "-"})
_FIRST_DATA_LINE = 2  # line 1 is the header


@dataclass(frozen=True)
class EarningsCleaning:
    """Outlier rules; see the module docstring. ``None`` disables a rule."""

    max_abs_eps: float | None = 100.0
    robust_z: float | None = 20.0
    min_quarters: int = 8
    min_scale: float = 0.10  # USD; keeps flat EPS histories (MAD ~ 0) from flagging cents
    # a robust outlier within this fraction of its consensus estimate is kept (None: never)
    consensus_tolerance: float | None = 0.50


@dataclass(frozen=True, slots=True)
class RowExample:
    """One dropped or amended row: file line, symbol, field and the raw value."""

    line: int
    symbol: str | None
    field: str | None
    value: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "symbol": self.symbol,
            "field": self.field,
            "value": self.value,
            "message": self.message,
        }


@dataclass(frozen=True)
class FundamentalsReport:
    """What parsing did: rows read, kept, dropped per reason, fields blanked, with examples."""

    source: str
    rows_read: int
    rows_kept: int
    dropped: Mapping[str, int] = field(default_factory=dict)
    blanked: Mapping[str, int] = field(default_factory=dict)
    duplicates_collapsed: int = 0
    examples: Mapping[str, tuple[RowExample, ...]] = field(default_factory=dict)
    # robust EPS outliers kept because the consensus estimate expected them
    confirmed_by_consensus: int = 0

    @property
    def rows_dropped(self) -> int:
        return sum(self.dropped.values())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "source": self.source,
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "rows_dropped": self.rows_dropped,
            "dropped": dict(self.dropped),
            "blanked": dict(self.blanked),
            "duplicates_collapsed": self.duplicates_collapsed,
            "confirmed_by_consensus": self.confirmed_by_consensus,
            "examples": {
                reason: [example.to_dict() for example in examples]
                for reason, examples in self.examples.items()
            },
        }


def parse_kaggle_earnings(
    path: str | Path,
    *,
    strict: bool = False,
    cleaning: EarningsCleaning | None = None,
    max_examples: int = 5,
) -> tuple[pd.DataFrame, FundamentalsReport]:
    """Parse the Kaggle ``earnings_latest.csv`` into an earnings frame and a report.

    Symbols are stripped and upper-cased; share-class separators ``.`` and ``/`` become ``-``
    (``BRK.B`` → ``BRK-B``) to match the price data.
    """
    raw = _read_text_csv(path, KAGGLE_COLUMNS)
    state = _Parse(str(path), raw, max_examples)
    symbol = raw["symbol"].str.strip().str.upper().str.replace(r"[./]", "-", regex=True)
    state.require(symbol != "", "symbol", "bad_symbol", "symbol is empty")
    report_date = pd.to_datetime(raw["date"].str.strip(), format="%m/%d/%y", errors="coerce")
    state.require(report_date.notna(), "date", "bad_report_date", "not a M/D/YY date")
    quarter = pd.to_datetime(raw["qtr"].str.strip(), format="%y-%b", errors="coerce")
    fiscal_period_end = quarter + pd.offsets.MonthEnd(0)
    state.blank_where(quarter.isna(), "qtr", "fiscal_period_unknown", "not a YY-Mon quarter")
    eps = state.number(raw["eps"], "eps", "bad_eps")
    estimate = state.number(raw["eps_est"], "eps_est", "bad_eps_estimate")
    release = state.release_time(raw["release_time"], "release_time")
    frame = pd.DataFrame(
        {
            "symbol": symbol,
            "fiscal_period_end": fiscal_period_end,
            "report_date": report_date,
            "release_time": release,
            "eps": eps,
            "eps_estimate": estimate,
        }
    )
    return state.finish(frame, strict, cleaning or EarningsCleaning())


def parse_earnings_csv(
    path: str | Path,
    *,
    strict: bool = True,
    cleaning: EarningsCleaning | None = None,
    max_examples: int = 5,
) -> tuple[pd.DataFrame, FundamentalsReport]:
    """Parse quantdesk's earnings CSV: columns exactly :data:`EARNINGS_COLUMNS`, ISO dates.

    ``report_date`` is required; ``fiscal_period_end``, ``release_time``, ``eps`` and
    ``eps_estimate`` may be empty. Strict by default (an import writes all rows or none);
    ``strict=False`` keeps the good rows and reports the rest. No outlier rule applies
    unless ``cleaning`` is given.
    """
    raw = _read_text_csv(path, EARNINGS_COLUMNS, exact=True)
    state = _Parse(str(path), raw, max_examples)
    symbol = raw["symbol"].str.strip()
    state.require(symbol != "", "symbol", "bad_symbol", "symbol is empty")
    report_date = state.iso_date(raw["report_date"], "report_date", required=True)
    fiscal_period_end = state.iso_date(raw["fiscal_period_end"], "fiscal_period_end")
    frame = pd.DataFrame(
        {
            "symbol": symbol,
            "fiscal_period_end": fiscal_period_end,
            "report_date": report_date,
            "release_time": state.release_time(raw["release_time"], "release_time"),
            "eps": state.number(raw["eps"], "eps", "bad_eps"),
            "eps_estimate": state.number(raw["eps_estimate"], "eps_estimate", "bad_eps_estimate"),
        }
    )
    no_cleaning = EarningsCleaning(max_abs_eps=None, robust_z=None)
    return state.finish(frame, strict, cleaning or no_cleaning)


def _robust_scores(frame: pd.DataFrame, eps: pd.Series, cleaning: EarningsCleaning) -> pd.Series:
    """|eps − median| / (1.4826·MAD) against the symbol's *earlier* reports only.

    Judging a report by the reports that came before it keeps the cleaning point-in-time: whether
    a 2013 number is kept never depends on what was reported in 2016. NaN (not judged) until a
    symbol has ``min_quarters`` earlier reports.
    """
    order = np.lexsort((frame["report_date"].to_numpy(), frame["symbol"].to_numpy(dtype=str)))
    symbols = frame["symbol"].to_numpy(dtype=str)[order]
    values = eps.to_numpy(dtype=np.float64)[order]
    scores = np.full(len(values), np.nan)
    starts = np.flatnonzero(np.r_[True, symbols[1:] != symbols[:-1]])
    for start, stop in zip(starts, np.r_[starts[1:], len(values)], strict=True):
        x = values[start:stop]
        n = len(x)
        if n <= cleaning.min_quarters:
            continue
        # row i of `earlier` holds the reports before report i (NaN elsewhere)
        earlier = np.where(np.tri(n, k=-1, dtype=bool), x[None, :], np.nan)
        enough = np.count_nonzero(~np.isnan(earlier), axis=1) >= cleaning.min_quarters
        with warnings.catch_warnings():  # rows without earlier reports are all-NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            median = np.nanmedian(earlier, axis=1)
            mad = np.nanmedian(np.abs(earlier - median[:, None]), axis=1)
        scale = np.maximum(1.4826 * mad, cleaning.min_scale)
        scores[start:stop] = np.where(enough, np.abs(x - median) / scale, np.nan)
    out = np.full(len(values), np.nan)
    out[order] = scores
    return pd.Series(out, index=frame.index)


def empty_earnings_frame() -> pd.DataFrame:
    """An earnings frame with no rows and the contract's dtypes."""
    return _typed(pd.DataFrame({column: [] for column in EARNINGS_COLUMNS}))


class _Parse:
    """Collects per-row problems while columns are parsed, then cleans and reports."""

    def __init__(self, source: str, raw: pd.DataFrame, max_examples: int) -> None:
        self.source = source
        self.raw = raw
        self.max_examples = max_examples
        self.lines = np.arange(len(raw)) + _FIRST_DATA_LINE
        self.drop_reason = pd.Series(pd.NA, index=raw.index, dtype="object")
        self.problems: list[Problem] = []
        self.blanked: dict[str, int] = {}
        self.examples: dict[str, list[RowExample]] = {}
        self.confirmed_by_consensus = 0

    # -- column parsers -------------------------------------------------------------------

    def require(self, good: pd.Series, column: str, reason: str, message: str) -> None:
        """Rows where ``good`` is False are malformed in ``column``."""
        bad = ~good.fillna(False).to_numpy(dtype=bool)
        for row in np.flatnonzero(bad).tolist():
            value = str(self.raw[column].iat[row])
            self._example(reason, int(row), column, value, message)
            self.problems.append(
                Problem(
                    self.source,
                    int(self.lines[row]),
                    self._symbol(int(row)),
                    column,
                    f"{message}: {value!r}",
                )
            )
        unset = bad & self.drop_reason.isna().to_numpy()
        self.drop_reason[unset] = reason

    def blank_where(self, mask: pd.Series, column: str, reason: str, message: str) -> None:
        """Rows kept, with this field set to missing; counted under ``reason``."""
        rows = np.flatnonzero(mask.to_numpy(dtype=bool))
        self.blanked[reason] = self.blanked.get(reason, 0) + len(rows)
        for row in rows[: self.max_examples]:
            self._example(reason, int(row), column, str(self.raw[column].iat[row]), message)

    def number(self, text: pd.Series, column: str, reason: str) -> pd.Series:
        cleaned = text.str.strip()
        null = cleaned.str.lower().isin(_NULL_TOKENS)
        values = pd.to_numeric(cleaned.where(~null), errors="coerce").astype("float64")
        finite = np.isfinite(values.to_numpy()) | null.to_numpy()
        self.require(pd.Series(finite, index=text.index), column, reason, "not a number")
        return values.where(finite)

    def release_time(self, text: pd.Series, column: str) -> pd.Series:
        cleaned = text.str.strip().str.lower()
        null = cleaned.isin(_NULL_TOKENS)
        known = cleaned.isin(RELEASE_TIMES)
        self.require(known | null, column, "bad_release_time", "expected 'pre', 'post' or empty")
        values = [
            value if is_known else None
            for value, is_known in zip(cleaned.tolist(), known.tolist(), strict=True)
        ]
        return pd.Series(values, index=text.index, dtype="object")

    def iso_date(self, text: pd.Series, column: str, *, required: bool = False) -> pd.Series:
        cleaned = text.str.strip()
        empty = cleaned == ""
        parsed = pd.to_datetime(cleaned.where(~empty), format="%Y-%m-%d", errors="coerce")
        good = parsed.notna() | (empty & (not required))
        message = "not a YYYY-MM-DD date" + ("" if not required else " (required)")
        self.require(good, column, f"bad_{column}", message)
        return parsed

    # -- cleaning -------------------------------------------------------------------------

    def finish(
        self, frame: pd.DataFrame, strict: bool, cleaning: EarningsCleaning
    ) -> tuple[pd.DataFrame, FundamentalsReport]:
        # Strict mode still runs every check first so one error lists every bad row.
        frame = _typed(frame)
        late = frame["fiscal_period_end"] > frame["report_date"]
        self.blank_where(
            late,
            "qtr" if "qtr" in self.raw else "fiscal_period_end",
            "fiscal_period_after_report",
            "fiscal period ends after the report date",
        )
        frame.loc[late, "fiscal_period_end"] = pd.NaT
        self._outliers(frame, cleaning)
        collapsed = self._duplicates(frame, strict)
        if strict and self.problems:
            raise DataValidationError(self.problems)
        kept = frame[self.drop_reason.isna().to_numpy() & ~collapsed]
        kept = kept.sort_values(["symbol", "report_date"], kind="stable", ignore_index=True)
        dropped = self.drop_reason.dropna().value_counts()
        report = FundamentalsReport(
            source=self.source,
            rows_read=len(frame),
            rows_kept=len(kept),
            dropped={str(reason): int(count) for reason, count in dropped.items()},
            blanked={reason: count for reason, count in self.blanked.items() if count},
            duplicates_collapsed=int(collapsed.sum()),
            confirmed_by_consensus=self.confirmed_by_consensus,
            examples={reason: tuple(found) for reason, found in self.examples.items()},
        )
        return kept, report

    def _outliers(self, frame: pd.DataFrame, cleaning: EarningsCleaning) -> None:
        alive = self.drop_reason.isna()
        if cleaning.max_abs_eps is not None:
            for column in ("eps", "eps_estimate"):
                big = alive & (frame[column].abs() > cleaning.max_abs_eps)
                self._drop(big, column, "eps_out_of_range", f"|{column}| > {cleaning.max_abs_eps}")
                alive &= ~big
        if cleaning.robust_z is None:
            return
        score = _robust_scores(frame, frame["eps"].where(alive), cleaning)
        far = alive & (score > cleaning.robust_z)
        estimate = frame["eps_estimate"]
        if cleaning.consensus_tolerance is not None:
            allowed = cleaning.consensus_tolerance * estimate.abs().clip(lower=cleaning.min_scale)
            expected = far & estimate.notna() & ((frame["eps"] - estimate).abs() <= allowed)
            self.confirmed_by_consensus += int(expected.sum())
            far &= ~expected
        for row in np.flatnonzero(far.to_numpy(dtype=bool)).tolist():
            consensus = estimate.iloc[row]
            known = "no consensus estimate" if pd.isna(consensus) else f"consensus {consensus:g}"
            self._drop(
                pd.Series(np.arange(len(far)) == row, index=far.index),
                "eps",
                "eps_robust_outlier",
                f"eps {frame['eps'].iloc[row]:g} is {score.iloc[row]:.0f} robust z from the "
                f"symbol's earlier reports (> {cleaning.robust_z}) and {known} does not "
                "confirm it",
            )

    def _duplicates(self, frame: pd.DataFrame, strict: bool) -> np.ndarray:
        """Mark exact and same-EPS repeats as collapsed; drop (or raise on) EPS conflicts."""
        alive = self.drop_reason.isna().to_numpy()
        exact = np.zeros(len(frame), dtype=bool)
        exact[alive] = frame[alive].duplicated(keep="first").to_numpy()
        distinct = alive & ~exact
        key = ["symbol", "report_date"]
        candidates = frame[distinct]
        variants = candidates.groupby(key)["eps"].nunique(dropna=False)
        conflicting_keys = variants[variants > 1].index
        conflict = np.zeros(len(frame), dtype=bool)
        if len(conflicting_keys):
            keyed = pd.MultiIndex.from_frame(frame[key])
            conflict = keyed.isin(conflicting_keys) & distinct
        # Same symbol, date and EPS but another field differs (say the estimate): keep the first.
        repeat = np.zeros(len(frame), dtype=bool)
        repeat[distinct] = candidates.duplicated(key, keep="first").to_numpy()
        repeat &= ~conflict
        if strict:
            self.problems += [
                Problem(
                    self.source,
                    int(self.lines[row]),
                    self._symbol(int(row)),
                    "eps",
                    "another row has the same symbol and report date with a different eps",
                )
                for row in np.flatnonzero(conflict)
            ]
        self._drop(
            pd.Series(conflict, index=frame.index),
            "eps",
            "conflicting_duplicate",
            "another row has the same symbol and report date with a different eps",
        )
        return exact | repeat

    def _drop(self, mask: pd.Series, column: str, reason: str, message: str) -> None:
        rows = np.flatnonzero(mask.to_numpy(dtype=bool) & self.drop_reason.isna().to_numpy())
        self.drop_reason.iloc[rows] = reason
        raw_column = column if column in self.raw else _KAGGLE_NAMES.get(column, column)
        for row in rows[: self.max_examples]:
            value = str(self.raw[raw_column].iat[row]) if raw_column in self.raw else ""
            self._example(reason, int(row), raw_column, value, message)

    def _example(self, reason: str, row: int, column: str, value: str, message: str) -> None:
        found = self.examples.setdefault(reason, [])
        if len(found) < self.max_examples:
            line = int(self.lines[row])
            found.append(RowExample(line, self._symbol(row), column, value, message))

    def _symbol(self, row: int) -> str | None:
        symbol = str(self.raw["symbol"].iat[row]).strip()
        return symbol or None


_KAGGLE_NAMES = {"eps_estimate": "eps_est"}


def _read_text_csv(
    path: str | Path, columns: tuple[str, ...], *, exact: bool = False
) -> pd.DataFrame:
    source = str(path)
    if not Path(path).exists():
        raise DataValidationError([Problem(source, None, None, None, "file not found")])
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError as error:
        raise DataValidationError([Problem(source, None, None, None, "file is empty")]) from error
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DataValidationError(
            [Problem(source, None, None, None, f"not a readable CSV file: {error}")]
        ) from error
    raw.columns = [str(column).strip() for column in raw.columns]
    problems = [
        Problem(source, 1, None, column, "column is missing")
        for column in columns
        if column not in raw.columns
    ]
    if exact:
        problems += [
            Problem(source, 1, None, column, "unexpected column")
            for column in raw.columns
            if column not in columns
        ]
    if problems:
        raise DataValidationError(problems)
    return raw


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "symbol": frame["symbol"].astype(str),
            "fiscal_period_end": pd.to_datetime(frame["fiscal_period_end"]).astype(
                "datetime64[ns]"
            ),
            "report_date": pd.to_datetime(frame["report_date"]).astype("datetime64[ns]"),
            "release_time": frame["release_time"].astype("object"),
            "eps": frame["eps"].astype("float64"),
            "eps_estimate": frame["eps_estimate"].astype("float64"),
        },
        index=frame.index,
    )
