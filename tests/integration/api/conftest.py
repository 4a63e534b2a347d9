"""API fixtures: the app on a migrated database (both backends), clients authenticated as
each role by bearer token, and a helper that logs a browser-like client in."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from quantdesk.api import create_app
from quantdesk.api.context import WebServices, build_web_services
from quantdesk.data.calendar import TradingCalendar
from quantdesk.services import Services
from quantdesk.services.auth import Role


@dataclass
class ApiHarness:
    services: Services
    web: WebServices
    client: TestClient  # no credentials
    tokens: dict[Role, str]

    def as_role(self, role: Role) -> TestClient:
        """A client sending the bearer token of a user with ``role``."""
        self.client.headers.pop("Authorization", None)
        client = TestClient(self.client.app)
        client.headers["Authorization"] = f"Bearer {self.tokens[role]}"
        return client


def add_users(web: WebServices) -> dict[Role, str]:
    """One user per role (password 'correct horse <role>'), each with one API token."""
    tokens = {}
    for role in Role:
        web.auth.add_user(f"{role.value}1", f"correct horse {role.value}", role)
        tokens[role] = web.auth.create_token(f"{role.value}1", "test").secret
    return tokens


# argon2 at its cheapest: the tests check behaviour, not the hash's cost
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


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
    with TestClient(
        create_app(services, web=build_web_services(services, hasher=CHEAP_HASHER))
    ) as client:
        yield client


@pytest.fixture
def log_in() -> Callable[[TestClient, str, str], str]:
    return login


def login(client: TestClient, username: str, password: str) -> str:
    """Log ``client`` in through the form; returns the session's CSRF token."""
    client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "login_token": client.cookies.get("quantdesk_login", ""),
            "next": "/api/me",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    session = client.app.state.web.auth.resolve_session(client.cookies["quantdesk_session"])
    assert session is not None
    return session.csrf_token


def write_bars(path: Path) -> Path:
    """Three stocks and the VIX, one bar per NYSE session of January–June 2024."""
    days = TradingCalendar("XNYS").sessions(date(2024, 1, 2), date(2024, 6, 28))
    rows = []
    for symbol, start, growth in (
        ("AAA", 100.0, 0.001),
        ("BBB", 50.0, -0.0005),
        ("CCC", 20.0, 0.002),
        ("^VIX", 15.0, 0.0),
    ):
        for k, day in enumerate(days):
            close = round(start * math.exp(growth * k) + (k % 5 if symbol == "^VIX" else 0), 2)
            rows.append(
                f"{day.date().isoformat()},{symbol},{close},{close},{close},{close},1000000"
            )
    path.write_text("date,symbol,open,high,low,close,volume\n" + "\n".join(rows) + "\n")
    return path


@pytest.fixture
def market(harness: ApiHarness, tmp_path: Path) -> ApiHarness:
    """The harness with the bars of :func:`write_bars` imported."""
    harness.services.data.import_files([write_bars(tmp_path / "bars.csv")])
    return harness
