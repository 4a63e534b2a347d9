"""The Excel writer (xlsxwriter): one workbook, one sheet per table, real number formats
(percent, currency, dates), frozen header rows, sized columns and a native line chart of the
equity curve."""

from __future__ import annotations

import io
import math
from datetime import date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from quantdesk.reports.model import ColumnFormat, Report, Table

NUMBER_FORMATS = {
    ColumnFormat.PERCENT: "0.00%",
    ColumnFormat.NUMBER: "#,##0.0000",
    ColumnFormat.RATIO: "0.00",
    ColumnFormat.CURRENCY: "#,##0.00",
    ColumnFormat.INTEGER: "#,##0",
    ColumnFormat.BP: "0.0",
    ColumnFormat.DATE: "yyyy-mm-dd",
    ColumnFormat.TEXT: "@",
}
# sheet order and the tables they show; tables not listed get their own sheet after these
SHEETS = (
    ("monthly_returns", "Monthly returns"),
    ("equity", "Equity"),
    ("drawdown", "Drawdown"),
    ("positions", "Positions"),
    ("trades", "Trades"),
    ("tca", "TCA"),
    ("attribution_positions", "Attribution"),
    ("attribution_sectors", "Attribution by sector"),
    ("attribution_factors", "Attribution by factor"),
)


