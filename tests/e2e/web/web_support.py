"""Helpers of the web page tests, imported by name (a module called ``conftest`` is ambiguous
once several test folders are collected together): the offline sample with scores, two
backtests and a paper portfolio, the app on it, and a uvicorn server in a background thread."""

from __future__ import annotations

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
from quantdesk.services import Services, build_services

CHROMIUM = Path("/usr/bin/chromium")


PORTFOLIO = "sample-paper"


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
    replay.trading.create_portfolio(
        PORTFOLIO, Decimal(100_000), benchmark="SP500", strategy="sector-momentum"
    )
    # the unallocated book, which the pages' manual orders and rebalances trade
    replay.trading.deposit(PORTFOLIO, Decimal(100_000))
    replay.trading.run_strategy(
        PORTFOLIO, "sector-momentum", start, end, universe=",".join(symbols)
    )


def services_on(folder: Path, url: str | None = None) -> Services:
    settings = Settings(data_dir=folder, database_url=url)
    return build_services(settings, clock=SimulatedClock(NOW))


def copy_of(sample: Path, target: Path) -> Path:
    shutil.copytree(sample, target, ignore=shutil.ignore_patterns("cache"))
    return target


@dataclass(frozen=True)
class LiveData:
    """Where a live server's populated sample is: ``folder`` (its SQLite database, or only the
    data folder when ``database_url`` names a PostgreSQL schema) and the backend's name."""

    folder: Path
    database_url: str | None
    backend: str


def live_data_on(database_url: str, sample: Path, target: Path) -> LiveData:
    """A private populated sample on ``database_url``'s backend: a copy of the SQLite
    ``sample`` folder, or the sample populated into the empty PostgreSQL schema that
    ``database_url`` names (a schema of the test module's own: the browser tests trade)."""
    if database_url.startswith("sqlite"):
        return LiveData(copy_of(sample, target), None, "sqlite")
    target.mkdir(parents=True)
    services = services_on(target, database_url)
    try:
        populate(services)
    finally:
        services.close()
    return LiveData(target, database_url, "postgresql")


@dataclass(frozen=True)
class Site:
    services: Services
    app: FastAPI
    client: TestClient


def site_on(services: Services) -> Site:
    app = create_app(services)
    return Site(services, app, TestClient(app))


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
    folder: Path,
    screenshots: Path,
    users: Sequence[tuple[str, str]] = (),
    database_url: str | None = None,
) -> Iterator[LiveServer]:
    """The app on ``folder``'s database (or on ``database_url``'s, e.g. a PostgreSQL schema)
    under uvicorn on a free loopback port (what ``quantdesk serve`` runs), with ``users``
    (name, role; password ``NAME-password``) added first."""
    services = services_on(folder, database_url)
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
