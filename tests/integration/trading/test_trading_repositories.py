"""Trading tables round-trip exact money on both backends and enforce their uniqueness."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError

from quantdesk.db.database import Database
from quantdesk.db.repositories import journal, trading

AT = datetime(2024, 3, 1, 15, 30, tzinfo=UTC)


def _portfolio(database: Database) -> trading.PortfolioRecord:
    with database.transaction() as connection:
        trading.ensure_account(connection, "paper-main", "paper", AT)
        return trading.insert_portfolio(connection, "core", "paper-main", "paper", "SPY", AT)


def test_money_round_trips_exactly(database: Database) -> None:
    portfolio = _portfolio(database)
    # a float column would return 0.30000000000000004 for 0.1 + 0.2, or round 28 digits
    amount = Decimal("0.1") + Decimal("0.2") + Decimal("123456789012.0000000001")
    with database.transaction() as connection:
        trading.insert_cash_flow(connection, portfolio.id, amount, AT, note="initial")
    with database.read() as connection:
        (flow,) = trading.cash_flows(connection, portfolio.id)
    assert flow.amount == Decimal("123456789012.3000000001")
    assert isinstance(flow.amount, Decimal)


def test_portfolio_names_are_unique(database: Database) -> None:
    _portfolio(database)
    with pytest.raises(IntegrityError), database.transaction() as connection:
        trading.insert_portfolio(connection, "core", "paper-main", "paper", None, AT)


def test_positions_and_lots_are_replaced_whole(database: Database) -> None:
    portfolio = _portfolio(database)
    lot = trading.StoredLot(Decimal("10"), Decimal("101.25"))
    held = trading.StoredPosition("", "AAPL", Decimal("10"), Decimal("101.25"), Decimal(0), (lot,))
    with database.transaction() as connection:
        trading.replace_positions(connection, portfolio.id, [held])
        trading.replace_positions(connection, portfolio.id, [held])
    with database.read() as connection:
        assert trading.positions(connection, portfolio.id) == [held]


def test_snapshot_of_a_day_is_replaced(database: Database) -> None:
    portfolio = _portfolio(database)
    day = date(2024, 3, 1)
    first = trading.SnapshotRecord(
        day, Decimal(100), Decimal(0), Decimal(100), Decimal(100), Decimal(0), Decimal(0), {}
    )
    second = trading.SnapshotRecord(
        day,
        Decimal(50),
        Decimal("50.5"),
        Decimal("100.5"),
        Decimal(100),
        Decimal(0),
        Decimal("0.5"),
        {"AAPL": ["1", "50.5"]},
    )
    with database.transaction() as connection:
        trading.upsert_snapshot(connection, portfolio.id, first)
    with database.transaction() as connection:
        trading.upsert_snapshot(connection, portfolio.id, second)
    with database.read() as connection:
        assert trading.snapshots(connection, portfolio.id) == [second]


def test_journal_entries_are_editable(database: Database) -> None:
    portfolio = _portfolio(database)
    with database.transaction() as connection:
        entry_id = journal.insert_entry(
            connection, portfolio.id, {"thesis": "cheap vs peers"}, AT, client_order_id="o-1"
        )
    later = datetime(2024, 4, 1, tzinfo=UTC)
    with database.transaction() as connection:
        assert journal.update_entry(connection, entry_id, {"outcome": "+4 %"}, later)
        assert not journal.update_entry(connection, entry_id + 1, {"outcome": "x"}, later)
    with database.read() as connection:
        entry = journal.get_entry(connection, entry_id)
    assert entry is not None
    assert (entry.thesis, entry.outcome, entry.client_order_id) == ("cheap vs peers", "+4 %", "o-1")
    assert entry.updated_at.astimezone(UTC) == later
    with pytest.raises(ValueError, match="unknown journal field"):
        journal.update_entry(connection, entry_id, {"mood": "good"}, later)
