"""SQLAlchemy 2 table definitions. Tables are storage, never API schemas.

Bar timestamps are stored as integer Unix seconds (UTC) in ``bars.ts``: the same on SQLite and
PostgreSQL, and the cheapest form to scan into numpy panels. Daily bars sit at 00:00 UTC of the
session date; ``datetime(ts, 'unixepoch')`` (SQLite) or ``to_timestamp(ts)`` (PostgreSQL) shows it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeEngine

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Instrument(Base):
    __tablename__ = "instruments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    symbol: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    asset_class: Mapped[str] = mapped_column(String(16), default="equity")
    sector: Mapped[str | None] = mapped_column(String(64))
    industry: Mapped[str | None] = mapped_column(String(128))
    exchange: Mapped[str | None] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    # Which bar fields the source really provides ("ohlcv", "ohlcv+adj", "close", "adj_close").
    price_fields: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Bar(Base):
    """One bar. No foreign key to ``instruments``: a per-row check would halve bulk-load speed,
    and every writer resolves instrument ids in the same transaction (see ``db.bulk``)."""

    __tablename__ = "bars"
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012 (SQLAlchemy reads it as is)

    instrument_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    timeframe: Mapped[str] = mapped_column(String(4), primary_key=True)
    ts: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    open: Mapped[float | None] = mapped_column(Double)
    high: Mapped[float | None] = mapped_column(Double)
    low: Mapped[float | None] = mapped_column(Double)
    close: Mapped[float] = mapped_column(Double)
    volume: Mapped[float | None] = mapped_column(Double)
    adj_close: Mapped[float | None] = mapped_column(Double)


class Fundamental(Base):
    __tablename__ = "fundamentals"
    __table_args__ = (UniqueConstraint("instrument_id", "report_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"))
    fiscal_period_end: Mapped[date | None] = mapped_column(Date)
    report_date: Mapped[date] = mapped_column(Date)
    release_time: Mapped[str | None] = mapped_column(String(8))
    eps: Mapped[float | None] = mapped_column(Double)
    eps_estimate: Mapped[float | None] = mapped_column(Double)
    source: Mapped[str | None] = mapped_column(String(64))


class IndexMembership(Base):
    """Membership spells. Not unique by (index, symbol, start): tickers get reused (AN was Amoco,
    then AutoNation), and the published history gives both the same start date."""

    __tablename__ = "index_membership"
    __table_args__ = (
        Index("ix_index_membership_index_dates", "index_name", "start_date", "end_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    index_name: Mapped[str] = mapped_column(String(32))
    symbol: Mapped[str] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(200))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)


class CorporateAction(Base):
    __tablename__ = "corporate_actions"
    __table_args__ = (UniqueConstraint("instrument_id", "ex_date", "action_type"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"))
    ex_date: Mapped[date] = mapped_column(Date)
    action_type: Mapped[str] = mapped_column(String(16))  # "split" (ratio) | "dividend" (cash)
    value: Mapped[float] = mapped_column(Double)


class DataSource(Base):
    __tablename__ = "data_sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # "file" | "remote" | "sample"
    provides: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class FetchLog(Base):
    __tablename__ = "fetch_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(Text)  # file path or redacted request
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))  # "ok" | "partial" | "failed"
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_inserted: Mapped[int] = mapped_column(Integer, default=0)
    rows_updated: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    details: Mapped[dict[str, object] | None] = mapped_column(JSON)


# -- research ------------------------------------------------------------------------------
class FactorScore(Base):
    """A stored score of one symbol on one date, with its components and ranks.

    ``score_set`` names what was scored (e.g. ``momentum-composite``); recomputing a set for a
    date replaces its rows, so stored scores are idempotent.
    """

    __tablename__ = "factor_scores"

    score_set: Mapped[str] = mapped_column(String(64), primary_key=True)
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    instrument_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    universe: Mapped[str | None] = mapped_column(Text)
    score: Mapped[float | None] = mapped_column(Double)
    rank: Mapped[int | None] = mapped_column(Integer)
    sector_rank: Mapped[int | None] = mapped_column(Integer)
    components: Mapped[dict[str, object] | None] = mapped_column(JSON)
    # share of the composite's configured weight the score was built from (a fraction)
    weight_coverage: Mapped[float | None] = mapped_column(Double)


class Signal(Base):
    """A strategy's target on a date: weight (fraction of equity) and action."""

    __tablename__ = "signals"

    strategy: Mapped[str] = mapped_column(String(64), primary_key=True)
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    instrument_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action: Mapped[str] = mapped_column(String(8))  # buy | sell | hold
    target_weight: Mapped[float | None] = mapped_column(Double)
    confidence: Mapped[float | None] = mapped_column(Double)
    details: Mapped[dict[str, object] | None] = mapped_column(JSON)


