"""The API contract: schemathesis generates requests for every documented operation from the
OpenAPI document, as an admin and as a viewer; no answer is a server error and every answer
matches its documented schema. Bounded: a few examples per operation.

Two operations are left out: ``/api/events`` (an endless stream, tested in
``test_api_events``) and ``/api/data/update`` (its job would fetch from the network)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from conftest import CHEAP_HASHER, add_users, write_bars
from quantdesk.api import create_app
from quantdesk.api.context import build_web_services
from quantdesk.db.database import Database
from quantdesk.services import Services
from quantdesk.services.auth import Role

if TYPE_CHECKING:
    from schemathesis import Case

EXCLUDED = ("/api/events", "/api/data/update")
EXAMPLES_PER_OPERATION = 3


@pytest.fixture
def database(tmp_path: Path, sqlite_template: Path) -> Iterator[Database]:
    """SQLite only: the contract does not depend on the backend (and the run is the slowest
    of the API tests)."""
    path = tmp_path / "quantdesk.sqlite"
    shutil.copy(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    yield db
    db.dispose()


@pytest.fixture
def contract_app(services: Services, tmp_path: Path) -> Iterator[dict[str, Any]]:
    services.data.import_files([write_bars(tmp_path / "bars.csv")])
    web = build_web_services(services, hasher=CHEAP_HASHER)
    tokens = add_users(web)
    app = create_app(services, web=web)
    with TestClient(app) as client:
        client.post(
            "/api/portfolios",
            json={"name": "core", "cash": "1000"},
            headers={"Authorization": f"Bearer {tokens[Role.TRADER]}"},
        )
        yield {"app": app, "tokens": tokens}


@pytest.fixture
def api_schema(contract_app: dict[str, Any]) -> Any:
    admin = {"Authorization": f"Bearer {contract_app['tokens'][Role.ADMIN]}"}
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", contract_app["app"], headers=admin)
    return schema.exclude(path=list(EXCLUDED))


BOUNDED = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,  # no example database on disk
)


def check_every_operation(schema: Any, token: str) -> list[str]:
    """Run each operation's generated cases; returns the operations that broke, with why."""
    broken = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30
    for operation in operations:

        @given(case=operation.as_strategy())
        @BOUNDED
        def run(case: Case) -> None:
            case.call_and_validate(
                headers={"Authorization": f"Bearer {token}"},
                checks=[not_a_server_error, response_schema_conformance],
            )

        try:
            run()
        except Exception as failure:  # every broken operation is reported, not just the first
            broken.append(f"{operation.method.upper()} {operation.path}: {failure}"[:2000])
    return broken


@pytest.mark.parametrize("role", [Role.ADMIN, Role.VIEWER])
def test_every_operation_keeps_its_contract(
    api_schema: Any, contract_app: dict[str, Any], role: Role
) -> None:
    broken = check_every_operation(api_schema, contract_app["tokens"][role])
    assert not broken, "\n\n".join(broken)
