"""Bodies of the portfolio, order, rebalance, journal and TCA routes.

Money and share quantities are decimals, sent as strings so no digit is lost; weights and
returns are fractions; slippage is in basis points.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from quantdesk.analytics.tca import OrderCost, SlippageStatistics, TcaReport
from quantdesk.api.schemas.common import Metrics, finite
from quantdesk.core.enums import Side
from quantdesk.services.trading_types import (
    UNALLOCATED,
    BookValue,
    JournalView,
    OrderView,
    PlannedTrade,
    PortfolioHistory,
    PortfolioValue,
    PortfolioView,
    PositionView,
    RebalanceResult,
    ReconcileReport,
    TransferResult,
)

SYMBOL = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9.^=_-]+$")
NAME = Field(min_length=1, max_length=64, pattern=r"^\S+$")
AMOUNT = Field(max_digits=28, decimal_places=10)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- portfolios ---------------------------------------------------------------------------------
class PortfolioCreate(Strict):
    name: str = NAME
    cash: Decimal = Field(ge=0, max_digits=28, decimal_places=10, description="Initial cash.")
    mode: str = Field("paper", pattern="^(paper|live)$")
    benchmark: str | None = Field(None, min_length=1, max_length=32)


class Portfolio(BaseModel):
    name: str
    account: str
    mode: str
    benchmark: str | None
    created_at: datetime

    @classmethod
    def of(cls, view: PortfolioView) -> Portfolio:
        return cls(
            name=view.name,
            account=view.account,
            mode=view.mode,
            benchmark=view.benchmark,
            created_at=view.created_at,
        )


class Position(BaseModel):
    """One holding; ``weight`` is a fraction of the portfolio's equity."""

    strategy: str
    symbol: str
    quantity: Decimal
    average_cost: Decimal | None
    price: Decimal
    market_value: Decimal
    unrealised_pnl: Decimal
    realised_pnl: Decimal
    weight: float | None

    @classmethod
    def of(cls, view: PositionView) -> Position:
        return cls(
            strategy=view.strategy,
            symbol=view.symbol,
            quantity=view.quantity,
            average_cost=view.average_cost,
            price=view.price,
            market_value=view.market_value,
            unrealised_pnl=view.unrealised_pnl,
            realised_pnl=view.realised_pnl,
            weight=finite(view.weight),
        )


class PortfolioValueOut(BaseModel):
    """Value at ``at``; ``net_deposits`` = deposits − withdrawals; P&L before commissions."""

    name: str
    at: datetime
    cash: Decimal
    market_value: Decimal
    equity: Decimal
    net_deposits: Decimal
    realised_pnl: Decimal
    unrealised_pnl: Decimal
    commissions: Decimal

    @classmethod
    def of(cls, value: PortfolioValue) -> PortfolioValueOut:
        return cls(
            name=value.name,
            at=value.at,
            cash=value.cash,
            market_value=value.market_value,
            equity=value.equity,
            net_deposits=value.net_deposits,
            realised_pnl=value.realised_pnl,
            unrealised_pnl=value.unrealised_pnl,
            commissions=value.commissions,
        )


class PortfolioDetail(BaseModel):
    portfolio: Portfolio
    value: PortfolioValueOut
    positions: list[Position]


class CashFlow(Strict):
    amount: Decimal = Field(
        max_digits=28, decimal_places=10, description="Deposit (> 0) or withdrawal (< 0)."
    )
    strategy: str = Field("", max_length=64)


BOOK = Field(
    min_length=1,
    max_length=64,
    pattern=r"^\S+$",
    description="A strategy book, or 'unallocated'.",
)


class BookTransferIn(Strict):
    """Move ``cash`` (currency), or shares of ``symbol`` (``quantity``; default all the source
    book holds) at the latest close, from one book of the portfolio to another."""

    from_book: str = BOOK
    to_book: str = BOOK
    cash: Decimal | None = Field(None, gt=0, max_digits=28, decimal_places=10)
    symbol: str | None = Field(None, min_length=1, max_length=32, pattern=r"^[A-Za-z0-9.^=_-]+$")
    quantity: Decimal | None = Field(None, gt=0, max_digits=28, decimal_places=10)


