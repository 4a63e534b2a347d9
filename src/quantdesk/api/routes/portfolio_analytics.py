"""``/api/portfolios/{name}/risk`` (VIX regime, drawdowns against the stop, correlation of
holdings) and ``/api/portfolios/{name}/attribution`` (by position, sector and factor)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from quantdesk.api.deps import ServicesDep, Viewer
from quantdesk.api.schemas.portfolio_analytics import AttributionOut, PortfolioRiskOut

router = APIRouter(prefix="/portfolios", tags=["portfolios"])
PortfolioName = Annotated[str, Path(min_length=1, max_length=64, description="Portfolio name.")]


@router.get("/{name}/risk")
def portfolio_risk(services: ServicesDep, _: Viewer, name: PortfolioName) -> PortfolioRiskOut:
    """The VIX regime and its stop distance, each holding's drawdown from its peak close
    since entry and distance to the stop, and the correlation of the holdings' returns."""
    return PortfolioRiskOut.of(services.risk.portfolio_risk(name))


@router.get("/{name}/attribution")
def portfolio_attribution(
    services: ServicesDep,
    _: Viewer,
    name: PortfolioName,
    period: Annotated[
        str,
        Query(
            min_length=1,
            max_length=40,
            description="2024-03 (month), 2024-Q1 (quarter), 2024 (year), START:END or all.",
        ),
    ] = "all",
    strategy: Annotated[
        str | None, Query(min_length=1, max_length=64, description="One strategy's book.")
    ] = None,
) -> AttributionOut:
    """The period's return by position, sector and factor (the portfolio report's figures);
    422 for a period without snapshots, 404 for an unknown portfolio."""
    return AttributionOut.of(services.risk.attribution(name, period, strategy))
