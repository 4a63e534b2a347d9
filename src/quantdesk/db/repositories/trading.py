"""Stored trading accounts, portfolios, strategy books, cash flows, positions and snapshots.

Every function takes an open :class:`~sqlalchemy.Connection`; the caller owns the transaction.
Money and quantities are :class:`~decimal.Decimal` in and out (exact on both backends).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, or_, select, update

from quantdesk.db.repositories._executemany import executemany
from quantdesk.db.repositories._utc import utc
from quantdesk.db.tables import (
    BookSnapshot,
    CashFlow,
    Execution,
    InternalCross,
    PaperBrokerState,
    Portfolio,
    PortfolioSnapshot,
    PositionLot,
    PositionRow,
    StrategyAllocation,
    TradingAccount,
    TradingOrder,
)


@dataclass(frozen=True, slots=True)
class PortfolioRecord:
    id: int
    name: str
    account_id: str
    mode: str
    benchmark: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CashFlowRecord:
    """``amount`` > 0 is a deposit, < 0 a withdrawal (currency)."""

    id: int
    strategy: str
    at: datetime
    amount: Decimal
    note: str | None


@dataclass(frozen=True, slots=True)
class StoredLot:
    quantity: Decimal
    price: Decimal


@dataclass(frozen=True, slots=True)
class StoredPosition:
    strategy: str
    symbol: str
    quantity: Decimal
    average_cost: Decimal | None
    realised_pnl: Decimal
    lots: tuple[StoredLot, ...]


@dataclass(frozen=True, slots=True)
class BookSnapshotRecord:
    """End-of-day value of one strategy book; the same fields as :class:`SnapshotRecord`
    (``net_flows``: the deposits − withdrawals into the book that this snapshot is the first
    to count, see :func:`quantdesk.services.trading_book.flows_due`)."""

    strategy: str
    date: date
    cash: Decimal
    market_value: Decimal
    equity: Decimal
    net_flows: Decimal
    realised_pnl: Decimal
    unrealised_pnl: Decimal
    positions: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class SnapshotRecord:
    """End-of-day value; ``net_flows`` are the deposits − withdrawals it is the first snapshot
    to count (see :func:`quantdesk.services.trading_book.flows_due`); ``positions`` maps
    symbol to ``[shares, mark]`` as decimal strings.
    ``books`` are the day's per-book snapshots, stored with it (they sum to it)."""

    date: date
    cash: Decimal
    market_value: Decimal
    equity: Decimal
    net_flows: Decimal
    realised_pnl: Decimal
    unrealised_pnl: Decimal
    positions: Mapping[str, object]
    books: tuple[BookSnapshotRecord, ...] = ()


# -- accounts and portfolios -------------------------------------------------------------------
def ensure_account(connection: Connection, account_id: str, broker: str, at: datetime) -> None:
    exists = connection.execute(
        select(TradingAccount.id).where(TradingAccount.id == account_id)
    ).first()
    if exists is None:
        connection.execute(
            insert(TradingAccount),
            [{"id": account_id, "broker": broker, "created_at": utc(at), "last_order_seq": 0}],
        )


def account_currency(connection: Connection, account_id: str) -> str:
    """The account's currency code (``USD`` when the account is unknown)."""
    value = connection.execute(
        select(TradingAccount.currency).where(TradingAccount.id == account_id)
    ).scalar()
    return "USD" if value is None else str(value)


def account_broker(connection: Connection, account_id: str) -> str | None:
    value = connection.execute(
        select(TradingAccount.broker).where(TradingAccount.id == account_id)
    ).scalar()
    return None if value is None else str(value)


def last_order_seq(connection: Connection, account_id: str) -> int:
    """The highest client order id sequence issued in the account (0 before the first)."""
    value = connection.execute(
        select(TradingAccount.last_order_seq).where(TradingAccount.id == account_id)
    ).scalar()
    return int(value or 0)


def set_last_order_seq(connection: Connection, account_id: str, seq: int) -> None:
    connection.execute(
        update(TradingAccount).where(TradingAccount.id == account_id).values(last_order_seq=seq)
    )


