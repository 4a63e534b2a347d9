"""``/api/risk``: the VIX history, each close with its regime (a portfolio's stop dashboard is
``/api/portfolios/{name}/risk``)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter

from quantdesk.api.deps import ServicesDep, Viewer
from quantdesk.api.schemas.research import VixHistory, VixPoint
from quantdesk.core.errors import InvalidRequestError
from quantdesk.services.risk import VIX_SYMBOL

router = APIRouter(prefix="/risk", tags=["risk"])


@router.get("/vix")
def vix_history(
    services: ServicesDep, _: Viewer, start: date | None = None, end: date | None = None
) -> VixHistory:
    """Daily ^VIX closes (index points) with their regime (calm / elevated / stressed, the
    bands that set the stop distance); 404 when no ^VIX bars are stored."""
    if start and end and start > end:
        raise InvalidRequestError(f"start {start} is after end {end}")
    return VixHistory(
        symbol=VIX_SYMBOL,
        points=[
            VixPoint(date=p.day, close=p.close, regime=p.regime)
            for p in services.risk.vix_history(start, end)
        ],
    )
