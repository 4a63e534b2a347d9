"""API fixtures: the app on a migrated database (both backends), clients authenticated as
each role by bearer token, a helper that logs a browser-like client in, a small market."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from api_support import CHEAP_HASHER, ApiHarness, add_users, login, write_bars
from fastapi.testclient import TestClient

from quantdesk.api import create_app
from quantdesk.api.context import build_web_services
from quantdesk.services import Services


@pytest.fixture
def harness(services: Services) -> Iterator[ApiHarness]:
    """The app with one user per role (so anonymous requests are refused)."""
    web = build_web_services(services, hasher=CHEAP_HASHER)
    tokens = add_users(web)
    with TestClient(create_app(services, web=web)) as client:
        yield ApiHarness(services, web, client, tokens)


@pytest.fixture
def local_client(services: Services) -> Iterator[TestClient]:
    """The app with no user configured: every request is the local operator."""
    web = build_web_services(services, hasher=CHEAP_HASHER)
    with TestClient(create_app(services, web=web)) as client:
        yield client


@pytest.fixture
def log_in() -> Callable[[TestClient, str, str], str]:
    return login


@pytest.fixture
def market(harness: ApiHarness, tmp_path: Path) -> ApiHarness:
    """The harness with the bars of :func:`api_support.write_bars` imported."""
    harness.services.data.import_files([write_bars(tmp_path / "bars.csv")])
    return harness