def insert_portfolio(
    connection: Connection,
    name: str,
    account_id: str,
    mode: str,
    benchmark: str | None,
    at: datetime,
) -> PortfolioRecord:
    result = connection.execute(
        insert(Portfolio).returning(Portfolio.id),
        [
            {
                "name": name,
                "account_id": account_id,
                "mode": mode,
                "benchmark": benchmark,
                "created_at": utc(at),
            }
        ],
    )
    portfolio_id = int(result.scalar_one())
    return PortfolioRecord(portfolio_id, name, account_id, mode, benchmark, at)


def get_portfolio(
    connection: Connection, name: str, *, archived: bool = False
) -> PortfolioRecord | None:
    """The portfolio named ``name``; an archived one only with ``archived`` (its name stays
    taken, its ledger kept for audit)."""
    query = select(Portfolio).where(Portfolio.name == name)
    if not archived:
        query = query.where(Portfolio.archived_at.is_(None))
    row = connection.execute(query).first()
    return None if row is None else _portfolio(row)


def list_portfolios(connection: Connection) -> list[PortfolioRecord]:
    """The portfolios not archived, by name."""
    rows = connection.execute(
        select(Portfolio).where(Portfolio.archived_at.is_(None)).order_by(Portfolio.name)
    ).all()
    return [_portfolio(row) for row in rows]


def portfolios_of_account(connection: Connection, account_id: str) -> list[PortfolioRecord]:
    rows = connection.execute(
        select(Portfolio).where(Portfolio.account_id == account_id).order_by(Portfolio.id)
    ).all()
    return [_portfolio(row) for row in rows]


def _portfolio(row: object) -> PortfolioRecord:
    return PortfolioRecord(
        id=int(row.id),  # type: ignore[attr-defined]
        name=str(row.name),  # type: ignore[attr-defined]
        account_id=str(row.account_id),  # type: ignore[attr-defined]
        mode=str(row.mode),  # type: ignore[attr-defined]
        benchmark=row.benchmark,  # type: ignore[attr-defined]
        created_at=utc(row.created_at),  # type: ignore[attr-defined]
    )


# -- strategy books ----------------------------------------------------------------------------
def ensure_strategy(connection: Connection, portfolio_id: int, strategy: str, at: datetime) -> None:
    exists = connection.execute(
        select(StrategyAllocation.strategy).where(
            StrategyAllocation.portfolio_id == portfolio_id,
            StrategyAllocation.strategy == strategy,
        )
    ).first()
    if exists is None:
        connection.execute(
            insert(StrategyAllocation),
            [{"portfolio_id": portfolio_id, "strategy": strategy, "created_at": utc(at)}],
        )


def last_session(connection: Connection, portfolio_id: int, strategy: str) -> date | None:
    """The newest session ``strategy``'s book has been stepped on (``None``: none yet)."""
    value = connection.execute(
        select(StrategyAllocation.last_session).where(
            StrategyAllocation.portfolio_id == portfolio_id,
            StrategyAllocation.strategy == strategy,
        )
    ).scalar()
    return value if isinstance(value, date) else None


def mark_session(
    connection: Connection, portfolio_id: int, strategy: str, session: date, at: datetime
) -> None:
    """Record that ``strategy``'s book has been stepped on ``session`` (the mark never moves
    back: a book stepped on a later session stays marked there)."""
    ensure_strategy(connection, portfolio_id, strategy, at)
    connection.execute(
        update(StrategyAllocation)
        .where(
            StrategyAllocation.portfolio_id == portfolio_id,
            StrategyAllocation.strategy == strategy,
            or_(
                StrategyAllocation.last_session.is_(None),
                StrategyAllocation.last_session < session,
            ),
        )
        .values(last_session=session)
    )


def strategies(connection: Connection, portfolio_id: int) -> list[str]:
    rows = connection.execute(
        select(StrategyAllocation.strategy)
        .where(StrategyAllocation.portfolio_id == portfolio_id)
        .order_by(StrategyAllocation.strategy)
    ).scalars()
    return [str(s) for s in rows]


# -- cash flows --------------------------------------------------------------------------------
def insert_cash_flow(
    connection: Connection,
    portfolio_id: int,
    amount: Decimal,
    at: datetime,
    strategy: str = "",
    note: str | None = None,
) -> None:
    connection.execute(
        insert(CashFlow),
        [
            {
                "portfolio_id": portfolio_id,
                "strategy": strategy,
                "at": utc(at),
                "amount": amount,
                "note": note,
            }
        ],
    )


