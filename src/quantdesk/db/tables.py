"""SQLAlchemy 2 table definitions. Tables are storage, never API schemas.

Bar timestamps are stored as integer Unix seconds (UTC) in ``bars.ts``: the same on SQLite and
PostgreSQL, and the cheapest form to scan into numpy panels. Daily bars sit at 00:00 UTC of the
session date; ``datetime(ts, 'unixepoch')`` (SQLite) or ``to_timestamp(ts)`` (PostgreSQL) shows it.
"""

from __future__ import annotations

from datetime import date, datetime

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
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

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
