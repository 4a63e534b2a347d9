"""``/api/reports``: a backtest run, a portfolio (or one strategy's trades in it) or a
comparison of runs as a PDF, Excel workbook, HTML tear sheet or a zip of CSV files, for a
month (``2021-03``), quarter (``2021-Q1``), year (``2021``), ``START:END`` or ``all``."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from quantdesk.api.deps import ServicesDep, Viewer
from quantdesk.reports import Report, ReportFormat
from quantdesk.services import Services

router = APIRouter(prefix="/reports", tags=["reports"])

MEDIA_TYPES = {
    ReportFormat.PDF: "application/pdf",
    ReportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ReportFormat.HTML: "text/html; charset=utf-8",
    ReportFormat.CSV: "application/zip",
}
Period = Annotated[
    str,
    Query(
        min_length=1,
        max_length=40,
        description="2021-03 (month), 2021-Q1 (quarter), 2021 (year), START:END or all.",
    ),
]
Format = Annotated[ReportFormat, Query(description="pdf, xlsx, html, or csv (a zip).")]


@router.get("/backtests/{run_id}")
def backtest_report(
    services: ServicesDep,
    _: Viewer,
    run_id: Annotated[str, Path(min_length=1, max_length=64, description="Run id or prefix.")],
    period: Period = "all",
    format: Format = ReportFormat.PDF,
) -> Response:
    """The report of a stored backtest run."""
    report = services.reports.backtest_report(run_id, period)
    return report_download(services, report, format, f"backtest-{run_id[:8]}")


@router.get("/portfolios/{name}")
def portfolio_report(
    services: ServicesDep,
    _: Viewer,
    name: Annotated[str, Path(min_length=1, max_length=64)],
    period: Period = "all",
    format: Format = ReportFormat.PDF,
    strategy: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> Response:
    """The report of a portfolio from its snapshots, orders and journal."""
    report = services.reports.portfolio_report(name, period, strategy)
    return report_download(services, report, format, f"portfolio-{name}")


@router.get("/compare")
def comparison_report(
    services: ServicesDep,
    _: Viewer,
    run_id: Annotated[list[str], Query(min_length=2, max_length=12)],
    period: Period = "all",
    format: Format = ReportFormat.PDF,
) -> Response:
    """Several stored runs side by side (``?run_id=A&run_id=B``)."""
    report = services.reports.comparison_report(run_id, period)
    return report_download(services, report, format, "comparison")


def report_download(services: Services, report: Report, kind: ReportFormat, stem: str) -> Response:
    """The rendered file as an attachment (CSV files zipped into one); the web's Reports page
    answers its downloads with it too."""
    label = "".join(c if c.isalnum() or c in "-_" else "_" for c in report.period.label)
    name = f"{stem}-{label}"
    with tempfile.TemporaryDirectory(prefix="quantdesk-report-") as folder:
        target = FilePath(folder) / (name if kind is ReportFormat.CSV else f"{name}.{kind}")
        written = services.reports.write(report, kind, target)
        if kind is ReportFormat.CSV:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in written:
                    archive.write(path, f"{name}/{path.name}")
            body, filename = buffer.getvalue(), f"{name}.zip"
        else:
            body, filename = written[0].read_bytes(), written[0].name
    return Response(
        body,
        media_type=MEDIA_TYPES[kind],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