def cash_flows(connection: Connection, portfolio_id: int) -> list[CashFlowRecord]:
    rows = connection.execute(
        select(CashFlow).where(CashFlow.portfolio_id == portfolio_id).order_by(CashFlow.id)
    ).all()
    return [CashFlowRecord(r.id, r.strategy, utc(r.at), r.amount, r.note) for r in rows]


def ledger_mark(connection: Connection, portfolio_id: int) -> tuple[int, ...]:
    """The newest row of each table a portfolio's books are replayed from (cash flows, fills,
    internal crosses) or reserved by (orders): rows are only ever added to them, so a
    different mark means another writer changed the books since the mark was read."""
    newest = [
        select(func.coalesce(func.max(table.id), 0))
        .where(table.portfolio_id == portfolio_id)
        .scalar_subquery()
        for table in (CashFlow, Execution, InternalCross, TradingOrder)
    ]
    return tuple(int(value) for value in connection.execute(select(*newest)).one())


# -- positions (a cache of the ledger, rewritten in the transaction that books fills) ----------
def replace_positions(
    connection: Connection, portfolio_id: int, positions: Sequence[StoredPosition]
) -> None:
    connection.execute(delete(PositionLot).where(PositionLot.portfolio_id == portfolio_id))
    connection.execute(delete(PositionRow).where(PositionRow.portfolio_id == portfolio_id))
    if not positions:
        return
    executemany(
        connection,
        insert(PositionRow),
        [
            {
                "portfolio_id": portfolio_id,
                "strategy": p.strategy,
                "symbol": p.symbol,
                "quantity": p.quantity,
                "average_cost": p.average_cost,
                "realised_pnl": p.realised_pnl,
            }
            for p in positions
        ],
    )
    lots = [
        {
            "portfolio_id": portfolio_id,
            "strategy": p.strategy,
            "symbol": p.symbol,
            "seq": seq,
            "quantity": lot.quantity,
            "price": lot.price,
        }
        for p in positions
        for seq, lot in enumerate(p.lots)
    ]
    if lots:
        executemany(connection, insert(PositionLot), lots)


def positions(connection: Connection, portfolio_id: int) -> list[StoredPosition]:
    lots: dict[tuple[str, str], list[StoredLot]] = {}
    for row in connection.execute(
        select(PositionLot)
        .where(PositionLot.portfolio_id == portfolio_id)
        .order_by(PositionLot.strategy, PositionLot.symbol, PositionLot.seq)
    ).all():
        lots.setdefault((row.strategy, row.symbol), []).append(StoredLot(row.quantity, row.price))
    rows = connection.execute(
        select(PositionRow)
        .where(PositionRow.portfolio_id == portfolio_id)
        .order_by(PositionRow.strategy, PositionRow.symbol)
    ).all()
    return [
        StoredPosition(
            r.strategy,
            r.symbol,
            r.quantity,
            r.average_cost,
            r.realised_pnl,
            tuple(lots.get((r.strategy, r.symbol), ())),
        )
        for r in rows
    ]


# -- snapshots ---------------------------------------------------------------------------------
def upsert_snapshot(connection: Connection, portfolio_id: int, snapshot: SnapshotRecord) -> None:
    """Store the day's snapshot and its books' snapshots, replacing those taken that day."""
    upsert_snapshots(connection, portfolio_id, [snapshot])


def upsert_snapshots(
    connection: Connection, portfolio_id: int, records: Sequence[SnapshotRecord]
) -> None:
    """Store many days' snapshots (and their books') at once, replacing those taken on those
    days."""
    if not records:
        return
    days = sorted({r.date for r in records})
    for start in range(0, len(days), 500):  # bounded IN lists
        for table in (PortfolioSnapshot, BookSnapshot):
            connection.execute(
                delete(table).where(
                    table.portfolio_id == portfolio_id,
                    table.date.in_(days[start : start + 500]),
                )
            )
    latest = {r.date: r for r in records}  # the last one taken on a day wins
    connection.execute(
        insert(PortfolioSnapshot),
        [
            {
                "portfolio_id": portfolio_id,
                "date": r.date,
                "cash": r.cash,
                "market_value": r.market_value,
                "equity": r.equity,
                "net_flows": r.net_flows,
                "realised_pnl": r.realised_pnl,
                "unrealised_pnl": r.unrealised_pnl,
                "positions": dict(r.positions),
            }
            for r in latest.values()
        ],
    )
    books = [
        {
            "portfolio_id": portfolio_id,
            "strategy": b.strategy,
            "date": b.date,
            "cash": b.cash,
            "market_value": b.market_value,
            "equity": b.equity,
            "net_flows": b.net_flows,
            "realised_pnl": b.realised_pnl,
            "unrealised_pnl": b.unrealised_pnl,
            "positions": dict(b.positions),
        }
        for r in latest.values()
        for b in r.books
    ]
    if books:
        connection.execute(insert(BookSnapshot), books)