# -- backtests -----------------------------------------------------------------------------
class BacktestRun(Base):
    __tablename__ = "backtest_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    strategy: Mapped[str] = mapped_column(String(64), index=True)
    engine: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, object]] = mapped_column(JSON)
    universe: Mapped[str | None] = mapped_column(Text)
    benchmark: Mapped[str | None] = mapped_column(String(32))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    price_field: Mapped[str] = mapped_column(String(16))
    initial_cash: Mapped[float] = mapped_column(Double)
    final_equity: Mapped[float] = mapped_column(Double)
    metrics: Mapped[dict[str, object] | None] = mapped_column(JSON)
    bias_checks: Mapped[dict[str, object] | None] = mapped_column(JSON)
    costs: Mapped[dict[str, object] | None] = mapped_column(JSON)
    sweep_id: Mapped[str | None] = mapped_column(String(36), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # everything needed to re-run it bit for bit (services.backtest_config)
    config: Mapped[dict[str, object] | None] = mapped_column(JSON)


class BacktestSeries(Base):
    """Daily equity, returns, cash and benchmark of a run."""

    __tablename__ = "backtest_series"
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012 (see 0004_backtests)

    run_id: Mapped[str] = mapped_column(
        ForeignKey("backtest_runs.id", ondelete="CASCADE"), primary_key=True
    )
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    equity: Mapped[float] = mapped_column(Double)
    returns: Mapped[float | None] = mapped_column(Double)
    cash: Mapped[float | None] = mapped_column(Double)
    benchmark: Mapped[float | None] = mapped_column(Double)
    turnover: Mapped[float | None] = mapped_column(Double)


class BacktestFill(Base):
    __tablename__ = "backtest_fills"
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012 (see 0004_backtests)

    run_id: Mapped[str] = mapped_column(
        ForeignKey("backtest_runs.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    date: Mapped[date] = mapped_column(Date)
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[float] = mapped_column(Double)
    price: Mapped[float] = mapped_column(Double)
    commission: Mapped[float] = mapped_column(Double)
    # why the order was sent: rebalance | stop_loss | take_profit (or a signal's own tag)
    reason: Mapped[str | None] = mapped_column(String(32))


class BacktestTrade(Base):
    """A round trip: entry to exit of one position."""

    __tablename__ = "backtest_trades"
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012 (see 0004_backtests)

    run_id: Mapped[str] = mapped_column(
        ForeignKey("backtest_runs.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32))
    entry_date: Mapped[date] = mapped_column(Date)
    exit_date: Mapped[date | None] = mapped_column(Date)
    quantity: Mapped[float] = mapped_column(Double)
    entry_price: Mapped[float] = mapped_column(Double)
    exit_price: Mapped[float | None] = mapped_column(Double)
    pnl: Mapped[float | None] = mapped_column(Double)
    return_: Mapped[float | None] = mapped_column("return", Double)


class BacktestWeight(Base):
    """Target weights on rebalance dates (non-zero only)."""

    __tablename__ = "backtest_weights"
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012 (see 0004_backtests)

    run_id: Mapped[str] = mapped_column(
        ForeignKey("backtest_runs.id", ondelete="CASCADE"), primary_key=True
    )
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    weight: Mapped[float] = mapped_column(Double)


class OptimizationSweep(Base):
    __tablename__ = "optimization_sweeps"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    strategy: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(16))  # grid | bayesian | walk-forward
    space: Mapped[dict[str, object]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))  # running | done | failed
    best_params: Mapped[dict[str, object] | None] = mapped_column(JSON)
    summary: Mapped[dict[str, object] | None] = mapped_column(JSON)  # DSR, PBO, folds
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OptimizationTrial(Base):
    """One evaluated parameter set, written as soon as it finishes."""

    __tablename__ = "optimization_trials"

    sweep_id: Mapped[str] = mapped_column(
        ForeignKey("optimization_sweeps.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    fold: Mapped[int | None] = mapped_column(Integer)
    params: Mapped[dict[str, object]] = mapped_column(JSON)
    score: Mapped[float | None] = mapped_column(Double)
    metrics: Mapped[dict[str, object] | None] = mapped_column(JSON)


# -- trading -------------------------------------------------------------------------------
class Money(TypeDecorator[Decimal]):
    """An exact decimal: NUMERIC on PostgreSQL, canonical text on SQLite (whose NUMERIC is a
    float and would round money). Values come back as :class:`~decimal.Decimal` on both."""

    impl = Numeric(28, 10)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(48))
        return dialect.type_descriptor(Numeric(28, 10))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal) or not value.is_finite():
            raise ValueError(f"money must be a finite Decimal, got {value!r}")
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        number = value if isinstance(value, Decimal) else Decimal(str(value))
        # NUMERIC(28, 10) pads to ten places: give back the value as written (10, not
        # 10.0000000000) so messages and comparisons of text look the same on both backends
        number = number.normalize()
        return number.quantize(Decimal(1)) if number.as_tuple().exponent > 0 else number  # type: ignore[operator]


class TradingAccount(Base):
    """One account at one broker (``paper`` or a live adapter's name)."""

    __tablename__ = "trading_accounts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    broker: Mapped[str] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    # the highest client order id sequence issued: ids stay unique across restarts
    last_order_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Portfolio(Base):
    """A named portfolio trading in one account (an account may hold many)."""

    __tablename__ = "portfolios"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("trading_accounts.id"), index=True)
    mode: Mapped[str] = mapped_column(String(8))  # paper | live
    benchmark: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # set when archived ("deleted"): hidden from lists and trading, its ledger kept for audit
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StrategyAllocation(Base):
    """A strategy's sub-ledger in a portfolio ("" is the unallocated book). A disabled one
    keeps its positions and cash; strategy-driven rebalances and ``trade run`` skip it."""

    __tablename__ = "strategy_allocations"

    portfolio_id: Mapped[int] = mapped_column(
        ForeignKey("portfolios.id", ondelete="CASCADE"), primary_key=True
    )
    strategy: Mapped[str] = mapped_column(String(64), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CashFlow(Base):
    """A deposit (amount > 0) or withdrawal (amount < 0) into a strategy's book."""

    __tablename__ = "cash_flows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    portfolio_id: Mapped[int] = mapped_column(
        ForeignKey("portfolios.id", ondelete="CASCADE"), index=True
    )
    strategy: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    amount: Mapped[Decimal] = mapped_column(Money)
    note: Mapped[str | None] = mapped_column(Text)


class TradingOrder(Base):
    """An order as created (its NEW value); its state is the replay of ``order_events``.

    ``status``, ``filled_quantity`` and ``average_fill_price`` cache that replay for listing.
    ``decision_price`` is the price when the strategy decided, ``arrival_price`` the price when
    the order was sent: the two references of transaction-cost analysis.
    """

    __tablename__ = "trading_orders"
    __table_args__ = (UniqueConstraint("account_id", "client_order_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("trading_accounts.id"))
    client_order_id: Mapped[str] = mapped_column(String(64))
    portfolio_id: Mapped[int] = mapped_column(
        ForeignKey("portfolios.id", ondelete="CASCADE"), index=True
    )
    batch_id: Mapped[str | None] = mapped_column(String(36), index=True)
    strategy: Mapped[str] = mapped_column(String(64), default="")
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(4))
    quantity: Mapped[Decimal] = mapped_column(Money)
    order_type: Mapped[str] = mapped_column(String(16))
    time_in_force: Mapped[str] = mapped_column(String(8))
    limit_price: Mapped[Decimal | None] = mapped_column(Money)
    stop_price: Mapped[Decimal | None] = mapped_column(Money)
    tag: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decision_price: Mapped[Decimal | None] = mapped_column(Money)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    arrival_price: Mapped[Decimal | None] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(16))
    filled_quantity: Mapped[Decimal] = mapped_column(Money)
    average_fill_price: Mapped[Decimal | None] = mapped_column(Money)
    venue_order_id: Mapped[str] = mapped_column(String(64), default="")


class OrderEventRow(Base):
    """The append-only order event log: one row per event, ``seq`` 0, 1, … per order."""

    __tablename__ = "order_events"

    order_id: Mapped[int] = mapped_column(
        ForeignKey("trading_orders.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[dict[str, object]] = mapped_column(JSON)


class Execution(Base):
    """One fill; the execution id is unique per account, so adopting it twice is a no-op."""

    __tablename__ = "executions"
    __table_args__ = (UniqueConstraint("account_id", "execution_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("trading_accounts.id"))
    execution_id: Mapped[str] = mapped_column(String(96))
    order_id: Mapped[int] = mapped_column(
        ForeignKey("trading_orders.id", ondelete="CASCADE"), index=True
    )
    portfolio_id: Mapped[int] = mapped_column(
        ForeignKey("portfolios.id", ondelete="CASCADE"), index=True
    )
    strategy: Mapped[str] = mapped_column(String(64), default="")
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(4))
    quantity: Mapped[Decimal] = mapped_column(Money)
    price: Mapped[Decimal] = mapped_column(Money)
    commission: Mapped[Decimal] = mapped_column(Money)
    filled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OrderAllocation(Base):
    """Who wanted what from a netted broker order: its fills are split between these strategies
    pro rata to ``quantity`` (shares); written before the broker sees the order."""

    __tablename__ = "order_allocations"

    account_id: Mapped[str] = mapped_column(ForeignKey("trading_accounts.id"), primary_key=True)
    client_order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    strategy: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[Decimal] = mapped_column(Money)


class InternalCross(Base):
    """One strategy's side of an internal cross: opposite intents of two strategy books matched
    at the latest price, no commission, never sent to the broker."""

    __tablename__ = "internal_crosses"
    __table_args__ = (UniqueConstraint("account_id", "execution_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("trading_accounts.id"))
    execution_id: Mapped[str] = mapped_column(String(160))
    cross_id: Mapped[str] = mapped_column(String(80))
    portfolio_id: Mapped[int] = mapped_column(
        ForeignKey("portfolios.id", ondelete="CASCADE"), index=True
    )
    strategy: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(4))
    quantity: Mapped[Decimal] = mapped_column(Money)
    price: Mapped[Decimal] = mapped_column(Money)
    filled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PositionRow(Base):
    """A strategy's holding of one symbol, rewritten with every fill booked (a cache of the
    ledger rebuilt from ``executions`` and ``cash_flows``)."""

    __tablename__ = "positions"

    portfolio_id: Mapped[int] = mapped_column(
        ForeignKey("portfolios.id", ondelete="CASCADE"), primary_key=True
    )
    strategy: Mapped[str] = mapped_column(String(64), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    quantity: Mapped[Decimal] = mapped_column(Money)
    average_cost: Mapped[Decimal | None] = mapped_column(Money)
    realised_pnl: Mapped[Decimal] = mapped_column(Money)


class PositionLot(Base):
    """Open FIFO lots of a position (``seq`` 0 is the oldest)."""

    __tablename__ = "position_lots"

    portfolio_id: Mapped[int] = mapped_column(
        ForeignKey("portfolios.id", ondelete="CASCADE"), primary_key=True
    )
    strategy: Mapped[str] = mapped_column(String(64), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    quantity: Mapped[Decimal] = mapped_column(Money)
    price: Mapped[Decimal] = mapped_column(Money)


class PortfolioSnapshot(Base):
    """End-of-day value of a portfolio; ``net_flows`` are the deposits − withdrawals this snapshot
    is the first to count (each flow is counted by exactly one snapshot)."""

    __tablename__ = "portfolio_snapshots"

    portfolio_id: Mapped[int] = mapped_column(
        ForeignKey("portfolios.id", ondelete="CASCADE"), primary_key=True
    )
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    cash: Mapped[Decimal] = mapped_column(Money)
    market_value: Mapped[Decimal] = mapped_column(Money)
    equity: Mapped[Decimal] = mapped_column(Money)
    net_flows: Mapped[Decimal] = mapped_column(Money)
    realised_pnl: Mapped[Decimal] = mapped_column(Money)
    unrealised_pnl: Mapped[Decimal] = mapped_column(Money)
    positions: Mapped[dict[str, object]] = mapped_column(JSON)


class BookSnapshot(Base):
    """End-of-day value of one strategy book (sub-ledger) of a portfolio, taken with the
    portfolio's snapshot (the books of a day sum to it); ``net_flows`` are the deposits −
    withdrawals into the book this snapshot is the first to count, ``positions`` the book's own
    ``{symbol: [shares, mark]}``."""

    __tablename__ = "book_snapshots"

    portfolio_id: Mapped[int] = mapped_column(
        ForeignKey("portfolios.id", ondelete="CASCADE"), primary_key=True
    )
    strategy: Mapped[str] = mapped_column(String(64), primary_key=True)
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    cash: Mapped[Decimal] = mapped_column(Money)
    market_value: Mapped[Decimal] = mapped_column(Money)
    equity: Mapped[Decimal] = mapped_column(Money)
    net_flows: Mapped[Decimal] = mapped_column(Money)
    realised_pnl: Mapped[Decimal] = mapped_column(Money)
    unrealised_pnl: Mapped[Decimal] = mapped_column(Money)
    positions: Mapped[dict[str, object]] = mapped_column(JSON)


class JournalEntry(Base):
    """A trading-journal annotation on a portfolio, optionally on one order or execution."""

    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    portfolio_id: Mapped[int] = mapped_column(
        ForeignKey("portfolios.id", ondelete="CASCADE"), index=True
    )
    client_order_id: Mapped[str | None] = mapped_column(String(64))
    execution_id: Mapped[str | None] = mapped_column(String(96))
    thesis: Mapped[str | None] = mapped_column(Text)
    intended_entry: Mapped[str | None] = mapped_column(Text)
    sizing_rationale: Mapped[str | None] = mapped_column(Text)
    exit_plan: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)
    lesson: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PaperBrokerState(Base):
    """The paper broker's own book (cash, positions, working orders, id sequences, clock
    position), persisted so a restart sees what the 'venue' did: one small JSON document per
    account, written in the same transaction as the venue executions it caused."""

    __tablename__ = "paper_broker_state"

    account_id: Mapped[str] = mapped_column(ForeignKey("trading_accounts.id"), primary_key=True)
    state: Mapped[dict[str, object]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class User(Base):
    """A person who may log in. ``password_hash`` is an argon2 hash, never the password."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiToken(Base):
    """An API token of a user: ``id`` is the public part of the token, ``token_hash`` the
    argon2 hash of the whole token (shown once at creation, never stored)."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UserSession(Base):
    """A web login. ``id`` is the SHA-256 of the session cookie's random value (256 bits, so
    a fast hash suffices); ``csrf_token`` is the token its forms must echo."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """One mutating call: who, what, on what, and how it ended (``outcome``: ok, denied,
    failed; ``status`` the HTTP status or CLI exit)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(200))
    target: Mapped[str] = mapped_column(String(500))
    details: Mapped[dict[str, object]] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(16))
    status: Mapped[int] = mapped_column(Integer)


class PaperExecution(Base):
    """An execution as the paper venue booked it: appended, never rewritten, unique per account.

    Apart from :class:`Execution` (our record of it) on purpose: after a crash the venue may
    know fills we have not stored, and reconciliation compares the two.
    """

    __tablename__ = "paper_executions"
    __table_args__ = (UniqueConstraint("account_id", "execution_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("trading_accounts.id"))
    execution_id: Mapped[str] = mapped_column(String(96))
    client_order_id: Mapped[str] = mapped_column(String(96))
    strategy: Mapped[str] = mapped_column(String(64), default="")
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(4))
    quantity: Mapped[Decimal] = mapped_column(Money)
    price: Mapped[Decimal] = mapped_column(Money)
    commission: Mapped[Decimal] = mapped_column(Money)
    filled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Alert(Base):
    """Something a person should look at (an order rejected, a reconcile difference, drift over
    the threshold, a job failed). ``key`` identifies the condition: while an alert with the
    same key is open (not acknowledged), raising it again adds nothing: a partial unique index
    makes that a guarantee of the database, whichever process raises it."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index(
            "uq_alerts_open_key",
            "key",
            unique=True,
            sqlite_where=text("acknowledged_at IS NULL"),
            postgresql_where=text("acknowledged_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    portfolio_id: Mapped[int | None] = mapped_column(
        ForeignKey("portfolios.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(8))  # info | warning | critical
    message: Mapped[str] = mapped_column(Text)
    key: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))


class PortfolioSettings(Base):
    """Risk parameters and schedule of one portfolio; ``None`` keeps the built-in default."""

    __tablename__ = "portfolio_settings"

    portfolio_id: Mapped[int] = mapped_column(
        ForeignKey("portfolios.id", ondelete="CASCADE"), primary_key=True
    )
    drift_threshold: Mapped[float | None] = mapped_column(Double)
    min_trade_value: Mapped[Decimal | None] = mapped_column(Money)
    decision_time: Mapped[str | None] = mapped_column(String(5))  # "HH:MM" UTC
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
