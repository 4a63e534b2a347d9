"""Portfolio value, snapshots, time-weighted history, journal and TCA for the trading service.

Time-weighted daily return (flows excluded): ``r_t = (E_t − F_t) / E_{t−1} − 1`` where ``E`` is
the end-of-day equity and ``F_t`` the net deposits the day's snapshot counts (each deposit or
withdrawal is counted by exactly one snapshot, the first that sees it: :func:`flows_due`). A
day that starts with no positive equity (the first snapshot of a portfolio or book, or a
refunded empty one) is measured against its deposits instead, ``r_t = E_t / F_t − 1``: the
money arrived before that day's trades, so the first day's costs and moves count (as a
backtest's first day counts against its starting cash); such a day without deposits has no
return. Metrics follow :func:`quantdesk.analytics.summary` (quantstats definitions).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pandas as pd
from sqlalchemy import Connection

from quantdesk.analytics.tca import OrderPrices, TcaGrouping, TcaReport, analyse
from quantdesk.core.clock import Clock
from quantdesk.core.errors import NotFoundError
from quantdesk.db.database import Database
from quantdesk.db.repositories import journal as journal_repo
from quantdesk.db.repositories import orders as orders_repo
from quantdesk.db.repositories import trading as trading_repo
from quantdesk.db.repositories._utc import utc
from quantdesk.execution import OrderFilled, Position
from quantdesk.services.trading_session import PortfolioSession, PriceBook
from quantdesk.services.trading_types import (
    BookPerformance,
    BookValue,
    JournalView,
    PortfolioHistory,
    PortfolioValue,
    PositionView,
    SnapshotView,
    TradingError,
)

ZERO = Decimal(0)


def value(session: PortfolioSession, prices: PriceBook) -> PortfolioValue:
    """Cash, positions marked at the latest close on or before the clock's date, P&L; and the
    same figures per strategy book (which sum to the portfolio's)."""
    ledger, account = session.ledger, session.account
    held: list[tuple[str, Position]] = []  # one pass over the ledger: every open position
    for strategy in ledger.strategies(account):
        for symbol in ledger.positions(account, strategy):
            held.append((strategy, ledger.position(account, strategy, symbol)))
    prices.preload([p.symbol for _, p in held])
    marks: dict[str, Decimal] = {}
    for _, p in held:
        price = prices(p.symbol)
        if price is None:
            raise TradingError(
                f"no price for held symbol {p.symbol!r} on {session.clock.now().date()}"
            )
        marks[p.symbol] = price
    worth: dict[str, list[Decimal]] = {}  # per book: market value, unrealised P&L
    rows: list[tuple[str, Position, Decimal, Decimal]] = []
    for strategy, p in held:
        mark = marks[p.symbol]
        market_value, unrealised = p.quantity * mark, p.unrealised_pnl(mark)
        rows.append((strategy, p, market_value, unrealised))
        book = worth.setdefault(strategy, [ZERO, ZERO])
        book[0] += market_value
        book[1] += unrealised
    cash = ledger.cash(account)
    market_value = sum((mv for _, _, mv, _ in rows), ZERO)
    equity = cash + market_value
    positions = tuple(
        PositionView(
            strategy=strategy,
            symbol=p.symbol,
            quantity=p.quantity,
            average_cost=p.average_cost,
            price=marks[p.symbol],
            market_value=mv,
            unrealised_pnl=unrealised,
            realised_pnl=p.realised_pnl,
            weight=float(mv / equity) if equity else 0.0,
        )
        for strategy, p, mv, unrealised in rows
    )
    books = []
    for strategy in ledger.strategies(account):
        book_value, book_unrealised = worth.get(strategy, (ZERO, ZERO))
        book_cash = ledger.cash(account, strategy)
        books.append(
            BookValue(
                strategy=strategy,
                cash=book_cash,
                market_value=book_value,
                equity=book_cash + book_value,
                net_deposits=ledger.deposits(account, strategy),
                realised_pnl=ledger.realised_pnl(account, strategy),
                unrealised_pnl=book_unrealised,
                commissions=ledger.commissions(account, strategy),
                positions=sum(1 for s, _ in held if s == strategy),
            )
        )
    return PortfolioValue(
        name=session.portfolio.name,
        at=session.clock.now(),
        cash=cash,
        market_value=market_value,
        equity=equity,
        net_deposits=ledger.deposits(account),
        realised_pnl=sum((b.realised_pnl for b in books), ZERO),
        unrealised_pnl=sum((b.unrealised_pnl for b in books), ZERO),
        commissions=ledger.commissions(account),
        positions=positions,
        books=tuple(books),
    )


def snapshot(session: PortfolioSession, prices: PriceBook) -> SnapshotView:
    """Store the portfolio's value with its net cash flows, and each strategy book's own
    (stored with it, in one transaction; the books sum to the portfolio).

    **Date**: the session of the prices it is valued at, as a broker's statement or LEAN's
    portfolio snapshot is dated — the newest session of the held symbols' closes (a halted
    symbol's older close does not hold the date back); with nothing held, the newest session
    with bars in the database. Never after the clock's date: taken on Sunday with Friday's
    bars it is Friday's (and replaces one taken on Friday); on data that ends in 2021 it is
    dated at its end. **Flows**: see :func:`flows_due` — every deposit or withdrawal is counted
    by exactly one snapshot, the first stored that sees it, so none is ever a return."""
    current = value(session, prices)
    day = valuation_date(current, prices)
    # the account's shares per symbol: two strategy books may hold the same one
    shares: dict[str, Decimal] = {}
    marks: dict[str, Decimal] = {}
    held: dict[str, dict[str, list[str]]] = {}
    for p in current.positions:
        shares[p.symbol] = shares.get(p.symbol, ZERO) + p.quantity
        marks[p.symbol] = p.price
        held.setdefault(p.strategy, {})[p.symbol] = [str(p.quantity), str(p.price)]
    with session.db.transaction() as connection:
        # read and write in one transaction: what earlier snapshots counted cannot change
        # between the count and the store
        record = _record(connection, session, current, day, shares, marks, held)
        trading_repo.upsert_snapshot(connection, session.portfolio.id, record)
    return snapshot_view(record)


def _record(
    connection: Connection,
    session: PortfolioSession,
    current: PortfolioValue,
    day: date,
    shares: Mapping[str, Decimal],
    marks: Mapping[str, Decimal],
    held: Mapping[str, Mapping[str, list[str]]],
) -> trading_repo.SnapshotRecord:
    flows = trading_repo.cash_flows(connection, session.portfolio.id)
    counted = CountedFlows(
        *trading_repo.flows_counted_before(connection, session.portfolio.id, day)
    )
    due = flows_due(flows_by_day(flows), session.clock.now().date(), counted)
    books = tuple(
        trading_repo.BookSnapshotRecord(
            strategy=b.strategy,
            date=day,
            cash=b.cash,
            market_value=b.market_value,
            equity=b.equity,
            net_flows=due.books.get(b.strategy, ZERO),
            realised_pnl=b.realised_pnl,
            unrealised_pnl=b.unrealised_pnl,
            positions=dict(sorted(held.get(b.strategy, {}).items())),
        )
        for b in current.books
    )
    return trading_repo.SnapshotRecord(
        date=day,
        cash=current.cash,
        market_value=current.market_value,
        equity=current.equity,
        net_flows=due.portfolio,
        realised_pnl=current.realised_pnl,
        unrealised_pnl=current.unrealised_pnl,
        positions={s: [str(q), str(marks[s])] for s, q in sorted(shares.items())},
        books=books,
    )


@dataclass(frozen=True, slots=True)
class CountedFlows:
    """Net deposits (currency) counted by snapshots: the portfolio's and each book's."""

    portfolio: Decimal = ZERO
    books: Mapping[str, Decimal] = field(default_factory=dict)

    def plus(self, other: CountedFlows) -> CountedFlows:
        books = dict(self.books)
        for strategy, amount in other.books.items():
            books[strategy] = books.get(strategy, ZERO) + amount
        return CountedFlows(self.portfolio + other.portfolio, books)


def flows_by_day(flows: Iterable[trading_repo.CashFlowRecord]) -> dict[date, dict[str, Decimal]]:
    """Net deposits by UTC day and strategy book."""
    out: dict[date, dict[str, Decimal]] = {}
    for flow in flows:
        day = out.setdefault(utc(flow.at).date(), {})
        day[flow.strategy] = day.get(flow.strategy, ZERO) + flow.amount
    return out


def flows_due(
    flows: Mapping[date, Mapping[str, Decimal]], now: date, counted: CountedFlows
) -> CountedFlows:
    """The net flows a snapshot counts, for the portfolio and each book: the deposits −
    withdrawals dated on or before ``now`` (the clock's date) less what the snapshots dated
    before it counted (``counted``). So each flow is counted once, by the first snapshot stored
    that sees it: a Saturday deposit by Monday's snapshot when Friday's was taken on Friday, by
    Friday's when that one is re-taken on Sunday (Monday's then does not count it again), the
    deposits before a replay's first session by that session's; a flow dated after the clock
    (a replay's clock is at its bar) waits for a later snapshot."""
    seen: dict[str, Decimal] = {}
    for day, amounts in flows.items():
        if day <= now:
            for strategy, amount in amounts.items():
                seen[strategy] = seen.get(strategy, ZERO) + amount
    books = {
        strategy: seen.get(strategy, ZERO) - counted.books.get(strategy, ZERO)
        for strategy in seen.keys() | counted.books.keys()
    }
    return CountedFlows(sum(seen.values(), ZERO) - counted.portfolio, books)


def valuation_date(current: PortfolioValue, prices: PriceBook) -> date:
    """The session whose closes value ``current`` (see :func:`snapshot`)."""
    sessions = [prices.session_of(p.symbol) for p in current.positions]
    known = [d for d in sessions if d is not None]
    return max(known) if known else prices.latest_session()


def history(
    database: Database,
    record: trading_repo.PortfolioRecord,
    start: date | None,
    end: date | None,
) -> PortfolioHistory:
    with database.read() as connection:
        rows = trading_repo.snapshots(connection, record.id, start, end)
        # the day before the window: its equity is the base of the window's first return
        prior = trading_repo.snapshot_before(connection, record.id, start) if start else None
    views = tuple(snapshot_view(r) for r in rows)
    returns = time_weighted_returns(views, snapshot_view(prior) if prior else None)
    compounded = math.prod(1.0 + r for _, r in returns) - 1.0 if returns else 0.0
    metrics: dict[str, float] = {}
    if len(returns) >= 2:
        from quantdesk.analytics import summary

        series = pd.Series(
            [r for _, r in returns], index=pd.DatetimeIndex([pd.Timestamp(d) for d, _ in returns])
        )
        figures = summary(series).to_dict()
        metrics = {
            k: float(v)
            for k, v in figures.items()
            if isinstance(v, int | float) and not isinstance(v, bool)
        }
    return PortfolioHistory(
        portfolio=record.name,
        snapshots=views,
        returns=tuple(r for _, r in returns),
        return_dates=tuple(d for d, _ in returns),
        time_weighted_return=compounded,
        metrics=metrics,
    )


def book_performance(
    database: Database, record: trading_repo.PortfolioRecord
) -> tuple[BookPerformance, ...]:
    """Each strategy book's return since inception and drawdowns from its book snapshots."""
    from quantdesk.analytics.drawdown import drawdown_series

    with database.read() as connection:
        rows = trading_repo.book_snapshots(connection, record.id)
    by_book: dict[str, list[SnapshotView]] = {}
    for r in rows:
        by_book.setdefault(r.strategy, []).append(snapshot_view(r))
    out = []
    for strategy, views in sorted(by_book.items()):
        returns = [r for _, r in time_weighted_returns(views)]
        total = dd = deepest = None
        if returns:
            total = math.prod(1.0 + r for r in returns) - 1.0
            series = drawdown_series(pd.Series(returns, dtype="float64"))
            dd, deepest = float(series.iloc[-1]), float(min(0.0, series.min()))
        out.append(
            BookPerformance(strategy, views[0].date, views[-1].date, len(views), total, deepest, dd)
        )
    return tuple(out)


def time_weighted_returns(
    snapshots: Sequence[SnapshotView], before: SnapshotView | None = None
) -> list[tuple[date, float]]:
    """Daily returns with each day's cash flows taken out (see module doc), by date.

    ``before``: the snapshot preceding ``snapshots[0]`` when they are a window of a longer
    history; ``None`` means ``snapshots[0]`` is the first there is (inception).
    """
    out: list[tuple[date, float]] = []
    previous_equity = before.equity if before is not None else Decimal(0)
    for current in snapshots:
        if previous_equity > 0:
            out.append(
                (current.date, float((current.equity - current.net_flows) / previous_equity - 1))
            )
        elif current.net_flows > 0:
            out.append((current.date, float(current.equity / current.net_flows - 1)))
        previous_equity = current.equity
    return out


def snapshot_view(r: trading_repo.SnapshotRecord | trading_repo.BookSnapshotRecord) -> SnapshotView:
    """The figures of a stored portfolio or book snapshot (without its positions)."""
    return SnapshotView(
        r.date, r.cash, r.market_value, r.equity, r.net_flows, r.realised_pnl, r.unrealised_pnl
    )


# -- journal -----------------------------------------------------------------------------------
def journal_add(
    database: Database,
    clock: Clock,
    record: trading_repo.PortfolioRecord,
    texts: Mapping[str, str | None],
    client_order_id: str | None,
) -> JournalView:
    _check_texts(texts)
    with database.transaction() as connection:
        if client_order_id is not None and not orders_repo.load_orders(
            connection, record.account_id, record.id, [client_order_id]
        ):
            raise NotFoundError(f"portfolio {record.name!r} has no order {client_order_id!r}")
        entry_id = journal_repo.insert_entry(
            connection, record.id, texts, clock.now(), client_order_id=client_order_id
        )
        entry = journal_repo.get_entry(connection, entry_id)
    assert entry is not None
    return _journal_view(record.name, entry)


def journal_edit(
    database: Database, clock: Clock, entry_id: int, texts: Mapping[str, str | None]
) -> JournalView:
    _check_texts(texts)
    with database.transaction() as connection:
        if not journal_repo.update_entry(connection, entry_id, texts, clock.now()):
            raise NotFoundError(f"no journal entry {entry_id}")
        entry = journal_repo.get_entry(connection, entry_id)
        names = {p.id: p.name for p in trading_repo.list_portfolios(connection)}
    assert entry is not None
    return _journal_view(names.get(entry.portfolio_id, "?"), entry)


def journal_list(
    database: Database, record: trading_repo.PortfolioRecord, client_order_id: str | None
) -> list[JournalView]:
    with database.read() as connection:
        entries = journal_repo.entries(connection, record.id, client_order_id)
    return [_journal_view(record.name, e) for e in entries]


def _check_texts(texts: Mapping[str, str | None]) -> None:
    unknown = sorted(set(texts) - set(journal_repo.JOURNAL_TEXT_FIELDS))
    if unknown:
        raise TradingError(
            f"unknown journal field(s) {unknown}; use {', '.join(journal_repo.JOURNAL_TEXT_FIELDS)}"
        )
    if not any(v for v in texts.values()):
        raise TradingError("a journal entry needs at least one non-empty field")


def _journal_view(portfolio: str, e: journal_repo.JournalRecord) -> JournalView:
    return JournalView(
        e.id,
        portfolio,
        e.client_order_id,
        e.thesis,
        e.intended_entry,
        e.sizing_rationale,
        e.exit_plan,
        e.outcome,
        e.lesson,
        e.created_at,
        e.updated_at,
    )


# -- TCA ---------------------------------------------------------------------------------------
def tca(
    database: Database,
    records: Sequence[trading_repo.PortfolioRecord],
    by: TcaGrouping | None,
) -> TcaReport:
    """Costs of every order with fills, from the stored decision/arrival prices and fills."""
    prices: list[OrderPrices] = []
    with database.read() as connection:
        for record in records:
            for stored in orders_repo.load_orders(connection, record.account_id, record.id):
                order = stored.order
                if not order.filled_quantity or order.average_fill_price is None:
                    continue
                decided = stored.decided_at or order.created_at
                if decided is None:
                    decided = next(e.at for e in stored.events if isinstance(e, OrderFilled))
                prices.append(
                    OrderPrices(
                        client_order_id=order.client_order_id,
                        symbol=order.symbol,
                        strategy=order.strategy,
                        side=str(order.side),
                        quantity=float(order.filled_quantity),
                        decided_at=decided,
                        decision_price=_float(stored.decision_price),
                        arrival_price=_float(stored.arrival_price),
                        fill_price=float(order.average_fill_price),
                    )
                )
    return analyse(prices, by=by)


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)