def flows_counted_before(
    connection: Connection, portfolio_id: int, day: date
) -> tuple[Decimal, dict[str, Decimal]]:
    """The net flows the snapshots dated before ``day`` counted: the portfolio's, and each
    book's (summed here: SQLite stores money as text)."""
    portfolio = sum(
        connection.execute(
            select(PortfolioSnapshot.net_flows).where(
                PortfolioSnapshot.portfolio_id == portfolio_id, PortfolioSnapshot.date < day
            )
        ).scalars(),
        Decimal(0),
    )
    books: dict[str, Decimal] = {}
    for strategy, amount in connection.execute(
        select(BookSnapshot.strategy, BookSnapshot.net_flows).where(
            BookSnapshot.portfolio_id == portfolio_id, BookSnapshot.date < day
        )
    ):
        books[strategy] = books.get(strategy, Decimal(0)) + amount
    return portfolio, books


def snapshot_before(connection: Connection, portfolio_id: int, day: date) -> SnapshotRecord | None:
    """The portfolio's last snapshot dated before ``day``, if any."""
    query = (
        select(PortfolioSnapshot)
        .where(PortfolioSnapshot.portfolio_id == portfolio_id, PortfolioSnapshot.date < day)
        .order_by(PortfolioSnapshot.date.desc())
        .limit(1)
    )
    r = connection.execute(query).first()
    return None if r is None else _snapshot_record(r)


def snapshots(
    connection: Connection,
    portfolio_id: int,
    start: date | None = None,
    end: date | None = None,
) -> list[SnapshotRecord]:
    query = select(PortfolioSnapshot).where(PortfolioSnapshot.portfolio_id == portfolio_id)
    if start is not None:
        query = query.where(PortfolioSnapshot.date >= start)
    if end is not None:
        query = query.where(PortfolioSnapshot.date <= end)
    rows = connection.execute(query.order_by(PortfolioSnapshot.date)).all()
    return [_snapshot_record(r) for r in rows]


def _snapshot_record(r: Row[Any]) -> SnapshotRecord:
    return SnapshotRecord(
        r.date,
        r.cash,
        r.market_value,
        r.equity,
        r.net_flows,
        r.realised_pnl,
        r.unrealised_pnl,
        r.positions,
    )


def book_snapshots(
    connection: Connection,
    portfolio_id: int,
    strategy: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> list[BookSnapshotRecord]:
    """Per-book snapshots by date, then book (one book's with ``strategy``)."""
    query = select(BookSnapshot).where(BookSnapshot.portfolio_id == portfolio_id)
    if strategy is not None:
        query = query.where(BookSnapshot.strategy == strategy)
    if start is not None:
        query = query.where(BookSnapshot.date >= start)
    if end is not None:
        query = query.where(BookSnapshot.date <= end)
    rows = connection.execute(query.order_by(BookSnapshot.date, BookSnapshot.strategy)).all()
    return [
        BookSnapshotRecord(
            r.strategy,
            r.date,
            r.cash,
            r.market_value,
            r.equity,
            r.net_flows,
            r.realised_pnl,
            r.unrealised_pnl,
            r.positions,
        )
        for r in rows
    ]


# -- the paper broker's own state --------------------------------------------------------------
def save_broker_state(
    connection: Connection, account_id: str, state: Mapping[str, object], at: datetime
) -> None:
    updated = connection.execute(
        update(PaperBrokerState)
        .where(PaperBrokerState.account_id == account_id)
        .values(state=dict(state), updated_at=utc(at))
    )
    if updated.rowcount == 0:
        connection.execute(
            insert(PaperBrokerState),
            [{"account_id": account_id, "state": dict(state), "updated_at": utc(at)}],
        )


def load_broker_state(connection: Connection, account_id: str) -> dict[str, object] | None:
    value = connection.execute(
        select(PaperBrokerState.state).where(PaperBrokerState.account_id == account_id)
    ).scalar()
    return None if value is None else dict(value)
