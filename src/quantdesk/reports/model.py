"""The report model: everything one report shows, built once by the reports service and
rendered to PDF, Excel, CSV and HTML by the writers in this package.

Units: returns, weights, drawdowns and rates are fractions (0.05 = 5 %); money is in the
subject's currency; slippage in basis points. Tables hold plain Python values (``None`` for
missing) so every writer formats them from the column's :class:`ColumnFormat`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import pandas as pd

from quantdesk.reports.period import ReportPeriod


class SubjectKind(StrEnum):
    BACKTEST = "backtest"
    PORTFOLIO = "portfolio"
    STRATEGY = "strategy"
    COMPARISON = "comparison"


class ColumnFormat(StrEnum):
    """How a value is shown: ``percent`` and ``bp`` take fractions and basis points."""

    TEXT = "text"
    DATE = "date"
    PERCENT = "percent"
    NUMBER = "number"
    RATIO = "ratio"
    CURRENCY = "currency"
    INTEGER = "integer"
    BP = "bp"


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    title: str
    format: ColumnFormat = ColumnFormat.TEXT


@dataclass(frozen=True, slots=True)
class Table:
    """A titled table; ``name`` is its file/sheet name (``trades`` → ``trades.csv``)."""

    name: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]
    note: str = ""

    @staticmethod
    def of(
        name: str,
        title: str,
        columns: Sequence[Column],
        rows: Sequence[Sequence[Any]],
        note: str = "",
    ) -> Table:
        return Table(name, title, tuple(columns), tuple(tuple(r) for r in rows), note)

    def column(self, key: str) -> list[Any]:
        at = [c.key for c in self.columns].index(key)
        return [row[at] for row in self.rows]


@dataclass(frozen=True, slots=True)
class Metric:
    """One line of the summary table: the value over the period and since inception."""

    key: str
    label: str
    format: ColumnFormat
    period: float | None
    inception: float | None


@dataclass(frozen=True, slots=True)
class Curve:
    """A named dated series (equity in currency, growth of 100, or drawdown fractions)."""

    name: str
    values: pd.Series


@dataclass(frozen=True, slots=True)
class Annotation:
    """A journal note shown in the commentary (``subject``: the order or "portfolio")."""

    at: datetime
    subject: str
    text: str


@dataclass(frozen=True)
class Report:
    """One report, whatever its format (see the module docstring for units)."""

    title: str
    subject_kind: SubjectKind
    subject: str
    period: ReportPeriod
    generated_at: datetime
    data_as_of: date
    currency: str
    metrics: tuple[Metric, ...]
    equity: tuple[Curve, ...]
    drawdown: tuple[Curve, ...]
    monthly_returns: Table | None
    tables: tuple[Table, ...]
    annotations: tuple[Annotation, ...] = ()
    parameters: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()
    equity_is_rebased: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def table(self, name: str) -> Table | None:
        return next((t for t in self.tables if t.name == name), None)

    def metric(self, key: str) -> Metric:
        for metric in self.metrics:
            if metric.key == key:
                return metric
        raise KeyError(f"report has no metric {key!r}")

    def summary_table(self) -> Table:
        """The metrics as a table (the summary sheet and ``summary.csv``): one row per metric,
        or for a comparison, the metrics side by side, one row per run or book compared."""
        comparison = self.table("comparison")
        if comparison is not None and not self.metrics:
            return replace(comparison, name="summary")
        columns = (
            Column("metric", "Metric"),
            Column("period", self.period.label),
            Column("inception", "Since inception"),
            Column("format", "Format"),
        )
        rows = [(m.label, m.period, m.inception, m.format.value) for m in self.metrics]
        return Table.of("summary", "Summary", columns, rows)

    def series_table(self) -> Table:
        """Equity and drawdown of every curve by date (``equity.csv``)."""
        frame = pd.DataFrame({c.name: c.values for c in self.equity})
        for curve in self.drawdown:
            frame[f"{curve.name} drawdown"] = curve.values
        frame = frame.sort_index()
        columns = [Column("date", "Date", ColumnFormat.DATE)]
        for name in frame.columns:
            kind = (
                ColumnFormat.PERCENT
                if str(name).endswith("drawdown")
                else ColumnFormat.NUMBER
                if self.equity_is_rebased
                else ColumnFormat.CURRENCY
            )
            columns.append(Column(str(name), str(name), kind))
        rows = [
            (stamp.date(), *(None if pd.isna(v) else float(v) for v in values))
            for stamp, values in zip(
                pd.DatetimeIndex(frame.index), frame.itertuples(index=False), strict=True
            )
        ]
        return Table.of("equity", "Equity and drawdown", columns, rows)


def dated(values: pd.Series) -> pd.Series:
    """``values`` with a tz-naive DatetimeIndex (reports compare dates, not instants)."""
    index = pd.DatetimeIndex(values.index)
    if index.tz is not None:
        index = index.tz_convert(None)
    return pd.Series(values.to_numpy(dtype="float64"), index=index, name=values.name)


def day(value: date | datetime | pd.Timestamp) -> date:
    return pd.Timestamp(value).date()
