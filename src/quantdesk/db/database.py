"""The database handle services hold: an engine whose schema is at the latest migration."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import Connection, Engine

from quantdesk.config import redact_url
from quantdesk.db.engine import (
    SCHEMA_HEAD,
    create_db_engine,
    run_in_transaction,
    stored_revision,
    upgrade,
    write_transaction,
)

T = TypeVar("T")


class Database:
    """Owns the engine; ``transaction()`` / ``write()`` are the unit of work for every write."""

    def __init__(
        self, url: str, *, auto_upgrade: bool = True, engine: Engine | None = None
    ) -> None:
        self.url = url
        self.engine = engine if engine is not None else create_db_engine(url)
        if auto_upgrade:
            try:
                self.upgrade()
            except BaseException:
                # a failed upgrade (full disk, kill signal) must not leave pooled connections
                # holding its half-done transaction until some later garbage collection
                if engine is None:
                    self.engine.dispose()
                raise

    def __repr__(self) -> str:
        return f"Database({redact_url(self.url)!r})"

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def upgrade(self) -> str | None:
        """Bring the schema to the latest migration; returns the revision now in place."""
        if stored_revision(self.engine) == SCHEMA_HEAD:
            return SCHEMA_HEAD
        upgrade(self.engine)
        return stored_revision(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction, holding the write lock from its start (it waits its turn)."""
        with write_transaction(self.engine) as connection:
            yield connection

    def write(self, work: Callable[[Connection], T]) -> T:
        """``work(connection)`` in one write transaction, re-run whole if a concurrent writer
        made it fail transiently (lock timeout, deadlock); returns what ``work`` returns."""
        return run_in_transaction(self.engine, work)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as connection:
            yield connection

    def dispose(self) -> None:
        self.engine.dispose()
