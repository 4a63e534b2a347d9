"""``/api/alerts``: the alerts the services raised, newest first; acknowledging one (trader).
New alerts are also pushed as ``alert`` events on ``/api/events``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from quantdesk.api.deps import ServicesDep, Trader, Viewer
from quantdesk.api.schemas.alerts import Alert
from quantdesk.api.schemas.common import Page, Pagination

router = APIRouter(prefix="/alerts", tags=["alerts"])


@router.get("")
def list_alerts(
    services: ServicesDep,
    _: Viewer,
    page: Pagination,
    portfolio: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    acknowledged: Annotated[
        bool | None, Query(description="true: seen ones only; false: open ones only.")
    ] = None,
) -> Page[Alert]:
    found = services.alerts.list(
        portfolio=portfolio, acknowledged=acknowledged, limit=page.limit, offset=page.offset
    )
    return Page[Alert](
        items=[Alert.of(a) for a in found.items],
        total=found.total,
        limit=page.limit,
        offset=page.offset,
    )


@router.post("/{alert_id}/ack")
def acknowledge(
    alert_id: Annotated[int, Path(ge=1, le=2**31 - 1)], services: ServicesDep, principal: Trader
) -> Alert:
    """Mark the alert seen (by the caller); acknowledging twice keeps the first."""
    return Alert.of(services.alerts.acknowledge(alert_id, principal.name))
