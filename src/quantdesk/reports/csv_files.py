"""CSV of every report table: ``summary.csv`` (see :meth:`.Report.summary_table`),
``monthly_returns.csv``, ``equity.csv`` and one file per table (positions, trades, TCA,
attribution, …), raw values (fractions, not percent; ISO dates) so they load back as
numbers."""

from __future__ import annotations

import csv
import io
import math
from datetime import date, datetime
from pathlib import Path
from typing import Any

from quantdesk.reports.model import Column, Report, Table


def report_tables(report: Report) -> list[Table]:
    """Every table of ``report``, in file order (a comparison's ``summary.csv`` holds its
    metrics side by side, as the workbook's summary sheet does; ``comparison.csv`` too)."""
    tables = [report.summary_table()]
    if report.monthly_returns is not None:
        tables.append(report.monthly_returns)
    tables.append(report.series_table())
    tables.extend(report.tables)
    if report.annotations:
        tables.append(
            Table.of(
                "annotations",
                "Commentary",
                (Column("at", "At"), Column("subject", "Subject"), Column("text", "Text")),
                [(a.at, a.subject, a.text) for a in report.annotations],
            )
        )
    tables.append(
        Table.of(
            "parameters",
            "Parameters",
            (Column("parameter", "Parameter"), Column("value", "Value")),
            report.parameters,
        )
    )
    return tables


def write_csv(report: Report, directory: Path) -> list[Path]:
    """Write one CSV per table into ``directory`` (created); returns the paths written.

    Every file is rendered in memory first, so a failure writes nothing."""
    rendered = {table.name: _render(table) for table in report_tables(report)}
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in rendered.items():
        path = directory / f"{name}.csv"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _render(table: Table) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.key for c in table.columns])
    for row in table.rows:
        writer.writerow([_plain(v) for v in row])
    return buffer.getvalue()


def _plain(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return ""
    return value
