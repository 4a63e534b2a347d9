"""``/api/orders/{client_order_id}/events``: one order's stored event log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from quantdesk.api.deps import ServicesDep, Viewer
from quantdesk.api.schemas.operations import OrderEvents

router = APIRouter(prefix="/orders", tags=["orders"])


@router.get("/{client_order_id}/events")
def order_events(
    client_order_id: Annotated[str, Path(min_length=1, max_length=64)],
    services: ServicesDep,
    _: Viewer,
    portfolio: Annotated[
        str | None, Query(min_length=1, max_length=64, description="Only this portfolio's.")
    ] = None,
) -> OrderEvents:
    """Every event of the order (submitted, accepted, fills, cancels…), oldest first, with the
    order's status after each; 404 for an unknown order id."""
    return OrderEvents.of(services.order_history.events(client_order_id, portfolio))
