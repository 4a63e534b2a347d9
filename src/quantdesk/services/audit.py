"""The audit log: one row per mutating call (actor, action, target, details, outcome).

Details never hold request bodies (they may carry passwords or order notes); interfaces pass
the route, the path parameters and the status only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from quantdesk.core.clock import Clock
from quantdesk.db.database import Database
from quantdesk.db.repositories import auth as auth_repo


class Outcome(StrEnum):
    OK = "ok"
    DENIED = "denied"  # not authenticated, not allowed, rate-limited, CSRF refused
    FAILED = "failed"  # the request was refused or failed after authorisation


@dataclass(frozen=True, slots=True)
class AuditView:
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    details: dict[str, str]
    outcome: Outcome
    status: int


def outcome_of(status: int) -> Outcome:
    """The outcome an HTTP status stands for."""
    if status < 400:
        return Outcome.OK
    if status in (401, 403, 429):
        return Outcome.DENIED
    return Outcome.FAILED


class AuditService:
    def __init__(self, database: Database, clock: Clock) -> None:
        self._db = database
        self._clock = clock

    def record(
        self,
        actor: str,
        action: str,
        target: str,
        outcome: Outcome,
        status: int,
        details: dict[str, str] | None = None,
    ) -> None:
        """Write one audit row in its own transaction (so it stays even if the call failed)."""
        now = self._clock.now()
        self._db.write(
            lambda connection: auth_repo.insert_audit(
                connection, now, actor, action, target, dict(details or {}), outcome.value, status
            )
        )

    def entries(self, limit: int = 50, offset: int = 0) -> list[AuditView]:
        """The newest entries first."""
        with self._db.read() as connection:
            records = auth_repo.list_audit(connection, limit, offset)
        return [
            AuditView(
                r.id,
                r.at,
                r.actor,
                r.action,
                r.target,
                {k: str(v) for k, v in r.details.items()},
                Outcome(r.outcome),
                r.status,
            )
            for r in records
        ]

    def count(self) -> int:
        with self._db.read() as connection:
            return auth_repo.count_audit(connection)
