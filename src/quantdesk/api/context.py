"""What the HTTP interface adds to the services container: auth, audit, jobs, the event bus.

Built once per app; the jobs' thread pool is shut down with the app.
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher

from quantdesk.api.cache import ReadCache
from quantdesk.api.hosts import HostCheck
from quantdesk.services import Services
from quantdesk.services.alert_feed import AlertFeed
from quantdesk.services.alerts import AlertKind, AlertView, NewAlert, Severity
from quantdesk.services.audit import AuditService
from quantdesk.services.auth import AuthService
from quantdesk.services.events import EventBus, Topic
from quantdesk.services.jobs import JobService, JobView


@dataclass(frozen=True)
class WebServices:
    auth: AuthService
    audit: AuditService
    events: EventBus
    jobs: JobService
    cache: ReadCache
    secure_cookies: bool = False  # True when served over https
    # local mode answers these Host headers only (None: no check; see quantdesk.api.hosts)
    host_check: HostCheck | None = None

    # publishes alerts once, this process's and (once started) other processes'
    alert_feed: AlertFeed | None = None

    def start(self) -> None:
        """What runs while the app serves: the poll for alerts other processes store."""
        if self.alert_feed is not None:
            self.alert_feed.start()

    def close(self) -> None:
        if self.alert_feed is not None:
            self.alert_feed.stop()
        self.jobs.shutdown()


def build_web_services(
    services: Services,
    *,
    secure_cookies: bool = False,
    hasher: PasswordHasher | None = None,
    read_cache: bool = True,
    host_check: HostCheck | None = None,
) -> WebServices:
    """``hasher``: the argon2 parameters (default :func:`~quantdesk.services.auth.default_hasher`;
    tests pass cheaper ones). ``read_cache``: keep GET answers for a second (see
    :mod:`quantdesk.api.cache`). ``host_check``: the Host headers local mode answers
    (``quantdesk serve`` passes the loopback names at its port)."""
    events = EventBus(services.clock)
    cache = ReadCache(enabled=read_cache)
    alerts = services.alerts
    jobs = JobService(
        services.clock,
        events,
        on_finish=cache.clear,
        on_failed=lambda job: alerts.safely_raise(job_failed_alert(job)),
    )

    def published(alert: AlertView) -> None:
        cache.clear()  # another process's alert: the alert list changed under the cache
        publish_alert(events, alert)

    feed = AlertFeed(alerts, published)
    alerts.add_listener(feed.raised)
    return WebServices(
        auth=AuthService(services.database, services.clock, hasher=hasher),
        audit=AuditService(services.database, services.clock),
        events=events,
        jobs=jobs,
        cache=cache,
        secure_cookies=secure_cookies,
        host_check=host_check,
        alert_feed=feed,
    )


def job_failed_alert(job: JobView) -> NewAlert:
    return NewAlert(
        AlertKind.JOB_FAILED,
        Severity.WARNING,
        f"job {job.id} ({job.description}) failed: {job.error}",
        key=f"job-failed:{job.id}",
    )


def publish_alert(events: EventBus, alert: AlertView) -> None:
    """An ``alert`` event for the live views (the Dashboard's alert list)."""
    events.publish(
        Topic.ALERT,
        {
            "id": alert.id,
            "portfolio": alert.portfolio,
            "kind": alert.kind,
            "severity": alert.severity,
            "message": alert.message,
            "at": alert.created_at.isoformat(),
        },
    )
