"""``/api/backtests``: stored runs (list, detail, compare, delete) and new runs as background
jobs (``POST`` answers 202 with the job; its ``reference`` is the run id when done)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from quantdesk.api.deps import ServicesDep, Trader, Viewer, WebServicesDep
from quantdesk.api.schemas.backtests import (
    BacktestDetail,
    BacktestRequest,
    BacktestSummary,
    Comparison,
)
from quantdesk.api.schemas.common import Page, Pagination, finite, paginate
from quantdesk.api.schemas.jobs import Job
from quantdesk.core.errors import InvalidRequestError
from quantdesk.services.jobs import JobResult, Progress

router = APIRouter(prefix="/backtests", tags=["backtests"])
RunId = Annotated[str, Path(min_length=1, max_length=64, description="Run id or unique prefix.")]


@router.get("")
def list_runs(services: ServicesDep, _: Viewer, page: Pagination) -> Page[BacktestSummary]:
    return paginate([BacktestSummary.of(r) for r in services.backtest.list_runs()], page)


@router.post("", status_code=status.HTTP_202_ACCEPTED)
def run_backtest(
    body: BacktestRequest, services: ServicesDep, web: WebServicesDep, principal: Trader
) -> Job:
    """Start a backtest in the background; follow it at ``/api/jobs/{id}`` or on
    ``/api/events``."""
    services.backtest.strategy(body.strategy)  # an unknown strategy is a 404 now, not a job

    def work(progress: Progress) -> JobResult:
        progress(0.1, f"running {body.strategy}")
        run = services.backtest.run(
            body.strategy,
            body.params,
            start=body.start,
            end=body.end,
            universe=body.universe,
            benchmark=body.benchmark,
            engine=body.engine,
            initial_cash=body.initial_cash,
        )
        sharpe = finite(run.metrics.get("sharpe"))
        return JobResult(
            reference=run.run_id,
            summary=f"{run.strategy} {run.start}..{run.end}: final equity "
            f"{run.final_equity:,.0f}" + (f", Sharpe {sharpe:.2f}" if sharpe is not None else ""),
        )

    job = web.jobs.submit("backtest", f"backtest {body.strategy}", principal.name, work)
    return Job.of(job)


@router.get("/compare")
def compare(
    services: ServicesDep,
    _: Viewer,
    ids: Annotated[list[str], Query(min_length=1, max_length=20, description="Run ids.")],
) -> Comparison:
    frame = services.backtest.compare(ids)
    labels: dict[str, list[str]] = {}
    figures: dict[str, list[float | None]] = {}
    for name, row in frame.iterrows():
        values = list(row)
        if all(isinstance(v, str) for v in values):
            labels[str(name)] = [str(v) for v in values]
        else:
            figures[str(name)] = [finite(v) for v in values]
    return Comparison(runs=[str(c) for c in frame.columns], labels=labels, metrics=figures)


@router.get("/{run_id}")
def run_detail(run_id: RunId, services: ServicesDep, _: Viewer) -> BacktestDetail:
    return BacktestDetail.of(services.backtest.get_run(run_id))


@router.delete("/{run_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_run(run_id: RunId, services: ServicesDep, _: Trader) -> None:
    if len(run_id) < 4:
        raise InvalidRequestError("give at least 4 characters of the run id to delete it")
    services.backtest.delete_run(run_id)