class BookFigures(BaseModel):
    """One book's figures (currency); ``strategy`` ``""`` is the unallocated book."""

    strategy: str
    cash: Decimal
    market_value: Decimal
    equity: Decimal
    net_deposits: Decimal
    positions: int

    @classmethod
    def of(cls, book: BookValue) -> BookFigures:
        return cls(
            strategy=book.strategy,
            cash=book.cash,
            market_value=book.market_value,
            equity=book.equity,
            net_deposits=book.net_deposits,
            positions=book.positions,
        )


class BookTransfer(BaseModel):
    """A transfer done: ``value`` (currency) left ``from_book`` and reached ``to_book`` (the
    cash, or ``quantity`` × ``price``, the close of ``priced_on``, crossed internally as
    ``cross_id``); nothing reached the broker. ``books``: the two books after it."""

    portfolio: str
    from_book: str
    to_book: str
    at: datetime
    value: Decimal
    symbol: str | None
    quantity: Decimal | None
    price: Decimal | None
    priced_on: date | None
    cross_id: str | None
    books: list[BookFigures]

    @classmethod
    def of(cls, done: TransferResult) -> BookTransfer:
        return cls(
            portfolio=done.portfolio,
            from_book=done.source or UNALLOCATED,
            to_book=done.target or UNALLOCATED,
            at=done.at,
            value=done.value,
            symbol=done.symbol,
            quantity=done.quantity,
            price=done.price,
            priced_on=done.priced_on,
            cross_id=done.cross_id,
            books=[BookFigures.of(b) for b in done.books],
        )


class Period(StrEnum):
    ONE_MONTH = "1M"
    THREE_MONTHS = "3M"
    SIX_MONTHS = "6M"
    ONE_YEAR = "1Y"
    YEAR_TO_DATE = "YTD"
    ALL = "ALL"


class PerformancePoint(BaseModel):
    date: date
    equity: Decimal
    cash: Decimal
    net_flows: Decimal
    time_weighted_return: float | None  # cumulative since the period's first snapshot


class Performance(BaseModel):
    """Time-weighted performance of the period's daily snapshots (flows excluded)."""

    portfolio: str
    period: Period
    start: date | None
    end: date | None
    time_weighted_return: float | None
    metrics: Metrics
    points: list[PerformancePoint]

    @classmethod
    def of(cls, history: PortfolioHistory, period: Period) -> Performance:
        points = []
        growth = 1.0
        returns = dict(zip(history.return_dates, history.returns, strict=True))
        for snapshot in history.snapshots:
            growth *= 1.0 + (finite(returns.get(snapshot.date, 0.0)) or 0.0)
            points.append(
                PerformancePoint(
                    date=snapshot.date,
                    equity=snapshot.equity,
                    cash=snapshot.cash,
                    net_flows=snapshot.net_flows,
                    time_weighted_return=finite(growth - 1.0),
                )
            )
        return cls(
            portfolio=history.portfolio,
            period=period,
            start=points[0].date if points else None,
            end=points[-1].date if points else None,
            time_weighted_return=finite(history.time_weighted_return),
            metrics={k: finite(v) for k, v in history.metrics.items()},
            points=points,
        )


# -- orders -------------------------------------------------------------------------------------
class OrderIn(Strict):
    """A trade to place: shares > 0; ``limit_price`` makes it a limit order."""

    symbol: str = SYMBOL
    side: Side
    quantity: Decimal = Field(gt=0, max_digits=28, decimal_places=10)
    limit_price: Decimal | None = Field(None, gt=0, max_digits=28, decimal_places=10)
    strategy: str = Field("", max_length=64)


class OrderBatch(Strict):
    orders: list[OrderIn] = Field(min_length=1, max_length=500)
    tag: str = Field("manual", max_length=32)


class ManualTrade(OrderIn):
    """``POST /api/trades``: one order on a named portfolio."""

    portfolio: str = NAME


class OrderChange(Strict):
    quantity: Decimal | None = Field(None, gt=0, max_digits=28, decimal_places=10)
    limit_price: Decimal | None = Field(None, gt=0, max_digits=28, decimal_places=10)


