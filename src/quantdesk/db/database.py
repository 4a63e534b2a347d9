"""The database handle services hold: an engine whose schema is at the latest migration."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine

from quantdesk.config import redact_url
from quantdesk.db.engine import SCHEMA_HEAD, create_db_engine, stored_revision, upgrade


class Database:
    """Owns the engine; ``transaction()`` is the unit of work for every write."""

    def __init__(
        self, url: str, *, auto_upgrade: bool = True, engine: Engine | None = None
    ) -> None:
        self.url = url
        self.engine = engine if engine is not None else create_db_engine(url)
        if auto_upgrade:
            self.upgrade()

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
        with self.engine.begin() as connection:
            yield connection

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as connection:
            yield connection

    def dispose(self) -> None:
        self.engine.dispose()
