"""``/api/strategies``: the registered strategies and their parameter schemas.

Enabling or disabling a strategy on a portfolio has no service yet; it is left to the issue
that adds strategy allocation controls."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from quantdesk.api.deps import ServicesDep, Viewer
from quantdesk.api.schemas.backtests import Strategy

router = APIRouter(prefix="/strategies", tags=["strategies"])


@router.get("")
def list_strategies(services: ServicesDep, _: Viewer) -> list[Strategy]:
    return [Strategy.of(info) for info in services.backtest.strategies()]


@router.get("/{name}")
def strategy(
    name: Annotated[str, Path(min_length=1, max_length=64)], services: ServicesDep, _: Viewer
) -> Strategy:
    return Strategy.of(services.backtest.strategy(name))
