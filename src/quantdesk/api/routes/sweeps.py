"""``/api/sweeps``: parameter optimisation (grid or Bayesian, optionally walk-forward) as a
background job whose progress is the share of trials done; stored sweeps with their trials."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from quantdesk.api.deps import ServicesDep, Trader, Viewer, WebServicesDep
from quantdesk.api.schemas.backtests import Sweep, SweepRequest
from quantdesk.api.schemas.common import MAX_PAGE
from quantdesk.api.schemas.jobs import Job
from quantdesk.services.backtest_optimize import TrialRecord
from quantdesk.services.jobs import JobResult, Progress

router = APIRouter(prefix="/sweeps", tags=["optimisation"])


@router.post("", status_code=status.HTTP_202_ACCEPTED)
def start_sweep(
    body: SweepRequest, services: ServicesDep, web: WebServicesDep, principal: Trader
) -> Job:
    services.backtest.strategy(body.strategy)

    def work(progress: Progress) -> JobResult:
        progress(0.0, "starting")

        def on_trial(trial: TrialRecord) -> None:
            progress(trial.done / max(trial.total, 1), f"trial {trial.done}/{trial.total}")

        outcome = services.backtest.optimize(
            body.strategy,
            grid=body.grid,
            trials=body.trials,
            walk_forward=body.walk_forward,
            executor="serial",  # the job pool is the server's parallelism
            params=body.params,
            start=body.start,
            end=body.end,
            universe=body.universe,
            seed=body.seed,
            on_trial=on_trial,
        )
        return JobResult(
            reference=outcome.sweep_id,
            summary=f"{outcome.method} sweep of {outcome.strategy}: best {outcome.best_params}",
        )

    return Job.of(web.jobs.submit("sweep", f"sweep {body.strategy}", principal.name, work))


@router.get("/{sweep_id}")
def sweep(
    sweep_id: Annotated[str, Path(min_length=1, max_length=64)],
    services: ServicesDep,
    _: Viewer,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Sweep:
    """A stored sweep (``sweep_id`` may be a unique prefix) with a page of its trials."""
    return Sweep.of(services.backtest.get_sweep(sweep_id), offset, limit)
