"""Fixtures of the web page tests: the offline sample with scores, two backtests and a paper
portfolio replayed over the sample's last weeks, built once per session; the app on it; and a
uvicorn server in a background thread for the browser tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from web_support import (
    CHROMIUM,
    NOW,
    LiveData,
    LiveServer,
    Site,
    copy_of,
    live_data_on,
    populate,
    serve,
    services_on,
    site_on,
)

from quantdesk.config import Settings
from quantdesk.core.clock import SimulatedClock
from quantdesk.db.database import Database
from quantdesk.services import build_services


@pytest.fixture(scope="session")
def sample_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder (SQLite) holding the populated sample; copy it before changing it."""
    folder = tmp_path_factory.mktemp("web-sample")
    services = services_on(folder)
    try:
        populate(services)
    finally:
        services.close()
    return folder


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def sample_site(
    request: pytest.FixtureRequest, sample_folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """The app on the populated sample, read-only tests only (on SQLite and PostgreSQL)."""
    if request.param == "sqlite":
        services = services_on(copy_of(sample_folder, tmp_path_factory.mktemp("read") / "d"))
    else:
        url = request.getfixturevalue("postgres_schema_url")
        services = services_on(tmp_path_factory.mktemp("pg"), url)
        populate(services)
    yield site_on(services)
    services.close()


@pytest.fixture
def empty_site(database: Database, tmp_path: Path) -> Site:
    """The app on an empty database (each backend): nothing loaded, nothing created."""
    services = build_services(
        Settings(data_dir=tmp_path / "data", database_url=database.url),
        clock=SimulatedClock(NOW),
        database=database,
    )
    return site_on(services)


@pytest.fixture
def writable_site(sample_folder: Path, tmp_path: Path) -> Iterator[Site]:
    """The app on a private copy of the populated sample (SQLite), for tests that trade."""
    services = services_on(copy_of(sample_folder, tmp_path / "data"))
    yield site_on(services)
    services.close()


@pytest.fixture(scope="module")
def live_data(
    module_database_url: str, sample_folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> LiveData:
    """The populated sample of the test module's own, on SQLite (a copy) and on PostgreSQL
    (populated into the module's schema; skipped without ``QUANTDESK_TEST_POSTGRES_URL``,
    a failure in CI): every browser test runs on both backends, one server per module."""
    return live_data_on(module_database_url, sample_folder, tmp_path_factory.mktemp("live") / "d")


@pytest.fixture(scope="module")
def live_server(
    live_data: LiveData, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The server in local-operator mode (no user: every request is the local admin), on the
    module's private sample (the browser tests trade on it), on each backend."""
    screenshots = tmp_path_factory.mktemp(f"screens-{live_data.backend}")
    with serve(live_data.folder, screenshots, database_url=live_data.database_url) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's chromium driven by Playwright (its own browser download cannot work here)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI: the browser tests must run there")
        pytest.skip(f"browser tests need {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield chromium
        chromium.close()
