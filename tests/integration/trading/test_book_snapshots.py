"""Per-book snapshots on the replay path (the runner writes them) and after a crash-resume, and
migration 0010's back-fill: the books of every day sum to the portfolio's snapshot."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import delete, insert

from quantdesk.core.clock import SimulatedClock
from quantdesk.db.database import Database
from quantdesk.db.repositories import trading as trading_repo
from quantdesk.db.tables import BookSnapshot, PortfolioSnapshot
from quantdesk.services import Services, build_services

START, END = date(2024, 2, 1), date(2024, 2, 29)
PARAMS = {"lookback": 10, "skip": 2, "top_fraction": 0.67, "frequency": "weekly"}
CUT = date(2024, 2, 9)  # a rebalance session: its batch is sent before its snapshot


def _run(services: Services, portfolio: str, end: date) -> None:
    process = build_services(
        services.settings,
        clock=SimulatedClock(datetime(2024, 1, 31, 21, tzinfo=UTC)),
        database=services.database,
    )
    process.trading.resume_strategy(portfolio, "momentum-12-1", START, end, PARAMS, "AAA,BBB,CCC")


def _shots(
    services: Services, name: str
) -> tuple[list[trading_repo.SnapshotRecord], list[trading_repo.BookSnapshotRecord]]:
    with services.database.read() as connection:
        record = trading_repo.get_portfolio(connection, name)
        assert record is not None
        return (
            trading_repo.snapshots(connection, record.id),
            trading_repo.book_snapshots(connection, record.id),
        )


def _assert_books_sum(services: Services, name: str) -> None:
    portfolio, books = _shots(services, name)
    assert portfolio
    for shot in portfolio:
        day = [b for b in books if b.date == shot.date]
        assert {b.strategy for b in day} == {"momentum-12-1", "idle"}
        for field in ("cash", "market_value", "equity", "net_flows", "realised_pnl"):
            total = sum((getattr(b, field) for b in day), Decimal(0))
            assert abs(total - getattr(shot, field)) <= Decimal("0.01"), (shot.date, field)


def test_a_replayed_book_beside_an_idle_one_and_a_resumed_replay_keep_the_sum(
    trading_services: Services, clock: SimulatedClock
) -> None:
    trading = trading_services.trading
    clock.advance_to(datetime(2024, 1, 31, 21, tzinfo=UTC))
    for name in ("whole", "in-flight"):
        trading.create_portfolio(name, Decimal(100_000), strategy="momentum-12-1")
        trading.deposit(name, Decimal(20_000), "idle")  # funded, never traded
    _run(trading_services, "whole", END)
    _assert_books_sum(trading_services, "whole")
    _, books = _shots(trading_services, "whole")
    traded = [b for b in books if b.strategy == "momentum-12-1"]
    assert len(traded) == 20
    assert len({b.equity for b in traded}) > 1  # the strategy's book moves ...
    assert {b.equity for b in books if b.strategy == "idle"} == {Decimal(20_000)}  # ... not idle's
    assert any(b.positions for b in traded)

    # stopped inside a rebalance session: its batch sent, its snapshots lost
    _run(trading_services, "in-flight", date(2024, 2, 12))
    record = trading._record("in-flight")
    with trading_services.database.transaction() as connection:
        for table in (PortfolioSnapshot, BookSnapshot):
            connection.execute(
                delete(table).where(table.portfolio_id == record.id, table.date >= CUT)
            )
    _run(trading_services, "in-flight", CUT)  # the in-flight session's snapshot only
    _run(trading_services, "in-flight", END)
    _assert_books_sum(trading_services, "in-flight")
    _, resumed = _shots(trading_services, "in-flight")
    assert [(b.strategy, b.date, b.equity, b.positions) for b in resumed] == [
        (b.strategy, b.date, b.equity, b.positions) for b in books
    ]


def test_migration_0010_back_fills_single_book_portfolios_only(database: Database) -> None:
    from alembic import command

    from quantdesk.db.engine import alembic_config, upgrade

    at = datetime(2024, 1, 2, 21, 0, tzinfo=UTC)
    command.downgrade(alembic_config(database.engine), "0009")
    try:
        with database.transaction() as connection:
            trading_repo.ensure_account(connection, "paper-one", "paper", at)
            one = trading_repo.insert_portfolio(connection, "one", "paper-one", "paper", None, at)
            trading_repo.insert_cash_flow(connection, one.id, Decimal(1000), at, "trend")
            two = trading_repo.insert_portfolio(connection, "two", "paper-one", "paper", None, at)
            trading_repo.insert_cash_flow(connection, two.id, Decimal(1000), at, "a")
            trading_repo.insert_cash_flow(connection, two.id, Decimal(1000), at, "b")
            rows = [
                {
                    "portfolio_id": p.id,
                    "date": day,
                    "cash": Decimal(cash),
                    "market_value": Decimal(0),
                    "equity": Decimal(cash),
                    "net_flows": Decimal(0),
                    "realised_pnl": Decimal(0),
                    "unrealised_pnl": Decimal(0),
                    "positions": {},
                }
                for p in (one, two)
                for day, cash in ((date(2024, 1, 2), 1000), (date(2024, 1, 3), 1001))
            ]
            connection.execute(insert(PortfolioSnapshot), rows)
    finally:
        upgrade(database.engine)
    with database.read() as connection:
        single = trading_repo.book_snapshots(connection, one.id)
        several = trading_repo.book_snapshots(connection, two.id)
    assert [(b.strategy, b.date, b.equity) for b in single] == [
        ("trend", date(2024, 1, 2), Decimal(1000)),
        ("trend", date(2024, 1, 3), Decimal(1001)),
    ]
    assert several == []  # several books: their history starts at the migration
