"""Alerts: what a person should look at, stored, listed, acknowledged and pushed live.

Raised by the services where the condition is found (never by the pure domain): an order the
broker rejected, a reconciliation that found differences, drift above the portfolio's
threshold on a rebalance check, a background job that failed. Raising is idempotent: while an
alert with the same ``key`` (the condition: ``reconcile:core:position:AAA``) is open, raising
it again adds nothing; once acknowledged, the condition raises a new one. Listeners (the web
app's event bus) hear each new alert. Delivery by e-mail or chat is not part of this service.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from quantdesk.core.clock import Clock
from quantdesk.core.errors import InvalidRequestError, NotFoundError
from quantdesk.db.database import Database
from quantdesk.db.repositories import alerts as alerts_repo
from quantdesk.db.repositories import trading as trading_repo

log = logging.getLogger("quantdesk.alerts")

__all__ = ["AlertKind", "AlertPage", "AlertService", "AlertView", "NewAlert", "Severity"]


class AlertKind(StrEnum):
    ORDER_REJECTED = "order_rejected"
    RECONCILE_DIFFERENCE = "reconcile_difference"
    DRIFT = "drift"
    JOB_FAILED = "job_failed"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class NewAlert:
    """An alert to raise; ``key`` names the condition (see the module doc)."""

    kind: AlertKind
    severity: Severity
    message: str
    key: str
    portfolio: str | None = None


@dataclass(frozen=True, slots=True)
class AlertView:
    id: int
    portfolio: str | None
    kind: str
    severity: str
    message: str
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None


@dataclass(frozen=True, slots=True)
class AlertPage:
    total: int
    items: tuple[AlertView, ...]


class AlertService:
    def __init__(self, database: Database, clock: Clock) -> None:
        self._db = database
        self._clock = clock
        self._listeners: list[Callable[[AlertView], None]] = []
        self._lock = threading.Lock()

    def add_listener(self, listener: Callable[[AlertView], None]) -> None:
        """Call ``listener`` with every alert raised from now on (from any thread)."""
        with self._lock:
            self._listeners.append(listener)

    def raise_alert(self, alert: NewAlert) -> AlertView | None:
        """Store ``alert`` unless one with its key is open; the new alert, or ``None``."""
        with self._db.transaction() as connection:
            portfolio_id = None
            if alert.portfolio is not None:
                record = trading_repo.get_portfolio(connection, alert.portfolio, archived=True)
                portfolio_id = None if record is None else record.id
            # no read-then-insert: the open-key index turns a concurrent duplicate into None
            alert_id = alerts_repo.insert_open_alert(
                connection,
                portfolio_id=portfolio_id,
                kind=alert.kind.value,
                severity=alert.severity.value,
                message=alert.message[:2000],
                key=alert.key[:300],
                at=self._clock.now(),
            )
            if alert_id is None:
                return None
            stored = alerts_repo.get_alert(connection, alert_id)
        assert stored is not None
        view = _view(stored)
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(view)
            except Exception:  # a live view failing never undoes the stored alert
                log.exception("an alert listener failed on alert %s", view.id)
        return view

    def safely_raise(self, alert: NewAlert) -> None:
        """:meth:`raise_alert` for callers whose own work already succeeded: a failure to
        store the alert is logged, never turned into a failure of that work."""
        try:
            self.raise_alert(alert)
        except Exception:
            log.exception("could not raise alert %s", alert.key)

    def list(
        self,
        *,
        portfolio: str | None = None,
        acknowledged: bool | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> AlertPage:
        """Newest first; ``portfolio`` and ``acknowledged`` filter (``None``: all)."""
        if not (1 <= limit <= 1000) or offset < 0:
            raise InvalidRequestError(
                f"limit must be 1–1000 and offset >= 0, got {limit}, {offset}"
            )
        with self._db.read() as connection:
            portfolio_id = None
            if portfolio is not None:
                record = trading_repo.get_portfolio(connection, portfolio)
                if record is None:
                    raise NotFoundError(f"unknown portfolio {portfolio!r}")
                portfolio_id = record.id
            total, rows = alerts_repo.list_alerts(
                connection,
                portfolio_id=portfolio_id,
                acknowledged=acknowledged,
                limit=limit,
                offset=offset,
            )
        return AlertPage(total, tuple(_view(r) for r in rows))

    def last_id(self) -> int:
        """The highest alert id stored (0: none), where a live feed starts."""
        with self._db.read() as connection:
            return alerts_repo.last_alert_id(connection)

    def stored_after(self, alert_id: int, limit: int = 100) -> tuple[AlertView, ...]:
        """Alerts with an id above ``alert_id``, oldest first, at most ``limit`` (a live
        feed's poll; any process may have stored them)."""
        with self._db.read() as connection:
            return tuple(_view(r) for r in alerts_repo.alerts_after(connection, alert_id, limit))

    def acknowledge(self, alert_id: int, actor: str) -> AlertView:
        """Mark the alert seen by ``actor``; acknowledging twice keeps the first."""
        with self._db.transaction() as connection:
            if alerts_repo.get_alert(connection, alert_id) is None:
                raise NotFoundError(f"no alert {alert_id}")
            alerts_repo.acknowledge(connection, alert_id, self._clock.now(), actor)
            stored = alerts_repo.get_alert(connection, alert_id)
        assert stored is not None
        return _view(stored)


def _view(stored: alerts_repo.StoredAlert) -> AlertView:
    return AlertView(
        id=stored.id,
        portfolio=stored.portfolio,
        kind=stored.kind,
        severity=stored.severity,
        message=stored.message,
        created_at=stored.created_at,
        acknowledged_at=stored.acknowledged_at,
        acknowledged_by=stored.acknowledged_by,
    )
