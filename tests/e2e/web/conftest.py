"""Fixtures of the web page tests: the offline sample with scores, two backtests and a paper
portfolio replayed over the sample's last weeks, built once per session; the app on it; and a
uvicorn server in a background thread for the browser tests."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from quantdesk.api import create_app
from quantdesk.config import Settings
from quantdesk.core.clock import SimulatedClock
from quantdesk.db.database import Database
from quantdesk.services import Services, build_services

CHROMIUM = Path("/usr/bin/chromium")
PORTFOLIO = "sample-paper"
# the server's "now": the first session after the sample's last bar (2022-12-28)
NOW = datetime(2023, 1, 3, 21, 0, tzinfo=UTC)
REPLAY_DAYS = 45


def populate(services: Services) -> None:
    """The offline sample, its composite scores, two short backtests, and a paper portfolio
    that replayed the 12-1 rotation over the sample's stocks for the last weeks of data."""
    services.data.load_sample()
    services.research.compute_scores("momentum-composite", benchmark="SP500")
    services.research.recommend()  # what `quantdesk recommend` stores: top 10, equal weight
    for strategy in ("momentum-12-1", "momentum-composite"):
        services.backtest.run(strategy, start=date(2019, 1, 1), benchmark="SP500")
    _, last = services.data.get_date_range()
    end = last.date()
    start = end - timedelta(days=REPLAY_DAYS)
    symbols = [s.symbol for s in services.data.get_symbols() if s.asset_class != "index"]
    replay_clock = SimulatedClock(
        datetime.combine(start - timedelta(days=1), clock_time(0), tzinfo=UTC)
    )
    replay = build_services(services.settings, clock=replay_clock, database=services.database)
    replay.trading.create_portfolio(PORTFOLIO, Decimal(100_000), benchmark="SP500")
    replay.trading.run_strategy(
        PORTFOLIO, "sector-momentum", start, end, universe=",".join(symbols)
    )


def services_on(folder: Path, url: str | None = None) -> Services:
    settings = Settings(data_dir=folder, database_url=url)
    return build_services(settings, clock=SimulatedClock(NOW))


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


def copy_of(sample: Path, target: Path) -> Path:
    shutil.copytree(sample, target, ignore=shutil.ignore_patterns("cache"))
    return target


@dataclass(frozen=True)
class Site:
    services: Services
    app: FastAPI
    client: TestClient


def site_on(services: Services) -> Site:
    app = create_app(services)
    return Site(services, app, TestClient(app))


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


# -- the browser ---------------------------------------------------------------------------
@dataclass(frozen=True)
class LiveServer:
    url: str
    services: Services
    screenshots: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def serve(
    folder: Path, screenshots: Path, users: Sequence[tuple[str, str]] = ()
) -> Iterator[LiveServer]:
    """The app on ``folder``'s database under uvicorn on a free loopback port (what ``quantdesk
    serve`` runs), with ``users`` (name, role; password ``NAME-password``) added first."""
    services = services_on(folder)
    app = create_app(services)
    for name, role in users:
        app.state.web.auth.add_user(name, f"{name}-password", role)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start within 20 s")
        time.sleep(0.02)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", services, screenshots)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        services.close()


@pytest.fixture(scope="module")
def live_server(
    sample_folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The server in local-operator mode (no user: every request is the local admin), on a
    private copy of the sample (the browser tests trade on it)."""
    folder = copy_of(sample_folder, tmp_path_factory.mktemp("live") / "data")
    with serve(folder, tmp_path_factory.mktemp("screens")) as server:
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
