"""Bodies of the job routes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from quantdesk.services.jobs import JobStatus, JobView


class Job(BaseModel):
    """A background job: ``progress`` is a fraction 0..1; ``reference`` names what it stored
    (a backtest run id, a sweep id); ``error`` is the one-line reason of a failure."""

    id: str
    kind: str
    description: str
    owner: str
    status: JobStatus
    progress: float
    message: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    reference: str | None
    summary: str | None
    error: str | None

    @classmethod
    def of(cls, job: JobView) -> Job:
        return cls(
            id=job.id,
            kind=job.kind,
            description=job.description,
            owner=job.owner,
            status=job.status,
            progress=job.progress,
            message=job.message,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            reference=job.result.reference if job.result else None,
            summary=job.result.summary if job.result else None,
            error=job.error,
        )
