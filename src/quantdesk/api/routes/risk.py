"""``/api/risk``: the VIX history (the regime bands and stop dashboard land with the risk
issue, on this same router)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter

from quantdesk.api.deps import ServicesDep, Viewer
from quantdesk.api.schemas.common import finite
from quantdesk.api.schemas.research import VixHistory, VixPoint, to_date
from quantdesk.core.errors import InvalidRequestError

router = APIRouter(prefix="/risk", tags=["risk"])
VIX = "^VIX"


@router.get("/vix")
def vix_history(
    services: ServicesDep, _: Viewer, start: date | None = None, end: date | None = None
) -> VixHistory:
    """Daily ^VIX closes (index points); 404 when no ^VIX bars are stored."""
    if start and end and start > end:
        raise InvalidRequestError(f"start {start} is after end {end}")
    frame = services.data.get_bars(VIX, start, end)
    return VixHistory(
        symbol=VIX,
        points=[
            VixPoint(date=to_date(row["ts"]), close=finite(row["close"]))
            for row in frame.to_dict("records")
        ],
    )
