"""A portfolio's (or one strategy book's) return over a period split by position, sector and
factor, read from the portfolio report the reports service builds, so the API's figures are
the report's to the last digit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from quantdesk.analytics.attribution import PositionAttribution

if TYPE_CHECKING:
    from quantdesk.reports import Report


@dataclass(frozen=True, slots=True)
class PositionShare:
    """``weight``: the end weight; ``return``: P&L / (start value + bought), None when
    nothing was held or bought; ``contribution``: P&L / start equity (fractions)."""

    symbol: str
    weight: float
    pnl: float
    position_return: float | None
    contribution: float


@dataclass(frozen=True, slots=True)
class SectorShare:
    sector: str
    positions: int
    pnl: float
    contribution: float


@dataclass(frozen=True, slots=True)
class FactorShare:
    """``beta`` × ``factor_return`` (the factor's daily returns summed) = ``contribution``;
    ``alpha (intercept)`` and ``compounding`` rows carry only a contribution."""

    factor: str
    beta: float | None
    factor_return: float | None
    contribution: float


@dataclass(frozen=True, slots=True)
class Attribution:
    """``period_return`` (time-weighted) = Σ position contributions + ``residual``
    (commissions, cash flows, rounding). ``by_position`` is empty (and a note says why) when
    the period starts with no equity; ``by_factor`` when no factor regression was made."""

    portfolio: str
    strategy: str | None
    period: str
    start: date
    end: date
    period_return: float | None
    by_position: tuple[PositionShare, ...]
    residual: float | None
    by_sector: tuple[SectorShare, ...]
    by_factor: tuple[FactorShare, ...]
    factor_method: str | None
    notes: tuple[str, ...]


def attribution_of(report: Report, portfolio: str, strategy: str | None) -> Attribution:
    """The attribution parts of a portfolio report."""
    parts = report.extra.get("attribution")
    positions = parts if isinstance(parts, PositionAttribution) else None
    first, last = report.period.bounds
    notes = list(report.notes)
    period_return = report.metric("total_return").period if _has(report, "total_return") else None
    if positions is not None:
        period_return = positions.period_return
    factors = report.table("attribution_factors")  # the report's notes say why it is missing
    sectors = report.table("attribution_sectors")
    return Attribution(
        portfolio=portfolio,
        strategy=strategy,
        period=report.period.label,
        start=first,
        end=last,
        period_return=period_return,
        by_position=tuple(
            PositionShare(
                symbol=p.symbol,
                weight=p.end_weight,
                pnl=p.pnl,
                position_return=p.pnl / (p.start_value + p.bought)
                if p.start_value + p.bought > 0
                else None,
                contribution=p.contribution,
            )
            for p in (positions.positions if positions else ())
        ),
        residual=positions.residual if positions else None,
        by_sector=tuple(
            SectorShare(str(row[0]), int(row[1]), float(row[2]), float(row[3]))
            for row in (sectors.rows if sectors else ())
        ),
        by_factor=tuple(
            FactorShare(str(row[0]), _float(row[1]), _float(row[2]), float(row[3]))
            for row in (factors.rows if factors else ())
        ),
        factor_method=factors.note if factors else None,
        notes=tuple(notes),
    )


def _has(report: Report, key: str) -> bool:
    return any(m.key == key for m in report.metrics)


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
