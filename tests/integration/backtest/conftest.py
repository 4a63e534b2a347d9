"""A database holding the offline sample, loaded once per module and backend (loading it per
test would dominate the run time). Tests add runs with fresh ids, so they do not interfere."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from quantdesk.config import Settings
from quantdesk.core.clock import SimulatedClock
from quantdesk.db.database import Database
from quantdesk.services import Services, build_services


@pytest.fixture(scope="module")
def sample_services(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Services]:
    folder = tmp_path_factory.mktemp("backtest")
    url = module_database_url
    database = Database(url)
    services = build_services(
        Settings(data_dir=folder / "data", database_url=url),
        clock=SimulatedClock(datetime(2024, 1, 2, 21, 0, tzinfo=UTC)),
        database=database,
    )
    services.data.load_sample()
    yield services
    services.close()


@pytest.fixture
def export_dir(tmp_path: Path) -> Path:
    return tmp_path / "export"
