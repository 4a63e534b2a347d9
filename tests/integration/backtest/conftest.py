"""A database holding the offline sample, loaded once per module and backend (loading it per
test would dominate the run time). Tests add runs with fresh ids, so they do not interfere."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from quantdesk.config import Settings
from quantdesk.core.clock import SimulatedClock
from quantdesk.db.database import Database
from quantdesk.services import Services, build_services


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def sample_services(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Services]:
    folder = tmp_path_factory.mktemp("backtest")
    schema = None
    if request.param == "sqlite":
        path = folder / "quantdesk.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        # a schema of our own: the shared one is truncated by other tests' fixtures
        base = request.getfixturevalue("postgres_schema_url").split("?")[0]
        schema = f"qd_bt_{uuid.uuid4().hex[:10]}"
        admin = create_engine(base)
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        url = f"{base}?options=-csearch_path%3D{schema}"
    database = Database(url)
    services = build_services(
        Settings(data_dir=folder / "data", database_url=url),
        clock=SimulatedClock(datetime(2024, 1, 2, 21, 0, tzinfo=UTC)),
        database=database,
    )
    services.data.load_sample()
    yield services
    services.close()
    if schema is not None:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def export_dir(tmp_path: Path) -> Path:
    return tmp_path / "export"