class Order(BaseModel):
    client_order_id: str
    portfolio: str
    strategy: str
    symbol: str
    side: str
    quantity: Decimal
    order_type: str
    limit_price: Decimal | None
    status: str
    filled_quantity: Decimal
    average_fill_price: Decimal | None
    created_at: datetime | None
    decision_price: Decimal | None
    arrival_price: Decimal | None

    @classmethod
    def of(cls, view: OrderView) -> Order:
        return cls(
            client_order_id=view.client_order_id,
            portfolio=view.portfolio,
            strategy=view.strategy,
            symbol=view.symbol,
            side=view.side,
            quantity=view.quantity,
            order_type=view.order_type,
            limit_price=view.limit_price,
            status=view.status,
            filled_quantity=view.filled_quantity,
            average_fill_price=view.average_fill_price,
            created_at=view.created_at,
            decision_price=view.decision_price,
            arrival_price=view.arrival_price,
        )


# -- rebalancing --------------------------------------------------------------------------------
class TargetSource(StrEnum):
    SECTOR_MOMENTUM = "sector-momentum"
    COMPOSITE = "composite"


class RebalanceRequest(Strict):
    """Targets from exactly one of: ``targets`` (symbol → weight fraction), a registered
    ``strategy``'s latest targets, or a stored ``signal``."""

    targets: dict[str, float] | None = Field(None, max_length=2000)
    strategy: str | None = Field(None, max_length=64)
    signal: TargetSource | None = None
    threshold: float = Field(0.0, ge=0.0, le=1.0, description="Skip smaller weight changes.")


class Drift(BaseModel):
    symbol: str
    current_weight: float | None
    target_weight: float | None
    drift: float | None


class PlannedTradeOut(BaseModel):
    symbol: str
    side: str
    quantity: Decimal
    price: Decimal
    notional: Decimal
    current_weight: float | None
    target_weight: float | None

    @classmethod
    def of(cls, trade: PlannedTrade) -> PlannedTradeOut:
        return cls(
            symbol=trade.symbol,
            side=trade.side.value,
            quantity=trade.quantity,
            price=trade.price,
            notional=trade.notional,
            current_weight=finite(trade.current_weight),
            target_weight=finite(trade.target_weight),
        )


class Rebalance(BaseModel):
    """The trade list (sells first); ``orders`` are those placed when executed. ``strategy``
    is the book traded: the strategy's own book for strategy targets, ``""`` (the unallocated
    book) for hand-given targets and signals; weights are fractions of that book's equity."""

    portfolio: str
    strategy: str
    source: str
    as_of: date
    threshold: float
    max_drift: float | None
    total_drift: float | None
    drift: list[Drift]
    trades: list[PlannedTradeOut]
    skipped: list[PlannedTradeOut]
    executed: bool
    orders: list[Order]

    @classmethod
    def of(cls, result: RebalanceResult) -> Rebalance:
        drifts = [abs(d.drift) for d in result.drift]
        return cls(
            portfolio=result.portfolio,
            strategy=result.strategy,
            source=result.source,
            as_of=result.as_of,
            threshold=result.threshold,
            max_drift=finite(max(drifts)) if drifts else None,
            total_drift=finite(sum(drifts)) if drifts else None,
            drift=[
                Drift(
                    symbol=d.symbol,
                    current_weight=finite(d.current_weight),
                    target_weight=finite(d.target_weight),
                    drift=finite(d.drift),
                )
                for d in result.drift
            ],
            trades=[PlannedTradeOut.of(t) for t in result.trades],
            skipped=[PlannedTradeOut.of(t) for t in result.skipped],
            executed=result.executed,
            orders=[Order.of(o) for o in result.orders],
        )


# -- reconciliation, journal, TCA ---------------------------------------------------------------
class DiscrepancyOut(BaseModel):
    kind: str
    subject: str
    ours: str
    broker: str


