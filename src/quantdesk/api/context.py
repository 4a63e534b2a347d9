"""What the HTTP interface adds to the services container: auth, audit, jobs, the event bus.

Built once per app; the jobs' thread pool is shut down with the app.
"""

from __future__ import annotations

from dataclasses import dataclass

from quantdesk.services import Services
from quantdesk.services.audit import AuditService
from quantdesk.services.auth import AuthService
from quantdesk.services.events import EventBus
from quantdesk.services.jobs import JobService


@dataclass(frozen=True)
class WebServices:
    auth: AuthService
    audit: AuditService
    events: EventBus
    jobs: JobService
    secure_cookies: bool = False  # True when served over https

    def close(self) -> None:
        self.jobs.shutdown()


def build_web_services(services: Services, *, secure_cookies: bool = False) -> WebServices:
    events = EventBus(services.clock)
    return WebServices(
        auth=AuthService(services.database, services.clock),
        audit=AuditService(services.database, services.clock),
        events=events,
        jobs=JobService(services.clock, events),
        secure_cookies=secure_cookies,
    )
