"""Fixtures for tests that need brand-new databases and child processes to kill.

Children are forked from the test process (quantdesk is already imported, so a child starts in
milliseconds): that is what makes a few hundred random kills affordable in CI.
"""

from __future__ import annotations

import os
import sys
import traceback
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from quantdesk.db.engine import SCHEMA_HEAD, create_db_engine, stored_revision
from quantdesk.db.tables import Base

NewDatabase = Callable[[], str]


class Children:
    """Starts forked children and collects their exit statuses."""

    @staticmethod
    def start(work: Callable[[], object]) -> int:
        """Run ``work`` in a forked child; its exit status is 0 on success, 1 on an exception."""
        return _fork(work)

    @staticmethod
    def status(pid: int) -> int:
        """Wait for the child; its exit code (negative: the signal that ended it)."""
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status)


@pytest.fixture
def children() -> Children:
    return Children()


def _fork(work: Callable[[], object]) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    status = 1
    try:
        work()
        status = 0
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stderr.flush()
        os._exit(status)


ALL_TABLES = {*Base.metadata.tables, "alembic_version"}


def _schema_state(url: str) -> str:
    """``empty``, ``complete`` (every table and the head revision) or what is half there."""
    engine = create_db_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
        revision = stored_revision(engine)
    finally:
        engine.dispose()
    if not tables:
        return "empty"
    if tables == ALL_TABLES and revision == SCHEMA_HEAD:
        return "complete"
    return f"partial: {len(tables)} of {len(ALL_TABLES)} tables, revision {revision}"


@pytest.fixture
def schema_state() -> Callable[[str], str]:
    return _schema_state


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NewDatabase]:
    """A factory of URLs of brand-new, empty databases (no schema yet) on each backend."""
    if request.param == "sqlite":
        counter = iter(range(1_000_000))
        yield lambda: f"sqlite:///{tmp_path}/new{next(counter)}.sqlite"
        return
    base = os.environ.get("QUANTDESK_TEST_POSTGRES_URL")
    if not base:
        if os.environ.get("CI"):
            pytest.fail("QUANTDESK_TEST_POSTGRES_URL is not set in CI")
        pytest.skip("PostgreSQL tests need QUANTDESK_TEST_POSTGRES_URL")
    admin = create_engine(base)
    schemas: list[str] = []

    def make() -> str:
        schema = f"qd_new_{uuid.uuid4().hex[:10]}"
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        schemas.append(schema)
        separator = "&" if "?" in base else "?"
        return f"{base}{separator}options=-csearch_path%3D{schema}"

    yield make
    with admin.begin() as connection:
        for schema in schemas:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()
