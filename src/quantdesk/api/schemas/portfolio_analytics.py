"""Shapes of a portfolio's risk (VIX regime, drawdowns against the stop, correlation) and its
attribution by position, sector and factor. Fractions throughout (0.05 = 5%)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from quantdesk.api.schemas.common import finite
from quantdesk.services.risk import Correlation, PortfolioRisk, PositionRisk


class PositionRiskOut(BaseModel):
    """``drawdown`` = last / peak − 1 (peak: highest close since entry);
    ``distance_to_stop`` = stop distance − |drawdown|; ``pnl_fraction`` = last / cost − 1."""

    symbol: str
    weight: float | None
    entry: date | None
    peak: float | None
    last: float | None
    drawdown: float | None
    distance_to_stop: float | None
    pnl_fraction: float | None

    @classmethod
    def of(cls, row: PositionRisk) -> PositionRiskOut:
        return cls(
            symbol=row.symbol,
            weight=finite(row.weight),
            entry=row.entry,
            peak=finite(row.peak),
            last=finite(row.last),
            drawdown=finite(row.drawdown),
            distance_to_stop=finite(row.distance_to_stop),
            pnl_fraction=finite(row.pnl_fraction),
        )


class CorrelationOut(BaseModel):
    """Correlation of daily returns: ``matrix[i][j]`` for ``symbols[i]`` and ``symbols[j]``."""

    symbols: list[str]
    matrix: list[list[float | None]]
    sessions: int

    @classmethod
    def of(cls, correlation: Correlation) -> CorrelationOut:
        return cls(
            symbols=list(correlation.symbols),
            matrix=[[finite(v) for v in row] for row in correlation.matrix],
            sessions=correlation.sessions,
        )


class PortfolioRiskOut(BaseModel):
    """VIX fields are null when no ^VIX bars are stored; ``correlation`` is null with fewer
    than two holdings."""

    portfolio: str
    vix_level: float | None = Field(description="Latest ^VIX close (index points).")
    vix_date: date | None
    vix_regime: str | None
    stop_distance: float | None = Field(description="The regime's stop-loss distance.")
    positions: list[PositionRiskOut]
    correlation: CorrelationOut | None

    @classmethod
    def of(cls, result: PortfolioRisk) -> PortfolioRiskOut:
        vix = result.vix
        return cls(
            portfolio=result.portfolio,
            vix_level=finite(vix.level) if vix else None,
            vix_date=vix.at if vix else None,
            vix_regime=vix.regime.name if vix else None,
            stop_distance=vix.regime.stop if vix else None,
            positions=[PositionRiskOut.of(p) for p in result.positions],
            correlation=CorrelationOut.of(result.correlation) if result.correlation else None,
        )
