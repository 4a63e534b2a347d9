"""``/api/portfolios/{portfolio}/strategies``: a portfolio's strategy books, switched on and
off. A disabled book keeps its positions and cash; strategy-driven rebalances and ``trade run``
send no order for it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from quantdesk.api.deps import ServicesDep, Trader, Viewer
from quantdesk.api.schemas.operations import Book

router = APIRouter(prefix="/portfolios/{portfolio}/strategies", tags=["strategies"])
PortfolioName = Annotated[str, Path(min_length=1, max_length=64, description="Portfolio name.")]
StrategyName = Annotated[str, Path(min_length=1, max_length=64, description="Strategy name.")]


@router.get("")
def books(portfolio: PortfolioName, services: ServicesDep, _: Viewer) -> list[Book]:
    return [Book.of(b) for b in services.portfolio_admin.books(portfolio)]


@router.post("/{name}/enable")
def enable(portfolio: PortfolioName, name: StrategyName, services: ServicesDep, _: Trader) -> Book:
    return Book.of(services.portfolio_admin.set_enabled(portfolio, name, enabled=True))


@router.post("/{name}/disable")
def disable(portfolio: PortfolioName, name: StrategyName, services: ServicesDep, _: Trader) -> Book:
    """Switch the book off: it keeps its positions; no strategy-driven orders until enabled."""
    return Book.of(services.portfolio_admin.set_enabled(portfolio, name, enabled=False))
