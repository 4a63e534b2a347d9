"""``/api/jobs``: background jobs (backtests, sweeps, data updates) and their progress.

Jobs run in a thread pool inside the server process and are kept in memory: a restart
forgets them (what they stored, such as backtest runs, stays in the database)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from quantdesk.api.deps import Viewer, WebServicesDep
from quantdesk.api.schemas.common import Page, Pagination
from quantdesk.api.schemas.jobs import Job

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("")
def list_jobs(web: WebServicesDep, _: Viewer, page: Pagination) -> Page[Job]:
    jobs = web.jobs.list(limit=page.limit, offset=page.offset)
    return Page[Job](
        items=[Job.of(j) for j in jobs],
        total=web.jobs.count(),
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/{job_id}")
def job(
    job_id: Annotated[str, Path(min_length=1, max_length=64)], web: WebServicesDep, _: Viewer
) -> Job:
    return Job.of(web.jobs.get(job_id))
