"""Every error is RFC 9457 problem details; domain errors keep their status and message,
anything unexpected is a bare 500 (the traceback goes to the log, never to the client)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from quantdesk.api import create_app
from quantdesk.core.errors import (
    ConfigurationError,
    InvalidRequestError,
    NotFoundError,
    SourceError,
)
from quantdesk.services import Services

# storage plays no part here: SQLite only
pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}
SECRET = "hunter2-api-key"


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    app: FastAPI = create_app(services)
    errors = {
        "missing": NotFoundError("unknown portfolio 'nope'"),
        "invalid": InvalidRequestError("threshold must be >= 0, got -1"),
        "config": ConfigurationError("no Polygon API key configured"),
        "source": SourceError("stooq answered 503"),
        "bug": RuntimeError(f"SELECT * FROM users WHERE key='{SECRET}'"),
    }

    @app.get("/api/test-error/{kind}")
    def fail(kind: str) -> None:
        raise errors[kind]

    @app.get("/api/test-validation")
    def validate(limit: int, side: str) -> None:
        return None

    with TestClient(app) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("kind", "status", "detail"),
    [
        ("missing", 404, "unknown portfolio 'nope'"),
        ("invalid", 422, "threshold must be >= 0, got -1"),
        ("config", 409, "no Polygon API key configured"),
        ("source", 502, "stooq answered 503"),
    ],
)
def test_domain_errors_keep_their_message_and_status(
    client: TestClient, kind: str, status: int, detail: str
) -> None:
    response = client.get(f"/api/test-error/{kind}")
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert set(body) >= PROBLEM_KEYS
    assert (body["status"], body["detail"], body["instance"]) == (
        status,
        detail,
        f"/api/test-error/{kind}",
    )


def test_unexpected_errors_are_a_bare_500_and_logged(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="quantdesk.api"):
        response = client.get("/api/test-error/bug")
    assert response.status_code == 500
    body = response.json()
    assert body["detail"] == "internal error; the server log has the details"
    assert SECRET not in response.text
    assert "Traceback" not in response.text
    assert "SELECT" not in response.text
    assert any("RuntimeError" in (r.exc_text or "") or r.exc_info for r in caplog.records)


def test_validation_errors_name_every_field(client: TestClient) -> None:
    response = client.get("/api/test-validation", params={"limit": "ten"})
    assert response.status_code == 422
    body = response.json()
    assert body["type"].endswith("/validation-error")
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"query.limit", "query.side"}
    assert "ten" not in response.text  # inputs are not echoed (they may be secrets)


def test_unknown_routes_and_methods_are_problems(client: TestClient) -> None:
    missing = client.get("/api/no-such-thing")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    wrong_method = client.delete("/api/me")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["status"] == 405


def test_docs_are_served_from_installed_assets(client: TestClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert "cdn." not in page.text
    assert "/api/docs/assets/swagger-ui-bundle.js" in page.text
    script = client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert len(script.content) > 100_000
    assert client.get("/api/openapi.json").json()["info"]["title"] == "quantdesk"
