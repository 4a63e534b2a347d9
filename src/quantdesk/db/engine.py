"""Engine creation, write transactions and schema migration (Alembic, run programmatically).

Every write is one transaction that starts by taking the write lock (SQLite ``BEGIN IMMEDIATE``;
on PostgreSQL row locks, plus an advisory lock where a step must not interleave), so concurrent
writers queue rather than fail, and a killed process leaves nothing half written.
"""

from __future__ import annotations

import random
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from quantdesk.db import sqlite_guard

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration's revision. Checking it with one query lets every command skip importing
# Alembic (a sixth of a second) when the schema is current; a test keeps it equal to the scripts.
SCHEMA_HEAD = "0013"
# How long a SQLite writer waits for another one's transaction before giving up (ms). Imports of
# millions of rows take tens of seconds; a queued writer waits rather than fails.
SQLITE_BUSY_TIMEOUT_MS = 120_000
# Whole-transaction retries after a transient failure (lock timeout, deadlock, serialisation).
WRITE_ATTEMPTS = 5
_WRITE_OPTION = "quantdesk_write"
T = TypeVar("T")


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` with the per-backend settings quantdesk relies on.

    SQLite: the parent folder is created, foreign keys are enforced, the journal is WAL so
    readers never block the writer, and quantdesk (not the driver) issues ``BEGIN``, so DDL is
    transactional and a write transaction takes the write lock up front (``BEGIN IMMEDIATE``).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        sqlite_guard.attach(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling commits before DDL (CREATE TABLE runs outside any
    # transaction): turn it off and let the "begin" listener below open every transaction.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # A reader that later writes could deadlock with another writer (SQLITE_BUSY at once, no
    # waiting); a write transaction therefore takes the write lock when it starts.
    immediate = connection.get_execution_options().get(_WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One write transaction: committed on success, rolled back on any exception."""
    with engine.connect() as connection:
        connection.execution_options(**{_WRITE_OPTION: True})
        with connection.begin():
            yield connection


def run_in_transaction(
    engine: Engine, work: Callable[[Connection], T], attempts: int = WRITE_ATTEMPTS
) -> T:
    """``work(connection)`` in one write transaction, re-run whole after a transient failure."""
    for attempt in range(1, attempts + 1):
        try:
            with write_transaction(engine) as connection:
                return work(connection)
        except DBAPIError as exc:
            if attempt == attempts or not is_transient(exc):
                raise
            time.sleep(random.uniform(0.05, 0.2) * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def is_transient(exc: DBAPIError) -> bool:
    """A failure that a re-run of the same transaction can cure: a lock wait that timed out,
    a deadlock or a serialisation failure."""
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in {"40001", "40P01", "55P03"}:
        return True
    message = str(exc.orig).lower()
    return "database is locked" in message or "database is busy" in message


def serialise(connection: Connection, name: str) -> None:
    """Hold the lock ``name`` until the transaction ends, so steps under it never interleave.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: nothing to do, a write transaction
    already holds the database's only write lock.
    """
    if connection.dialect.name == "postgresql":
        key = zlib.crc32(f"quantdesk:{name}".encode())
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def clear_abandoned_schema(connection: Connection, table_names: set[str]) -> None:
    """Drop what an interrupted schema creation of an older quantdesk left behind.

    Before schema creation was one transaction, a kill could leave some tables and no
    ``alembic_version``; every later upgrade then failed with "table … already exists". Such
    tables are dropped only when they are all quantdesk's and all empty, so no data is lost.
    """
    from sqlalchemy import inspect

    present = set(inspect(connection).get_table_names())
    if not present or "alembic_version" in present or not present <= table_names:
        return
    quote = connection.dialect.identifier_preparer.quote
    for name in present:
        if connection.execute(text(f"SELECT 1 FROM {quote(name)} LIMIT 1")).first():
            return
    for name in present:
        drop = f"DROP TABLE {quote(name)}"
        connection.execute(text(drop + (" CASCADE" if connection.dialect.name != "sqlite" else "")))


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the schema to ``revision`` in one transaction (idempotent).

    The whole upgrade commits or nothing does, so a process killed half-way (or a full disk)
    leaves the database as it was; concurrent upgrades queue on the schema lock and the later
    ones find nothing left to do.
    """
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def stored_revision(engine: Engine) -> str | None:
    """The revision recorded in ``alembic_version`` (None for an empty database), by plain SQL."""
    try:
        with engine.connect() as connection:
            value = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:  # no alembic_version table yet
        return None
    return None if value is None else str(value)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
