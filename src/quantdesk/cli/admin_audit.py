"""Audit rows for administrative commands run from the command line (like API calls)."""

from __future__ import annotations

import getpass

from quantdesk.services import Services


def audit_cli(services: Services, action: str, target: str) -> None:
    """Record ``action`` on ``target`` by the operating-system user, outcome ok."""
    from quantdesk.services.audit import AuditService, Outcome

    AuditService(services.database, services.clock).record(
        f"cli:{getpass.getuser()}", action, target, Outcome.OK, 0, {"via": "cli"}
    )
