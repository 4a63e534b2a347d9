"""Background jobs: long work (backtests, sweeps, data updates) run in a thread pool inside the
server process, with status and progress readable and published on the event bus.

Jobs live in memory: a server restart forgets queued and running ones (their results, such as
stored backtest runs, are in the database and stay). The newest :data:`KEPT_JOBS` are kept.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from quantdesk.core.clock import Clock
from quantdesk.core.errors import NotFoundError, QuantdeskError
from quantdesk.services.events import EventBus, Topic

log = logging.getLogger(__name__)

KEPT_JOBS = 500
DEFAULT_WORKERS = 2


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED)


@dataclass(frozen=True, slots=True)
class JobResult:
    """What a finished job produced: ``reference`` names the stored result (a run id, a sweep
    id), ``summary`` is one line for people."""

    reference: str | None = None
    summary: str = ""


@dataclass(frozen=True, slots=True)
class JobView:
    """A job's state. ``progress`` is a fraction 0..1; ``error`` is the one-line reason of a
    failed job (a domain error's message; "internal error" for anything unexpected)."""

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
    result: JobResult | None
    error: str | None


Progress = Callable[[float, str], None]
"""What a job's work calls to report progress: (fraction 0..1, message)."""


class JobService:
    def __init__(
        self,
        clock: Clock,
        events: EventBus,
        *,
        workers: int = DEFAULT_WORKERS,
        on_finish: Callable[[], None] | None = None,
        on_failed: Callable[[JobView], None] | None = None,
    ) -> None:
        """``on_finish`` is called after each job ends (e.g. to drop cached reads of what
        the job stored); ``on_failed`` with each job that failed (e.g. to raise an alert)."""
        self._on_finish = on_finish
        self._on_failed = on_failed
        self._clock = clock
        self._events = events
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="quantdesk-job")
        self._jobs: OrderedDict[str, JobView] = OrderedDict()
        self._lock = threading.Lock()
        self._sequence = itertools.count(1)

    def submit(
        self, kind: str, description: str, owner: str, work: Callable[[Progress], JobResult]
    ) -> JobView:
        """Queue ``work``; it gets a progress callback and returns a :class:`JobResult`."""
        job_id = f"{next(self._sequence):06d}-{secrets.token_hex(4)}"
        job = JobView(
            id=job_id,
            kind=kind,
            description=description,
            owner=owner,
            status=JobStatus.QUEUED,
            progress=0.0,
            message="queued",
            created_at=self._clock.now(),
            started_at=None,
            finished_at=None,
            result=None,
            error=None,
        )
        with self._lock:
            self._jobs[job_id] = job
            while len(self._jobs) > KEPT_JOBS:
                self._jobs.popitem(last=False)
        self._publish(job)
        self._pool.submit(self._run, job_id, work)
        return job

    def get(self, job_id: str) -> JobView:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise NotFoundError(f"no job {job_id!r} (jobs are kept in memory until a restart)")
        return job

    def list(self, limit: int = 50, offset: int = 0) -> list[JobView]:
        """Newest first."""
        with self._lock:
            jobs = list(reversed(self._jobs.values()))
        return jobs[offset : offset + limit]

    def count(self) -> int:
        with self._lock:
            return len(self._jobs)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- internals -----------------------------------------------------------------------------
    def _run(self, job_id: str, work: Callable[[Progress], JobResult]) -> None:
        self._update(job_id, status=JobStatus.RUNNING, message="running", started_at=self._now())

        def progress(fraction: float, message: str) -> None:
            self._update(job_id, progress=min(max(float(fraction), 0.0), 1.0), message=message)

        result: JobResult | None = None
        error: str | None = None
        try:
            result = work(progress)
        except QuantdeskError as failure:
            error = str(failure.args[0] if failure.args else failure)
        except Exception:
            # the traceback goes to the log only; the job shows one line
            log.exception("job %s failed", job_id)
            error = "internal error; see the server log"
        if self._on_finish is not None:
            self._on_finish()  # before the job reads as finished: its results are visible
        if error is None:
            self._finish(job_id, JobStatus.SUCCEEDED, result=result)
        else:
            self._finish(job_id, JobStatus.FAILED, error=error)
            if self._on_failed is not None:
                self._on_failed(self.get(job_id))

    def _finish(
        self,
        job_id: str,
        status: JobStatus,
        *,
        result: JobResult | None = None,
        error: str | None = None,
    ) -> None:
        self._update(
            job_id,
            status=status,
            progress=1.0 if status is JobStatus.SUCCEEDED else None,
            message=status.value,
            finished_at=self._now(),
            result=result,
            error=error,
        )

    def _update(self, job_id: str, **changes: object) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return
            job = replace(job, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]
            self._jobs[job_id] = job
        self._publish(job)

    def _publish(self, job: JobView) -> None:
        self._events.publish(
            Topic.JOB,
            {
                "id": job.id,
                "kind": job.kind,
                "status": job.status.value,
                "progress": job.progress,
                "message": job.message,
                "reference": job.result.reference if job.result else None,
                "error": job.error,
            },
        )

    def _now(self) -> datetime:
        return self._clock.now()
