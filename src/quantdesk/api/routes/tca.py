"""``/api/tca``: transaction-cost analysis of filled orders (slippage in basis points)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from quantdesk.analytics.tca import TcaGrouping
from quantdesk.api.deps import ServicesDep, Viewer
from quantdesk.api.schemas.trading import Tca

router = APIRouter(tags=["tca"])


@router.get("/tca")
def tca(
    services: ServicesDep,
    _: Viewer,
    portfolio: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    by: TcaGrouping | None = None,
) -> Tca:
    """Slippage of one portfolio's filled orders (or every portfolio's), optionally grouped by
    symbol, strategy or month."""
    return Tca.of(services.trading.tca(portfolio, by))