class Reconciliation(BaseModel):
    account: str
    clean: bool
    adopted_orders: list[str]
    adopted_fills: list[str]
    closed_orders: list[str]
    discrepancies: list[DiscrepancyOut]

    @classmethod
    def of(cls, report: ReconcileReport) -> Reconciliation:
        return cls(
            account=report.account,
            clean=report.clean,
            adopted_orders=list(report.adopted_orders),
            adopted_fills=list(report.adopted_fills),
            closed_orders=list(report.closed_orders),
            discrepancies=[
                DiscrepancyOut(kind=d.kind, subject=d.subject, ours=d.ours, broker=d.broker)
                for d in report.discrepancies
            ],
        )


JOURNAL_TEXT = Field(None, max_length=10_000)


class JournalTexts(Strict):
    """Pre-trade (thesis, intended entry, sizing rationale, exit plan) and post-trade
    (outcome, lesson) notes; fields left out are not changed."""

    thesis: str | None = JOURNAL_TEXT
    intended_entry: str | None = JOURNAL_TEXT
    sizing_rationale: str | None = JOURNAL_TEXT
    exit_plan: str | None = JOURNAL_TEXT
    outcome: str | None = JOURNAL_TEXT
    lesson: str | None = JOURNAL_TEXT


class JournalCreate(JournalTexts):
    client_order_id: str | None = Field(None, max_length=64)


class JournalEntry(BaseModel):
    id: int
    portfolio: str
    client_order_id: str | None
    thesis: str | None
    intended_entry: str | None
    sizing_rationale: str | None
    exit_plan: str | None
    outcome: str | None
    lesson: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: JournalView) -> JournalEntry:
        return cls(
            id=view.id,
            portfolio=view.portfolio,
            client_order_id=view.client_order_id,
            thesis=view.thesis,
            intended_entry=view.intended_entry,
            sizing_rationale=view.sizing_rationale,
            exit_plan=view.exit_plan,
            outcome=view.outcome,
            lesson=view.lesson,
            created_at=view.created_at,
            updated_at=view.updated_at,
        )


class SlippageOut(BaseModel):
    """Slippage (fill vs arrival, bp) of a group of orders; ``null`` where unmeasured."""

    group: str
    orders: int
    measured: int
    mean_bp: float | None
    median_bp: float | None
    std_bp: float | None
    min_bp: float | None
    max_bp: float | None
    weighted_mean_bp: float | None
    mean_shortfall_bp: float | None
    outliers: int
    notional: float | None

    @classmethod
    def of(cls, stats: SlippageStatistics) -> SlippageOut:
        return cls(
            group=stats.group,
            orders=stats.orders,
            measured=stats.measured,
            mean_bp=finite(stats.mean_bp),
            median_bp=finite(stats.median_bp),
            std_bp=finite(stats.std_bp),
            min_bp=finite(stats.min_bp),
            max_bp=finite(stats.max_bp),
            weighted_mean_bp=finite(stats.weighted_mean_bp),
            mean_shortfall_bp=finite(stats.mean_shortfall_bp),
            outliers=stats.outliers,
            notional=finite(stats.notional),
        )


class OrderCostOut(BaseModel):
    client_order_id: str
    symbol: str
    strategy: str
    side: str
    month: str
    quantity: float | None
    notional: float | None
    fill_price: float | None
    slippage_bp: float | None
    shortfall_bp: float | None
    delay_bp: float | None
    is_outlier: bool

    @classmethod
    def of(cls, cost: OrderCost) -> OrderCostOut:
        return cls(
            client_order_id=cost.client_order_id,
            symbol=cost.symbol,
            strategy=cost.strategy,
            side=cost.side,
            month=cost.month,
            quantity=finite(cost.quantity),
            notional=finite(cost.notional),
            fill_price=finite(cost.fill_price),
            slippage_bp=finite(cost.slippage_bp),
            shortfall_bp=finite(cost.shortfall_bp),
            delay_bp=finite(cost.delay_bp),
            is_outlier=cost.is_outlier,
        )


class Tca(BaseModel):
    overall: SlippageOut
    by: str | None
    groups: list[SlippageOut]
    orders: list[OrderCostOut]

    @classmethod
    def of(cls, report: TcaReport) -> Tca:
        return cls(
            overall=SlippageOut.of(report.overall),
            by=report.by.value if report.by else None,
            groups=[SlippageOut.of(g) for g in report.groups],
            orders=[OrderCostOut.of(o) for o in report.orders],
        )
