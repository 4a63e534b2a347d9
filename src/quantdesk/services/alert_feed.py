"""The live feed of alerts of one server: those its own services raise, and those another
process stored (``quantdesk trade run``, a reconcile from the command line), picked up by
polling the alerts table for ids above the last seen.

Each alert reaches ``publish`` once: an alert raised in this process is published at once by
:meth:`AlertFeed.raised` (its listener) and skipped when the poll reads it; one the poll reads
first is skipped by the listener. The poll is one indexed query (``id > last``, primary key)
every ``interval_seconds``. An alert of another process whose transaction commits after a
later id was already read is not pushed (PostgreSQL hands out ids before commit); it is still
listed by ``GET /api/alerts``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from quantdesk.services.alerts import AlertService, AlertView

log = logging.getLogger("quantdesk.alerts")

__all__ = ["POLL_SECONDS", "AlertFeed"]

POLL_SECONDS = 1.0
KEEP_POLLED = 1000  # the listener hears its own alerts within milliseconds of the commit


class AlertFeed:
    """Publishes every new alert once; :meth:`start` polls for other processes' alerts."""

    def __init__(
        self,
        alerts: AlertService,
        publish: Callable[[AlertView], None],
        *,
        interval_seconds: float = POLL_SECONDS,
    ) -> None:
        self._alerts = alerts
        self._publish = publish
        self._interval = interval_seconds
        self._lock = threading.Lock()
        self._last_seen: int | None = None  # None: not polling
        self._published: set[int] = set()  # by the listener, not read by the poll yet
        self._polled: set[int] = set()  # by the poll, not heard by the listener yet
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def raised(self, alert: AlertView) -> None:
        """The listener of this process's :class:`AlertService`: publish unless polled."""
        with self._lock:
            if self._last_seen is not None:
                if alert.id in self._polled:
                    self._polled.discard(alert.id)
                    return
                if alert.id > self._last_seen:
                    self._published.add(alert.id)
        self._safely_publish(alert)

    def start(self) -> None:
        """Start polling from the newest stored alert (idempotent)."""
        with self._lock:
            if self._thread is not None:
                return
            self._last_seen = self._alerts.last_id()
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name="quantdesk-alert-feed", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join(timeout=10)

    def poll_once(self) -> int:
        """Publish the alerts stored since the last poll that this process did not raise;
        how many were published."""
        with self._lock:
            last = self._last_seen
        if last is None:
            return 0
        fresh: list[AlertView] = []
        for alert in self._alerts.stored_after(last):
            with self._lock:
                self._last_seen = max(self._last_seen or 0, alert.id)
                if alert.id in self._published:
                    self._published.discard(alert.id)
                    continue
                self._polled.add(alert.id)
                if len(self._polled) > KEEP_POLLED:  # another process's: never heard here
                    self._polled.discard(min(self._polled))
            fresh.append(alert)
        for alert in fresh:
            self._safely_publish(alert)
        return len(fresh)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.poll_once()
            except Exception:  # a failed poll (database away) is retried at the next tick
                log.exception("polling for new alerts failed")

    def _safely_publish(self, alert: AlertView) -> None:
        try:
            self._publish(alert)
        except Exception:  # a live view failing never undoes the stored alert
            log.exception("publishing alert %s failed", alert.id)
