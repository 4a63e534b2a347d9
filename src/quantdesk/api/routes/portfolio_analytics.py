"""``/api/portfolios/{name}/risk`` (VIX regime, drawdowns against the stop, correlation of
holdings) and ``/api/portfolios/{name}/attribution`` (by position, sector and factor)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from quantdesk.api.deps import ServicesDep, Viewer
from quantdesk.api.schemas.portfolio_analytics import PortfolioRiskOut

router = APIRouter(prefix="/portfolios", tags=["portfolios"])
PortfolioName = Annotated[str, Path(min_length=1, max_length=64, description="Portfolio name.")]


@router.get("/{name}/risk")
def portfolio_risk(services: ServicesDep, _: Viewer, name: PortfolioName) -> PortfolioRiskOut:
    """The VIX regime and its stop distance, each holding's drawdown from its peak close
    since entry and distance to the stop, and the correlation of the holdings' returns."""
    return PortfolioRiskOut.of(services.risk.portfolio_risk(name))