def write_excel(report: Report, path: Path) -> Path:
    """Write ``report`` as an ``.xlsx`` workbook at ``path``; returns the path."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "nan_inf_to_errors": True})
    formats = _formats(workbook)
    _summary_sheet(workbook, report, formats)
    equity = report.series_table()
    tables = {t.name: t for t in report.tables}
    if report.monthly_returns is not None:
        tables["monthly_returns"] = report.monthly_returns
    tables["equity"] = _only(equity, drawdown=False)
    tables["drawdown"] = _only(equity, drawdown=True)
    done = set()
    for name, title in SHEETS:
        table = tables.get(name)
        if table is None:
            table = Table.of(name, title, (), ())
        sheet = _table_sheet(workbook, title, table, formats)
        if name == "equity" and table.rows:
            _equity_chart(workbook, sheet, table)
        done.add(name)
    for table in report.tables:
        if table.name not in done and table.name != "comparison":
            _table_sheet(workbook, _sheet_name(table.name), table, formats)
    _parameters_sheet(workbook, report, formats)
    workbook.close()
    path.write_bytes(buffer.getvalue())
    return path


def _formats(workbook: Workbook) -> dict[Any, Any]:
    out: dict[Any, Any] = {
        kind: workbook.add_format({"num_format": code}) for kind, code in NUMBER_FORMATS.items()
    }
    out["header"] = workbook.add_format(
        {"bold": True, "font_color": "#ffffff", "bg_color": "#1f3b73", "border": 0}
    )
    out["title"] = workbook.add_format({"bold": True, "font_size": 14, "font_color": "#1f3b73"})
    out["label"] = workbook.add_format({"bold": True})
    return out


def _summary_sheet(workbook: Workbook, report: Report, formats: dict[Any, Any]) -> None:
    sheet = workbook.add_worksheet("Summary")
    sheet.write(0, 0, report.title, formats["title"])
    info = (
        ("Subject", f"{report.subject_kind.value}: {report.subject}"),
        ("Period", report.period.label),
        ("Generated at", report.generated_at.strftime("%Y-%m-%d %H:%M %Z").strip()),
        ("Data as of", report.data_as_of.isoformat()),
    )
    for row, (label, text) in enumerate(info, start=1):
        sheet.write(row, 0, label, formats["label"])
        sheet.write_string(row, 1, text)
    header_row = len(info) + 2
    headers = ("Metric", report.period.label, "Since inception")
    for column, heading in enumerate(headers):
        sheet.write(header_row, column, heading, formats["header"])
    for offset, metric in enumerate(report.metrics, start=1):
        row = header_row + offset
        sheet.write(row, 0, metric.label)
        for column, value in ((1, metric.period), (2, metric.inception)):
            _write(sheet, row, column, value, metric.format, formats)
    sheet.freeze_panes(header_row + 1, 0)
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 2, 18)
    comparison = report.table("comparison")
    if comparison is not None:
        start = header_row + len(report.metrics) + 2
        _write_table(sheet, comparison, formats, start)


def _table_sheet(
    workbook: Workbook, title: str, table: Table, formats: dict[Any, Any]
) -> Worksheet:
    sheet = workbook.add_worksheet(title[:31])
    _write_table(sheet, table, formats, 0)
    sheet.freeze_panes(1, 0)
    if not table.rows:
        sheet.write(1, 0, "none in this period")
    if table.note:
        sheet.write(len(table.rows) + 2, 0, table.note)
    return sheet


def _write_table(sheet: Worksheet, table: Table, formats: dict[Any, Any], first: int) -> None:
    for column, spec in enumerate(table.columns):
        sheet.write(first, column, spec.title, formats["header"])
        longest = max([len(spec.title), *(len(str(r[column])) for r in table.rows[:200])])
        width = 12 if spec.format is not ColumnFormat.TEXT else min(48, max(10, longest + 2))
        sheet.set_column(column, column, max(width, len(spec.title) + 2))
    for offset, row in enumerate(table.rows, start=1):
        for column, (value, spec) in enumerate(zip(row, table.columns, strict=True)):
            _write(sheet, first + offset, column, value, spec.format, formats)


def _write(
    sheet: Worksheet,
    row: int,
    column: int,
    value: Any,
    kind: ColumnFormat,
    formats: dict[Any, Any],
) -> None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        sheet.write_blank(row, column, None)
    elif isinstance(value, datetime):
        sheet.write_datetime(row, column, value.replace(tzinfo=None), formats[ColumnFormat.DATE])
    elif isinstance(value, date):
        sheet.write_datetime(
            row, column, datetime(value.year, value.month, value.day), formats[ColumnFormat.DATE]
        )
    elif isinstance(value, bool) or kind is ColumnFormat.TEXT:
        sheet.write_string(row, column, str(value))
    elif isinstance(value, int | float):
        if math.isinf(value):
            sheet.write_string(row, column, "inf" if value > 0 else "-inf")
        else:
            sheet.write_number(row, column, float(value), formats[kind])
    else:
        sheet.write_string(row, column, str(value))


def _sheet_name(name: str) -> str:
    """A table name as an Excel sheet name (no ``[]:*?/\\``, at most 31 characters)."""
    cleaned = "".join(" " if c in "[]:*?/\\_" else c for c in name).strip()
    return (cleaned[:1].upper() + cleaned[1:])[:31] or "Table"


def _only(table: Table, drawdown: bool) -> Table:
    keep = [0] + [
        i for i, c in enumerate(table.columns) if i and c.key.endswith("drawdown") == drawdown
    ]
    columns = [table.columns[i] for i in keep]
    rows = [tuple(r[i] for i in keep) for r in table.rows]
    name, title = ("drawdown", "Drawdown") if drawdown else ("equity", "Equity")
    return Table.of(name, title, columns, rows)


def _equity_chart(workbook: Workbook, sheet: Worksheet, table: Table) -> None:
    chart = workbook.add_chart({"type": "line"})
    last = len(table.rows)
    for column in range(1, len(table.columns)):
        chart.add_series(
            {
                "name": [sheet.name, 0, column],
                "categories": [sheet.name, 1, 0, last, 0],
                "values": [sheet.name, 1, column, last, column],
                "line": {"width": 1.25},
            }
        )
    chart.set_title({"name": "Equity"})
    chart.set_x_axis({"date_axis": True, "num_format": "yyyy-mm"})
    chart.set_y_axis({"num_format": "#,##0", "major_gridlines": {"visible": True}})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 900, "height": 420})
    sheet.insert_chart(1, len(table.columns) + 1, chart)


def _parameters_sheet(workbook: Workbook, report: Report, formats: dict[Any, Any]) -> None:
    sheet = workbook.add_worksheet("Parameters")
    sheet.write(0, 0, "Parameter", formats["header"])
    sheet.write(0, 1, "Value", formats["header"])
    for row, (key, value) in enumerate(report.parameters, start=1):
        sheet.write_string(row, 0, key)
        sheet.write_string(row, 1, value)
    offset = len(report.parameters) + 2
    for row, line in enumerate(report.notes, start=offset):
        sheet.write_string(row, 0, line)
    sheet.freeze_panes(1, 0)
    sheet.set_column(0, 0, 30)
    sheet.set_column(1, 1, 80)
