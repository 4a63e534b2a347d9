"""Backtests: stored runs (paged), the run form (a background job of the API's job service,
whose progress the browser follows to the result page), one run's charts, and a side-by-side
comparison."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse

from quantdesk.analytics import drawdown_series
from quantdesk.api.deps import ServicesDep, Trader, Viewer, WebServicesDep
from quantdesk.api.security import CsrfChecked
from quantdesk.core.errors import NotFoundError, QuantdeskError
from quantdesk.services.backtest import StoredRun
from quantdesk.services.jobs import JobResult, Progress
from quantdesk.web import charts
from quantdesk.web.pages.common import USER_ERRORS
from quantdesk.web.paging import paginate
from quantdesk.web.rendering import render

router = APIRouter(include_in_schema=False)

COMPARED_METRICS = (
    ("cagr", "CAGR", "percent"),
    ("total_return", "total return", "percent"),
    ("volatility", "volatility", "percent"),
    ("sharpe_ratio", "Sharpe", "number"),
    ("sortino_ratio", "Sortino", "number"),
    ("max_drawdown", "max drawdown", "percent"),
    ("calmar_ratio", "Calmar", "number"),
    ("alpha", "alpha", "percent"),
    ("beta", "beta", "number"),
    ("win_rate", "winning days", "percent"),
    ("annual_turnover", "turnover / year", "number"),
    ("rebalances", "rebalances", "count"),
    ("trades", "round trips", "count"),
)


@router.get("/backtests", response_class=HTMLResponse)
def backtest_list(
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
        "backtests.html",
        {
            "title": "Backtests",
            "active": "backtests",
            "page": paginate(runs, page),
            "query": {},
            "strategies": [s for s in services.backtest.strategies() if s.kind == "allocation"],
            "metrics": COMPARED_METRICS,
            "error": error,
        },
    )


def _day(text: str, field: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise QuantdeskError(f"{field} must be a date YYYY-MM-DD, got {text!r}") from None


@router.post("/backtests")
def run_backtest(
    services: ServicesDep,
    web: WebServicesDep,
    principal: Trader,
    _: CsrfChecked,
    strategy: Annotated[str, Form()],
    start: Annotated[str, Form()] = "",
    end: Annotated[str, Form()] = "",
    universe: Annotated[str, Form()] = "",
    benchmark: Annotated[str, Form()] = "",
) -> RedirectResponse:
    try:
        first, last = _day(start, "start"), _day(end, "end")
        services.backtest.strategy(strategy)  # an unknown name fails here, not in the job
    except USER_ERRORS as failure:
        query = urlencode({"error": f"backtest not started: {failure}"})
        return RedirectResponse(f"/backtests?{query}", status_code=303)

    def work(progress: Progress) -> JobResult:
        progress(0.1, f"running {strategy}")
        run = services.backtest.run(
            strategy,
            start=first,
            end=last,
            universe=universe.strip() or None,
            benchmark=benchmark.strip() or None,
        )
        return JobResult(reference=run.run_id, summary=f"{run.strategy} {run.start}..{run.end}")

    job = web.jobs.submit("backtest", f"backtest {strategy}", principal.name, work)
    return RedirectResponse(f"/backtests/jobs/{job.id}", status_code=303)


@router.get("/backtests/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, web: WebServicesDep, principal: Viewer, job_id: str) -> HTMLResponse:
    """The job's progress, followed live (``/api/events``) and by polling ``/api/jobs/{id}``;
    the browser moves on to the run's page when it succeeds."""
    try:
        job = web.jobs.get(job_id)
    except NotFoundError as failure:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(failure)) from None
    return render(
        request,
        principal,
        "job.html",
        {"title": f"Job {job.id}", "active": "backtests", "job": job},
    )


@router.get("/backtests/compare", response_class=HTMLResponse)
def compare(
    request: Request,
    services: ServicesDep,
    principal: Viewer,
    ids: Annotated[list[str] | None, Query()] = None,
) -> HTMLResponse:
    wanted = [i for i in (ids or []) if i]
    context: dict[str, object] = {
        "title": "Compare backtests",
        "active": "backtests",
        "metrics": COMPARED_METRICS,
        "table": None,
        "figure": None,
        "error": None,
    }
    if len(wanted) < 2:
        context["error"] = "pick two or more runs to compare on the Backtests page"
        return render(request, principal, "compare.html", context)
    try:
        table = services.backtest.compare(wanted)
        runs = [services.backtest.get_run(run_id) for run_id in table.columns]
    except NotFoundError as failure:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(failure)) from None
    lines = [(f"{run.strategy} {run.run_id[:8]}", run.equity / run.equity.iloc[0]) for run in runs]
    figure = charts.lines(lines, y_title="growth of 1 (log scale)")
    figure["layout"]["yaxis"]["type"] = "log"
    context.update(table=table, columns=list(table.columns), figure=figure, charts=True)
    return render(request, principal, "compare.html", context)


@router.get("/backtests/{run_id}", response_class=HTMLResponse)
def backtest_detail(
    request: Request, services: ServicesDep, principal: Viewer, run_id: str
) -> HTMLResponse:
    try:
        run = services.backtest.get_run(run_id)
    except NotFoundError as failure:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(failure)) from None
    figures = run_figures(run)
    held = run.held_weights()
    latest = held.iloc[-1][held.iloc[-1] > 0].sort_values(ascending=False) if len(held) else None
    return render(
        request,
        principal,
        "backtest.html",
        {
            "title": f"Backtest {run.strategy}",
            "active": "backtests",
            "run": run,
            "metrics": COMPARED_METRICS,
            "figures": figures,
            "charts": True,
            "latest_weights": latest,
            "latest_date": held.index[-1] if len(held) else None,
        },
    )


def run_figures(run: StoredRun) -> dict[str, object]:
    """Equity beside the benchmark bought with the same start value, and the drawdown."""
    equity = run.equity.astype("float64")
    lines = [(run.strategy, equity)]
    benchmark = run.series["benchmark"].astype("float64")
    if benchmark.notna().any():
        first = benchmark.dropna().iloc[0]
        lines.append((f"{run.benchmark} (same start value)", benchmark / first * equity.iloc[0]))
    equity_figure = charts.lines(lines, y_title="equity (log scale)")
    equity_figure["layout"]["yaxis"]["type"] = "log"
    returns = run.returns.astype("float64")
    figures: dict[str, object] = {"equity": equity_figure}
    if len(returns.dropna()) >= 2:
        figures["drawdown"] = charts.lines(
            [("drawdown", drawdown_series(returns))], y_title="drawdown", percent=True, fill=True
        )
    return figures
