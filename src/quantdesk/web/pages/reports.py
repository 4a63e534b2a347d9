"""Reports: every stored backtest run and portfolio with a form choosing the period and the
format (PDF, Excel, HTML tear sheet, zip of CSV files) of its report, and a comparison of
several runs. Downloads are built by the reports service and answered as attachments the way
``/api/reports`` answers them; a period or selection the service refuses comes back to this
page as a message, never a 500."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from quantdesk.api.deps import ServicesDep, Viewer
from quantdesk.api.routes.reports import report_download
from quantdesk.reports import ReportError, ReportFormat, ReportPeriod, parse_format, parse_period
from quantdesk.services.backtest_records import RunSummary
from quantdesk.web.pages.common import USER_ERRORS
from quantdesk.web.paging import paginate
from quantdesk.web.rendering import render

router = APIRouter(include_in_schema=False)

FORMATS = (
    (ReportFormat.PDF, "PDF"),
    (ReportFormat.XLSX, "Excel"),
    (ReportFormat.HTML, "HTML tear sheet"),
    (ReportFormat.CSV, "CSV (zip)"),
)
PERIOD_HELP = "2021 (year), 2021-Q1 (quarter), 2021-03 (month), START:END (dates), or all"

LONGEST_PERIOD = 40  # characters; "2021-01-01:2021-06-30" is 21


@router.get("/reports", response_class=HTMLResponse)
def reports_page(
    request: Request,
    services: ServicesDep,
    principal: Viewer,
    page: int = 1,
    error: str | None = None,
) -> HTMLResponse:
    runs = services.backtest.list_runs()
    return render(
        request,
        principal,
        "reports.html",
        {
            "title": "Reports",
            "active": "reports",
            "page": paginate(runs, page),
            "query": {},
            "portfolios": services.trading.list_portfolios(),
            "formats": FORMATS,
            "period_help": PERIOD_HELP,
            "period_examples": period_examples(runs),
            "error": error,
        },
    )


@router.get("/reports/backtests/{run_id}")
def backtest_download(
    services: ServicesDep,
    _: Viewer,
    run_id: str,
    period: str = "all",
    format: str = "pdf",
) -> Response:
    try:
        chosen, kind = _choices(period, format)
        report = services.reports.backtest_report(run_id, chosen)
        return report_download(services, report, kind, f"backtest-{run_id[:8]}")
    except USER_ERRORS as failure:
        return _back_with(f"no report of backtest {run_id[:8]}: {failure}")


@router.get("/reports/portfolios/{name}")
def portfolio_download(
    services: ServicesDep,
    _: Viewer,
    name: str,
    period: str = "all",
    format: str = "pdf",
    strategy: str = "",
) -> Response:
    try:
        chosen, kind = _choices(period, format)
        report = services.reports.portfolio_report(name, chosen, strategy.strip() or None)
        return report_download(services, report, kind, f"portfolio-{name}")
    except USER_ERRORS as failure:
        return _back_with(f"no report of portfolio {name}: {failure}")


@router.get("/reports/compare")
def comparison_download(
    services: ServicesDep,
    _: Viewer,
    run_id: Annotated[list[str] | None, Query()] = None,
    period: str = "all",
    format: str = "pdf",
) -> Response:
    wanted = [r for r in (run_id or []) if r]
    try:
        chosen, kind = _choices(period, format)
        report = services.reports.comparison_report(wanted, chosen)
        return report_download(services, report, kind, "comparison")
    except USER_ERRORS as failure:
        return _back_with(f"no comparison report: {failure}")


def _choices(period: str, format: str) -> tuple[ReportPeriod, ReportFormat]:
    """The period and format the form chose (an empty period is ``all``)."""
    text = period.strip() or "all"
    if len(text) > LONGEST_PERIOD:
        raise ReportError(f"the period is {len(text)} characters long; use {PERIOD_HELP}")
    return parse_period(text), parse_format(format)


def _back_with(message: str) -> RedirectResponse:
    """Back to the Reports page, which shows ``message``."""
    return RedirectResponse(f"/reports?{urlencode({'error': message})}", status_code=303)


def period_examples(runs: Sequence[RunSummary]) -> list[str]:
    """Periods offered while typing: the latest run's last year, quarter and month, its whole
    span as ``START:END``, and ``all``."""
    if not runs:
        return ["all"]
    latest = max(runs, key=lambda run: run.end)
    end: date = latest.end
    quarter = (end.month - 1) // 3 + 1
    return [
        "all",
        f"{end.year}",
        f"{end.year}-Q{quarter}",
        f"{end:%Y-%m}",
        f"{latest.start.isoformat()}:{end.isoformat()}",
    ]
