"""Shared fixtures: a migrated database on SQLite always, and on PostgreSQL when
``QUANTDESK_TEST_POSTGRES_URL`` is set (CI sets it; there, a missing server is a failure)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text

from quantdesk.config import Settings
from quantdesk.core.clock import SimulatedClock
from quantdesk.db.database import Database
from quantdesk.db.tables import Base
from quantdesk.services import Services, build_services

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

# Property tests check behaviour, not speed: no per-example deadline (a loaded 2-core CI box
# would make a 200 ms deadline flaky), and in CI a fixed example sequence so a red run replays.
hypothesis_settings.register_profile("quantdesk", deadline=None)
hypothesis_settings.register_profile("ci", deadline=None, derandomize=True)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "quantdesk")
POSTGRES_ENV = "QUANTDESK_TEST_POSTGRES_URL"


def _postgres_url() -> str | None:
    url = os.environ.get(POSTGRES_ENV)
    if url:
        return url
    if os.environ.get("CI"):
        pytest.fail(f"{POSTGRES_ENV} is not set in CI: the PostgreSQL half of the suite cannot run")
    return None


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy (migrating per test is slow)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    Database(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    url = _postgres_url()
    if url is None:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql+psycopg://…/test)")
    schema = f"qd_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in url else "?"
    scoped = f"{url}{separator}options=-csearch_path%3D{schema}"
    Database(scoped).dispose()
    yield scoped
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The URL of a migrated database of the test module's own, on each backend: a copy of
    the SQLite template, or a PostgreSQL schema dropped at the end (the shared schema is
    truncated by other tests' fixtures). Module fixtures build their data set on it once."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("module-db") / "quantdesk.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    base = request.getfixturevalue("postgres_schema_url").split("?")[0]
    schema = f"qd_mod_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "quantdesk.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        db = Database(f"sqlite:///{path}")
    else:
        db = Database(request.getfixturevalue("postgres_schema_url"))
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with db.transaction() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield db
    db.dispose()


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(datetime(2024, 1, 2, 21, 0, tzinfo=UTC))


@pytest.fixture
def services(database: Database, clock: SimulatedClock, tmp_path: Path) -> Iterator[Services]:
    return build_services(
        Settings(data_dir=tmp_path / "data", database_url=database.url),
        clock=clock,
        database=database,
    )


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.fail(f"shared data folder {SHARED_DATA} is missing (clone beside ../shared)")
    return SHARED_DATA
