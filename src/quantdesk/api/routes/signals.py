"""``/api/scores`` and ``/api/signals``: score computation (a background job) and stored
signals; the sector-momentum signal is computed and stored on request."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from quantdesk.api.deps import ServicesDep, Trader, Viewer, WebServicesDep
from quantdesk.api.schemas.common import MAX_PAGE
from quantdesk.api.schemas.jobs import Job
from quantdesk.api.schemas.research import Signals, signal_rows
from quantdesk.research.inputs import ScoreSet
from quantdesk.services.jobs import JobResult, Progress

router = APIRouter(tags=["scores and signals"])


@router.post("/scores/compute", status_code=status.HTTP_202_ACCEPTED)
def compute_scores(
    services: ServicesDep,
    web: WebServicesDep,
    principal: Trader,
    score_set: ScoreSet = ScoreSet.MOMENTUM_COMPOSITE,
) -> Job:
    """Compute and store the latest scores when stale (as ``quantdesk scores``), in the
    background."""

    def work(progress: Progress) -> JobResult:
        progress(0.1, f"scoring {score_set.value}")
        snapshot = services.research.current_scores(score_set)
        return JobResult(
            reference=None if snapshot.date is None else snapshot.date.isoformat(),
            summary=snapshot.note or f"{score_set.value} scored on {snapshot.date}",
        )

    return Job.of(web.jobs.submit("scores", f"scores {score_set.value}", principal.name, work))


@router.post("/signals/sector-momentum")
def sector_momentum(
    services: ServicesDep,
    _: Trader,
    top_n: Annotated[int, Query(ge=1, le=50)] = 3,
    on: Annotated[date | None, Query(alias="date")] = None,
) -> Signals:
    """Compute and store the 12-1 sector-rotation signal, then return what is stored."""
    result = services.research.sector_momentum_signal(on, top_n=top_n)
    frame = services.research.signals("sector-rotation", result.date)
    return Signals(strategy="sector-rotation", signals=signal_rows(frame), total=len(frame))


@router.get("/signals/{strategy}")
def stored_signals(
    strategy: Annotated[str, Path(min_length=1, max_length=100)],
    services: ServicesDep,
    _: Viewer,
    on: Annotated[date | None, Query(alias="date")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Signals:
    """Stored signals of ``strategy`` (on ``date``, or every date)."""
    frame = services.research.signals(strategy, on)
    window = frame.iloc[offset : offset + limit]
    return Signals(strategy=strategy, signals=signal_rows(window), total=len(frame))
