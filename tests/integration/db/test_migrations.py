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
