"""Security: every mutating route refuses anonymous callers (401) and viewers (403); unknown
ids are clean 404s; path parameters fuzzed never give a 500, a traceback or SQL; secrets
(passwords, hashes, API tokens, data-source keys) never appear in a response or a log line."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from conftest import CHEAP_HASHER, ApiHarness, add_users, write_bars
from quantdesk.api import create_app
from quantdesk.api.context import build_web_services
from quantdesk.config import Settings
from quantdesk.db.database import Database
from quantdesk.services import build_services
from quantdesk.services.auth import Role

if TYPE_CHECKING:
    from quantdesk.core.clock import SimulatedClock

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
API_KEY = "AVKEY-very-secret-7731"
FUZZ = [
    "..%2F..%2Fetc%2Fpasswd",
    "%27%20OR%201%3D1%20--",
    "%00",
    "x" * 300,
    "%C3%BC%E2%82%AC",
    "-1",
]
LEAKS = re.compile(r"Traceback|sqlalchemy|SELECT |INSERT |psycopg|sqlite3|File \"/", re.IGNORECASE)


def api_routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path template) of every documented REST route."""
    for path, operations in app.openapi()["paths"].items():
        for method in sorted(operations):
            yield method.upper(), path


def filled(path: str, value: str = "x1") -> str:
    return re.sub(r"\{[^}]+\}", value, path)


@pytest.fixture
def secured(database: Database, clock: SimulatedClock, tmp_path: Path) -> Iterator[ApiHarness]:
    """A market with a data-source API key configured, one user per role and a portfolio."""
    settings = Settings(
        data_dir=tmp_path / "data", database_url=database.url, alphavantage_api_key=API_KEY
    )
    services = build_services(settings, clock=clock, database=database)
    services.data.import_files([write_bars(tmp_path / "bars.csv")])
    web = build_web_services(services, hasher=CHEAP_HASHER)
    tokens = add_users(web)
    with TestClient(create_app(services, web=web)) as client:
        harness = ApiHarness(services, web, client, tokens)
        harness.as_role(Role.TRADER).post("/api/portfolios", json={"name": "core", "cash": "1000"})
        yield harness


def test_every_mutating_route_needs_a_token_and_more_than_viewer(secured: ApiHarness) -> None:
    app = secured.client.app
    assert isinstance(app, FastAPI)
    mutating = [(m, p) for m, p in api_routes(app) if m in MUTATING]
    assert len(mutating) >= 20
    viewer = secured.as_role(Role.VIEWER)
    for method, path in mutating:
        url = filled(path, "core" if "{portfolio}" in path else "1")
        anonymous = secured.client.request(method, url, json={})
        assert anonymous.status_code == 401, (method, path)
        refused = viewer.request(method, url, json={})
        assert refused.status_code == 403, (method, path, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"


def test_admin_only_routes_refuse_traders(secured: ApiHarness) -> None:
    trader = secured.as_role(Role.TRADER)
    assert (
        trader.post("/api/users", json={"username": "x", "password": "long enough"}).status_code
        == 403
    )
    assert trader.get("/api/users").status_code == 403
    assert trader.get("/api/audit").status_code == 403
    assert trader.post("/api/data/update", json={"source": "stooq"}).status_code == 403


def test_unknown_ids_are_clean_404s(secured: ApiHarness) -> None:
    viewer = secured.as_role(Role.VIEWER)
    for path in (
        "/api/portfolios/ghost",
        "/api/portfolios/ghost/positions",
        "/api/portfolios/ghost/performance",
        "/api/portfolios/ghost/orders",
        "/api/portfolios/ghost/journal",
        "/api/backtests/ghost",
        "/api/jobs/ghost",
        "/api/sweeps/ghost",
    ):
        response = viewer.get(path)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["instance"] == path
        assert not LEAKS.search(response.text), response.text


def test_path_parameters_fuzzed_never_break_the_server(secured: ApiHarness) -> None:
    app = secured.client.app
    assert isinstance(app, FastAPI)
    admin = secured.as_role(Role.ADMIN)
    templated = [p for m, p in api_routes(app) if m == "GET" and "{" in p]
    assert templated
    for path in templated:
        for value in FUZZ:
            response = admin.get(filled(path, value))
            assert response.status_code < 500, (path, value, response.text)
            assert not LEAKS.search(response.text), (path, value, response.text)


def test_secrets_never_reach_a_response_or_a_log(
    secured: ApiHarness, caplog: pytest.LogCaptureFixture
) -> None:
    app = secured.client.app
    assert isinstance(app, FastAPI)
    admin = secured.as_role(Role.ADMIN)
    issued = admin.post("/api/users/viewer1/tokens", json={"name": "x"}).json()["secret"]
    hashes = [u.password_hash for u in _user_records(secured)]
    secrets = [*secured.tokens.values(), issued, API_KEY, "correct horse admin", *hashes]
    with caplog.at_level(logging.DEBUG):
        bodies = []
        for method, path in api_routes(app):
            if method == "GET" and "{" not in path and path != "/api/events":
                bodies.append(admin.get(path).text)
        for path in ("/api/users/admin1/tokens", "/api/users/viewer1/tokens", "/api/audit"):
            bodies.append(admin.get(path).text)
        bodies.append(admin.get("/api/data/status").text)
    text = "\n".join(bodies) + "\n".join(r.getMessage() for r in caplog.records)
    for secret in secrets:
        assert secret not in text
    assert "$argon2" not in text


def _user_records(harness: ApiHarness) -> list:  # type: ignore[type-arg]
    from quantdesk.db.repositories import auth as auth_repo

    with harness.services.database.read() as connection:
        return auth_repo.list_users(connection)
