"""Background work started from a page (a backtest run), with status a page can poll.

Until the API's job service is installed this small runner keeps the jobs of this process on
``app.state`` (never a module global): one worker thread per job, status readable at
``/backtests/jobs/{id}``. Progress is by stage (queued → running → done) because the backtest
service reports none of its own.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from quantdesk.core.clock import Clock
from quantdesk.core.errors import QuantdeskError

MAX_KEPT = 50  # finished jobs remembered, oldest dropped first


@dataclass(frozen=True, slots=True)
class Job:
    """``progress`` is a fraction (0–1); ``result_url`` the page of the result once done."""

    id: str
    kind: str
    status: str  # queued | running | done | failed
    progress: float
    message: str
    created_at: datetime
    result_url: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "progress": self.progress,
            "message": self.message,
            "created_at": self.created_at.isoformat(),
            "result_url": self.result_url,
        }


class JobRunner:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(self, kind: str, work: Callable[[], str], description: str) -> Job:
        """Run ``work`` in a thread; it returns the URL of its result. A
        :class:`QuantdeskError` or ``ValueError`` ends the job as failed with its message."""
        job = Job(uuid.uuid4().hex[:12], kind, "queued", 0.05, description, self._clock.now())
        self._set(job)
        thread = threading.Thread(target=self._run, args=(job, work), daemon=True)
        thread.start()
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def _run(self, job: Job, work: Callable[[], str]) -> None:
        self._set(replace(job, status="running", progress=0.3, message=f"{job.message}: running"))
        try:
            url = work()
        except (QuantdeskError, ValueError) as error:
            self._set(replace(job, status="failed", progress=1.0, message=str(error)))
            return
        except Exception as error:
            self._set(
                replace(job, status="failed", progress=1.0, message=f"unexpected error: {error}")
            )
            raise
        self._set(replace(job, status="done", progress=1.0, message="finished", result_url=url))

    def _set(self, job: Job) -> None:
        with self._lock:
            self._jobs[job.id] = job
            excess = len(self._jobs) - MAX_KEPT
            if excess > 0:
                finished = [j for j in self._jobs.values() if j.status in ("done", "failed")]
                for old in sorted(finished, key=lambda j: j.created_at)[:excess]:
                    del self._jobs[old.id]
