"""``/api/portfolios/{portfolio}/settings``: risk parameters and schedule (admin to change).

Each setting is read where it acts: ``drift_threshold`` by rebalance checks (drift alerts),
``min_trade_value`` by the pre-trade check, ``decision_time`` by ``trade run``."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Path

from quantdesk.api.deps import Admin, ServicesDep, Viewer
from quantdesk.api.schemas.alerts import PortfolioSettings, PortfolioSettingsIn
from quantdesk.services.portfolio_settings import SettingsUpdate, parse_decision_time

router = APIRouter(prefix="/portfolios/{portfolio}/settings", tags=["settings"])
PortfolioName = Annotated[str, Path(min_length=1, max_length=64, description="Portfolio name.")]


@router.get("")
def get_settings(portfolio: PortfolioName, services: ServicesDep, _: Viewer) -> PortfolioSettings:
    return PortfolioSettings.of(services.portfolio_settings.get(portfolio))


@router.put("")
def put_settings(
    portfolio: PortfolioName, body: PortfolioSettingsIn, services: ServicesDep, _: Admin
) -> PortfolioSettings:
    """Replace every setting (a missing or null one goes back to its default)."""
    update = SettingsUpdate(
        drift_threshold=body.drift_threshold,
        min_trade_value=None if body.min_trade_value is None else Decimal(body.min_trade_value),
        decision_time=None
        if body.decision_time is None
        else parse_decision_time(body.decision_time),
    )
    return PortfolioSettings.of(services.portfolio_settings.put(portfolio, update))
