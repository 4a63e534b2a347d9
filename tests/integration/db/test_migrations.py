"""Migrations build exactly the schema the tables declare, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from quantdesk.db.database import Database
from quantdesk.db.engine import SCHEMA_HEAD, current_revision, head_revision, stored_revision
from quantdesk.db.tables import Base


def test_migrated_schema_matches_the_tables(database: Database) -> None:
    assert current_revision(database.engine) == head_revision(database.engine)
    with database.read() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_schema_head_constant_is_the_newest_migration(database: Database) -> None:
    assert head_revision(database.engine) == SCHEMA_HEAD
    assert stored_revision(database.engine) == SCHEMA_HEAD


def test_upgrade_is_idempotent(database: Database) -> None:
    before = current_revision(database.engine)
    assert database.upgrade() == before


def test_0007_moves_the_paper_venues_executions_out_of_its_state_document(
    database: Database,
) -> None:
    from datetime import UTC, datetime
    from decimal import Decimal

    from alembic import command

    from quantdesk.db.engine import alembic_config, upgrade
    from quantdesk.db.repositories import paper as paper_repo
    from quantdesk.db.repositories import trading as trading_repo

    at = datetime(2024, 1, 2, 21, 0, tzinfo=UTC)
    execution = {
        "fill_id": "paper-a-x1",
        "client_order_id": "paper-a-1",
        "symbol": "AAA",
        "side": "buy",
        "quantity": "10",
        "price": "100.05",
        "commission": "1",
        "filled_at": at.isoformat(),
        "account": "paper-a",
        "strategy": "",
    }
    command.downgrade(alembic_config(database.engine), "0006")
    try:
        with database.transaction() as connection:
            trading_repo.ensure_account(connection, "paper-a", "paper", at)
            trading_repo.save_broker_state(
                connection,
                "paper-a",
                {
                    "cash": "8999.5",
                    "positions": {"AAA": "10"},
                    "orders": [],
                    "executions": [execution],
                },
                at,
            )
    finally:
        upgrade(database.engine)
    with database.read() as connection:
        state, fills = paper_repo.load(connection, "paper-a")
    assert state == {"cash": "8999.5", "positions": {"AAA": "10"}, "orders": []}
    (fill,) = fills
    assert (fill.fill_id, fill.quantity, fill.price, fill.filled_at) == (
        "paper-a-x1",
        Decimal(10),
        Decimal("100.05"),
        at,
    )


def test_0013_marks_each_existing_book_with_its_portfolios_newest_snapshot(
    database: Database,
) -> None:
    """The old rule (a session is done when the portfolio has its snapshot) carried over to
    the books found at the upgrade; a portfolio without snapshots has no book marked."""
    from datetime import UTC, date, datetime
    from decimal import Decimal

    from alembic import command

    from quantdesk.db.engine import alembic_config, upgrade
    from quantdesk.db.repositories import trading as trading_repo

    at = datetime(2024, 3, 1, 22, 0, tzinfo=UTC)
    zero = Decimal(0)

    def snapshot(day: date) -> trading_repo.SnapshotRecord:
        return trading_repo.SnapshotRecord(day, zero, zero, zero, zero, zero, zero, {})

    command.downgrade(alembic_config(database.engine), "0012")
    try:
        with database.transaction() as connection:
            trading_repo.ensure_account(connection, "paper-a", "paper", at)
            traded = trading_repo.insert_portfolio(
                connection, "traded", "paper-a", "paper", None, at
            )
            fresh = trading_repo.insert_portfolio(connection, "fresh", "paper-a", "paper", None, at)
            for portfolio in (traded.id, fresh.id):
                for book in ("", "alpha", "beta"):
                    trading_repo.ensure_strategy(connection, portfolio, book, at)
            days = (date(2024, 2, 28), date(2024, 2, 29))
            trading_repo.upsert_snapshots(connection, traded.id, [snapshot(d) for d in days])
    finally:
        upgrade(database.engine)
    with database.read() as connection:
        marks = {
            (portfolio.name, book): trading_repo.last_session(connection, portfolio.id, book)
            for portfolio in (traded, fresh)
            for book in ("", "alpha", "beta", "gamma")
        }
    assert marks == {
        ("traded", ""): date(2024, 2, 29),
        ("traded", "alpha"): date(2024, 2, 29),
        ("traded", "beta"): date(2024, 2, 29),
        ("traded", "gamma"): None,  # no such book
        ("fresh", ""): None,
        ("fresh", "alpha"): None,
        ("fresh", "beta"): None,
        ("fresh", "gamma"): None,
    }
