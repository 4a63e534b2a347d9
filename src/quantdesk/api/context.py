"""What the HTTP interface adds to the services container: auth, audit, jobs, the event bus.

Built once per app; the jobs' thread pool is shut down with the app.
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher

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


def build_web_services(
    services: Services, *, secure_cookies: bool = False, hasher: PasswordHasher | None = None
) -> WebServices:
    """``hasher``: the argon2 parameters (default :func:`~quantdesk.services.auth.default_hasher`;
    tests pass cheaper ones)."""
    events = EventBus(services.clock)
    return WebServices(
        auth=AuthService(services.database, services.clock, hasher=hasher),
        audit=AuditService(services.database, services.clock),
        events=events,
        jobs=JobService(services.clock, events),
        secure_cookies=secure_cookies,
    )
