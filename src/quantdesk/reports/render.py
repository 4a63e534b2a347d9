"""One entry for every output format of a report."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from quantdesk.reports.model import Report
from quantdesk.reports.period import ReportError


class ReportFormat(StrEnum):
    PDF = "pdf"
    XLSX = "xlsx"
    CSV = "csv"
    HTML = "html"


def parse_format(text: str) -> ReportFormat:
    try:
        return ReportFormat(text.strip().lower())
    except ValueError:
        choices = ", ".join(f.value for f in ReportFormat)
        raise ReportError(f"unknown report format {text!r}; use {choices}") from None


def render(report: Report, kind: ReportFormat, out: Path) -> list[Path]:
    """Write ``report`` as ``kind`` at ``out`` (a file; a directory for CSV); returns the
    files written."""
    if kind is ReportFormat.CSV:
        from quantdesk.reports.csv_files import write_csv

        return write_csv(report, out)
    if out.exists() and out.is_dir():
        raise ReportError(f"--out {out} is a directory; give a file name ending .{kind.value}")
    out.parent.mkdir(parents=True, exist_ok=True)
    if kind is ReportFormat.PDF:
        from quantdesk.reports.pdf import write_pdf

        return [write_pdf(report, out)]
    if kind is ReportFormat.XLSX:
        from quantdesk.reports.excel import write_excel

        return [write_excel(report, out)]
    from quantdesk.reports.html import write_html

    return [write_html(report, out)]
