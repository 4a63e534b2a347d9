"""The report model of a paper or live portfolio over a period, from its daily snapshots
(equity, positions), filled orders (trades, TCA) and journal (commentary).

A strategy's sub-ledger is reported from its own book snapshots (the book's value: its
positions at the close plus its cash, stored with each portfolio snapshot): its returns,
drawdown, metrics, positions and attribution are the book's; trades, TCA and commentary are
those of its orders. Position attribution uses the book's own fills (a netted order's share,
internal crosses), whose commissions are the documented residual.

Returns are the time-weighted daily returns of the snapshots (deposits and withdrawals taken
out, :func:`trading_book.time_weighted_returns`); a period's starting point is the last
snapshot before it (or, from inception, its first snapshot).
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from quantdesk.analytics.attribution import (
    TradeFlow,
    position_attribution,
    sector_attribution,
)
from quantdesk.analytics.tca import OrderPrices, TcaGrouping, analyse
from quantdesk.core.enums import AssetClass
from quantdesk.db.database import Database
from quantdesk.execution import Fill
from quantdesk.reports.model import Annotation, Report, SubjectKind, Table
from quantdesk.reports.performance import performance
from quantdesk.reports.period import ReportError, ReportPeriod
from quantdesk.reports.sections import (
    Holding,
    TradeLine,
    position_attribution_table,
    positions_table,
    sector_attribution_table,
    tca_table,
    trades_table,
)
from quantdesk.services import reports_inputs as inputs
from quantdesk.services.data import DataService
from quantdesk.services.reports_subject import book_orders, fill_day, subject_history
from quantdesk.services.research import ResearchService
from quantdesk.services.trading import TradingService
from quantdesk.services.trading_book import snapshot_view, time_weighted_returns
from quantdesk.services.trading_types import JournalView, OrderView

JOURNAL_FIELDS = (
    "thesis",
    "intended_entry",
    "sizing_rationale",
    "exit_plan",
    "outcome",
    "lesson",
)


def portfolio_report(  # noqa: PLR0915 (one report, assembled in order)
    database: Database,
    trading: TradingService,
    data: DataService,
    name: str,
    period: ReportPeriod,
    strategy: str | None,
    generated_at: datetime,
    research: ResearchService | None = None,
) -> Report:
    """``research``: the stored score sets, for attribution by factor (left out without it)."""
    view = trading.get_portfolio(name)  # an unknown name is an error naming it
    every_order = trading.list_orders(name)
    history = subject_history(database, view.name, strategy, {o.strategy for o in every_order})
    snapshots, fills = history.snapshots, history.fills
    if strategy is not None:
        every_order = book_orders(view.name, every_order, fills, strategy)
    try:
        period = period.clipped(snapshots[0].date, snapshots[-1].date)
    except ReportError as error:
        if strategy is None:
            raise
        raise ReportError(f"{history.subject}: {error}") from None
    first, last = period.bounds
    in_period = [s for s in snapshots if first <= s.date <= last]
    if not in_period:
        raise ReportError(f"{history.subject} has no snapshot in period {period.label}")
    before = [s for s in snapshots if s.date < first]
    base = before[-1] if before else in_period[0]
    end = in_period[-1]
    views = [snapshot_view(s) for s in snapshots]
    returns = pd.Series(
        {pd.Timestamp(d): r for d, r in time_weighted_returns(views)}, dtype="float64"
    )
    equity = pd.Series(
        [float(s.equity) for s in snapshots],
        index=pd.DatetimeIndex([pd.Timestamp(s.date) for s in snapshots]),
    )
    benchmark = None
    if view.benchmark:
        frame = inputs.price_frame(data, [view.benchmark], "close", snapshots[0].date, last)
        if view.benchmark in frame.columns:
            benchmark = frame[view.benchmark]
    orders = [
        o
        for o in every_order
        if o.filled_quantity
        and o.average_fill_price is not None
        and (strategy is None or o.strategy == strategy)
        and o.created_at is not None  # an order without a time belongs to no period
        and base.date < _day(o) <= end.date
    ]
    part = performance(
        name=name if strategy is None else f"{view.name} / {strategy}",  # the series' label
        equity=equity,
        returns=returns,
        period=period,
        benchmark_prices=benchmark,
        benchmark_name=view.benchmark,
    )
    notes: list[str] = []
    # the base snapshot is the starting point (from inception: the first snapshot, whose
    # holdings start the period at their snapshot value)
    start_quantities, start_prices = _holdings(base.positions)
    end_quantities, end_prices = _holdings(end.positions)
    period_return = float(np.prod(1.0 + part.period_returns.to_numpy(dtype=np.float64))) - 1.0
    attribution = None
    if float(base.equity) > 0:
        attribution = position_attribution(
            start_quantities,
            end_quantities,
            start_prices,
            end_prices,
            _flows(orders, fills, strategy, base.date, end.date),
            float(base.equity),
            float(end.equity),
            period_return=period_return,
            # a book's commissions, so its residual is explained (the portfolio's stay in it)
            costs=sum(float(f.commission) for f in fills if base.date < fill_day(f) <= end.date),
        )
    else:
        notes.append("attribution by position left out: the period starts with no equity")
    symbols = set(end_quantities) | {o.symbol for o in orders} | set(start_quantities)
    sector_of = inputs.sectors(data, symbols)
    holdings = [
        Holding(s, q, end_prices[s], q * end_prices[s], q * end_prices[s] / float(end.equity))
        for s, q in end_quantities.items()
        if float(end.equity)
    ]
    tables: list[Table] = [positions_table(holdings, attribution, sector_of, end.date)]
    tca = analyse(
        [
            OrderPrices(
                client_order_id=o.client_order_id,
                symbol=o.symbol,
                strategy=o.strategy,
                side=o.side,
                quantity=float(o.filled_quantity),
                decided_at=o.created_at or datetime.combine(end.date, datetime.min.time()),
                decision_price=_float(o.decision_price),
                arrival_price=_float(o.arrival_price),
                fill_price=float(o.average_fill_price or 0),
            )
            for o in orders
        ],
        by=TcaGrouping.SYMBOL,
    )
    slippage = {c.client_order_id: c.slippage_bp for c in tca.orders}
    lines = [
        TradeLine(
            _day(o),
            o.symbol,
            o.side,
            float(o.filled_quantity),
            float(o.average_fill_price or 0),
            _float(o.arrival_price),
            _finite(slippage.get(o.client_order_id)),
            None,
            o.strategy,
        )
        for o in orders
    ]
    tables.append(trades_table(lines, "the arrival price (the price when the order was sent)"))
    if orders:
        tables.append(tca_table(tca))
    if attribution is not None:
        tables.append(position_attribution_table(attribution))
        tables.append(sector_attribution_table(sector_attribution(attribution, sector_of)))
    tables.extend(_factor_tables(data, research, part.period_returns, benchmark, last, notes))
    if strategy is not None:
        notes.append(
            f"Everything here is the sub-ledger of strategy {strategy!r}: returns and "
            "drawdown from its own daily book snapshots (its positions at the close plus its "
            "cash), positions weighted by the book's value, attribution from the book's "
            "holdings and its own fills (netted orders split by allocation, internal crosses "
            "included); trades, costs and commentary are its orders'."
        )
    notes.append(
        "Returns are time-weighted (deposits and withdrawals taken out). Metrics follow "
        "quantstats: daily simple returns, 252 trading days a year, sample standard deviation."
    )
    journal = [
        j
        for j in trading.journal_list(name)
        if first <= j.created_at.date() <= last
        and (strategy is None or j.client_order_id is None or _order_strategy(j, orders))
    ]
    return Report(
        title=f"Portfolio report — {view.name}"
        + (f" / {strategy}" if strategy is not None else ""),
        subject_kind=SubjectKind.PORTFOLIO if strategy is None else SubjectKind.STRATEGY,
        # a book's header names the strategy first, then the portfolio it belongs to
        subject=("" if strategy is None else f"{strategy} of portfolio ")
        + f"{view.name} ({view.mode}, account {view.account}, benchmark "
        f"{view.benchmark or 'none'})",
        period=period,
        generated_at=generated_at,
        data_as_of=snapshots[-1].date,
        currency="USD",
        metrics=part.metrics,
        equity=part.equity,
        drawdown=part.drawdown,
        monthly_returns=part.monthly,
        tables=tuple(tables),
        annotations=tuple(_annotation(j) for j in journal),
        parameters=(
            ("portfolio", view.name),
            ("mode", view.mode),
            ("account", view.account),
            ("benchmark", view.benchmark or "none"),
            ("created at", view.created_at.isoformat()),
            ("strategy book", "whole portfolio" if strategy is None else strategy),
            ("snapshots", f"{len(snapshots)} ({snapshots[0].date} to {snapshots[-1].date})"),
        ),
        notes=tuple(notes),
        extra={"attribution": attribution},
    )


def _flows(
    orders: list[OrderView], fills: list[Fill], strategy: str | None, after: date, upto: date
) -> list[TradeFlow]:
    """The period's trades (signed shares, price): the portfolio's filled orders, or a book's
    own fills (a netted order's share of it, its internal crosses)."""
    if strategy is None:
        return [
            TradeFlow(
                o.symbol,
                float(o.filled_quantity) * (1.0 if o.side == "buy" else -1.0),
                float(o.average_fill_price or 0),
            )
            for o in orders
        ]
    return [
        TradeFlow(f.symbol, float(f.side.sign * f.quantity), float(f.price))
        for f in fills
        if after < fill_day(f) <= upto
    ]


def _holdings(positions: object) -> tuple[dict[str, float], dict[str, float]]:
    """Quantities and marks of a snapshot's ``{symbol: [quantity, price]}``."""
    quantities: dict[str, float] = {}
    prices: dict[str, float] = {}
    if isinstance(positions, dict):
        for symbol, pair in positions.items():
            quantity, price = (float(v) for v in pair)
            if quantity:
                quantities[str(symbol)] = quantity
                prices[str(symbol)] = price
    return quantities, prices


def _day(order: OrderView) -> date:
    """The order's day (orders without a creation time are filtered out before)."""
    return order.created_at.date() if order.created_at is not None else date.min


def _float(value: object) -> float | None:
    return None if value is None else float(str(value))


def _finite(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value


def _order_strategy(entry: JournalView, orders: list[OrderView]) -> bool:
    return any(o.client_order_id == entry.client_order_id for o in orders)


def _annotation(entry: JournalView) -> Annotation:
    parts = [
        f"{field.replace('_', ' ')}: {getattr(entry, field)}"
        for field in JOURNAL_FIELDS
        if getattr(entry, field)
    ]
    subject = f"order {entry.client_order_id}" if entry.client_order_id else "portfolio"
    return Annotation(entry.created_at, subject, "; ".join(parts))


def _factor_tables(
    data: DataService,
    research: ResearchService | None,
    returns: pd.Series,
    benchmark: pd.Series | None,
    last: date,
    notes: list[str],
) -> list[Table]:
    """Attribution by factor of the portfolio's (or book's) daily returns: the factors are
    built, as for a backtest, from the stocks in the database (the cross-section a factor
    needs; the holdings alone are too few), with the momentum look-back before the period.
    None or one table; none without ``research``."""
    if research is None:
        return []
    prices = pd.DataFrame()
    if not returns.empty:  # (an empty period gets its note from factor_table)
        first = pd.Timestamp(returns.index[0]).date()
        # calendar days covering the look-back's trading days, with room for holidays
        start = first - timedelta(days=inputs.MOMENTUM_LOOKBACK * 7 // 5 + 30)
        stocks = [i.symbol for i in data.get_symbols(AssetClass.EQUITY)]
        prices = inputs.price_frame(data, stocks, "adj_close", start, last)
    table = inputs.factor_table(returns, prices, benchmark, research, last, notes)
    return [] if table is None else [table]
