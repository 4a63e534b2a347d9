"""Shapes of a portfolio's risk (VIX regime, drawdowns against the stop, correlation) and its
attribution by position, sector and factor. Fractions throughout (0.05 = 5%)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from quantdesk.api.schemas.common import finite
from quantdesk.services.attribution import Attribution
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


class PositionContributionOut(BaseModel):
    """``contribution`` = P&L / start equity; ``return`` = P&L / (start value + bought)."""

    symbol: str
    weight: float | None = Field(description="Weight at the period's end.")
    pnl: float | None
    return_: float | None = Field(alias="return", serialization_alias="return")
    contribution: float | None


class SectorContributionOut(BaseModel):
    sector: str
    positions: int
    pnl: float | None
    contribution: float | None


class FactorContributionOut(BaseModel):
    """beta × factor return (summed daily) = contribution; the ``alpha (intercept)`` and
    ``compounding`` rows have no beta."""

    factor: str
    beta: float | None
    factor_return: float | None
    contribution: float | None


class AttributionOut(BaseModel):
    """``period_return`` = Σ ``by_position`` contributions + ``residual`` (commissions, cash
    flows, rounding); ``by_factor`` is empty, with a note, when no regression was made."""

    portfolio: str
    strategy: str | None
    period: str
    start: date
    end: date
    period_return: float | None
    by_position: list[PositionContributionOut]
    residual: float | None
    by_sector: list[SectorContributionOut]
    by_factor: list[FactorContributionOut]
    factor_method: str | None
    notes: list[str]

    @classmethod
    def of(cls, result: Attribution) -> AttributionOut:
        return cls(
            portfolio=result.portfolio,
            strategy=result.strategy,
            period=result.period,
            start=result.start,
            end=result.end,
            period_return=finite(result.period_return),
            by_position=[
                PositionContributionOut.model_validate(
                    {
                        "symbol": p.symbol,
                        "weight": finite(p.weight),
                        "pnl": finite(p.pnl),
                        "return": finite(p.position_return),
                        "contribution": finite(p.contribution),
                    }
                )
                for p in result.by_position
            ],
            residual=finite(result.residual),
            by_sector=[
                SectorContributionOut(
                    sector=s.sector,
                    positions=s.positions,
                    pnl=finite(s.pnl),
                    contribution=finite(s.contribution),
                )
                for s in result.by_sector
            ],
            by_factor=[
                FactorContributionOut(
                    factor=f.factor,
                    beta=finite(f.beta),
                    factor_return=finite(f.factor_return),
                    contribution=finite(f.contribution),
                )
                for f in result.by_factor
            ],
            factor_method=result.factor_method,
            notes=list(result.notes),
        )
