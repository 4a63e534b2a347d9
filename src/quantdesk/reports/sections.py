"""Report tables built from analytics results (positions, trades, TCA, attribution), shared by
every subject so a backtest and a portfolio report read alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from quantdesk.analytics.attribution import (
    FactorAttribution,
    PositionAttribution,
    SectorContribution,
)
from quantdesk.analytics.tca import TcaReport
from quantdesk.reports.model import Column, ColumnFormat, Table

F = ColumnFormat


@dataclass(frozen=True, slots=True)
class Holding:
    """A position at the period's end: shares, mark (currency), weight (fraction)."""

    symbol: str
    quantity: float
    price: float
    market_value: float
    weight: float


@dataclass(frozen=True, slots=True)
class TradeLine:
    """One fill in the period; ``slippage_bp`` against the reference price (+ = cost)."""

    day: date
    symbol: str
    side: str
    quantity: float
    price: float
    reference_price: float | None
    slippage_bp: float | None
    commission: float | None
    strategy: str = ""


def positions_table(
    holdings: Sequence[Holding],
    attribution: PositionAttribution | None,
    sectors: Mapping[str, str | None],
    end: date,
) -> Table:
    pnl = {p.symbol: p for p in attribution.positions} if attribution else {}
    rows = []
    for h in sorted(holdings, key=lambda h: -h.market_value):
        row = pnl.get(h.symbol)
        rows.append(
            (
                h.symbol,
                sectors.get(h.symbol) or "",
                h.quantity,
                h.price,
                h.market_value,
                h.weight,
                None if row is None else row.pnl,
                None if row is None else row.contribution,
            )
        )
    columns = (
        Column("symbol", "Symbol"),
        Column("sector", "Sector"),
        Column("quantity", "Quantity", F.NUMBER),
        Column("price", "Price", F.CURRENCY),
        Column("market_value", "Market value", F.CURRENCY),
        Column("weight", "Weight", F.PERCENT),
        Column("pnl", "Period P&L", F.CURRENCY),
        Column("contribution", "Contribution", F.PERCENT),
    )
    return Table.of("positions", f"Positions at {end.isoformat()}", columns, rows)


def trades_table(lines: Sequence[TradeLine], reference: str) -> Table:
    columns = (
        Column("date", "Date", F.DATE),
        Column("symbol", "Symbol"),
        Column("side", "Side"),
        Column("quantity", "Quantity", F.NUMBER),
        Column("price", "Fill price", F.CURRENCY),
        Column("notional", "Notional", F.CURRENCY),
        Column("reference_price", "Reference", F.CURRENCY),
        Column("slippage_bp", "Slippage (bp)", F.BP),
        Column("commission", "Commission", F.CURRENCY),
    )
    rows = [
        (
            t.day,
            t.symbol,
            t.side,
            t.quantity,
            t.price,
            abs(t.quantity) * t.price,
            t.reference_price,
            t.slippage_bp,
            t.commission,
        )
        for t in lines
    ]
    note = f"Slippage in basis points against {reference}; positive = cost."
    if any(t.commission is None for t in lines):
        note += " Commissions are charged per order and shown in the portfolio's totals."
    return Table.of("trades", "Trades in the period", columns, rows, note)


def tca_table(report: TcaReport) -> Table:
    columns = (
        Column("group", "Group"),
        Column("orders", "Orders", F.INTEGER),
        Column("mean_bp", "Mean (bp)", F.BP),
        Column("median_bp", "Median (bp)", F.BP),
        Column("std_bp", "Std (bp)", F.BP),
        Column("min_bp", "Min (bp)", F.BP),
        Column("max_bp", "Max (bp)", F.BP),
        Column("weighted_mean_bp", "Notional-weighted (bp)", F.BP),
        Column("outliers", "Outliers", F.INTEGER),
        Column("notional", "Notional", F.CURRENCY),
    )
    rows = [
        (
            s.group,
            s.orders,
            s.mean_bp,
            s.median_bp,
            s.std_bp,
            s.min_bp,
            s.max_bp,
            s.weighted_mean_bp,
            s.outliers,
            s.notional,
        )
        for s in (report.overall, *report.groups)
    ]
    return Table.of(
        "tca",
        "Transaction costs (slippage vs arrival)",
        columns,
        rows,
        "Outliers: orders more than 2 standard deviations from the mean slippage.",
    )


def position_attribution_table(attribution: PositionAttribution) -> Table:
    columns = (
        Column("symbol", "Symbol"),
        Column("start_value", "Start value", F.CURRENCY),
        Column("bought", "Bought", F.CURRENCY),
        Column("sold", "Sold", F.CURRENCY),
        Column("end_value", "End value", F.CURRENCY),
        Column("pnl", "P&L", F.CURRENCY),
        Column("contribution", "Contribution", F.PERCENT),
    )
    rows: list[tuple[object, ...]] = [
        (p.symbol, p.start_value, p.bought, p.sold, p.end_value, p.pnl, p.contribution)
        for p in attribution.positions
    ]
    note = (
        f"Contributions = position P&L / start equity ({attribution.start_equity:,.2f}); they "
        f"sum to {100 * attribution.total_contribution:.4f}% against a period return of "
        f"{100 * attribution.period_return:.4f}%. Residual {100 * attribution.residual:.4f}%"
        + (
            f", of which commissions {-100 * attribution.costs / attribution.start_equity:.4f}%;"
            f" the rest ({100 * attribution.unexplained:.4f}%) is cash flows and rounding."
            if attribution.costs
            else ": commissions, deposits/withdrawals and rounding."
        )
    )
    return Table.of("attribution_positions", "Attribution by position", columns, rows, note)


def sector_attribution_table(sectors: Sequence[SectorContribution]) -> Table:
    columns = (
        Column("sector", "Sector"),
        Column("positions", "Positions", F.INTEGER),
        Column("pnl", "P&L", F.CURRENCY),
        Column("contribution", "Contribution", F.PERCENT),
    )
    rows = [(s.sector, s.positions, s.pnl, s.contribution) for s in sectors]
    return Table.of("attribution_sectors", "Attribution by sector", columns, rows)


def factor_attribution_table(result: FactorAttribution) -> Table:
    columns = (
        Column("factor", "Factor"),
        Column("beta", "Beta", F.RATIO),
        Column("factor_return", "Factor return (sum)", F.PERCENT),
        Column("contribution", "Contribution", F.PERCENT),
    )
    rows: list[tuple[object, ...]] = [
        (e.factor, e.beta, e.factor_return, e.contribution) for e in result.exposures
    ]
    rows.append(("alpha (intercept)", None, None, result.alpha_contribution))
    rows.append(("compounding", None, None, result.compounding))
    note = (
        f"OLS of {result.observations} daily returns on daily factor returns, R² "
        f"{result.r_squared:.2f}. Alpha + factor contributions = the sum of daily returns "
        f"({100 * result.summed_return:.2f}%); + compounding = the period return "
        f"({100 * result.compounded_return:.2f}%)."
    )
    return Table.of("attribution_factors", "Attribution by factor", columns, rows, note)
