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
