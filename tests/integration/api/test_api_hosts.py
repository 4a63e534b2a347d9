"""Local mode (no user: every request is admin) answers only requests addressed to a loopback
name at the bound port, so a DNS-rebinding page of another site cannot drive it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_support import CHEAP_HASHER, add_users
from fastapi.testclient import TestClient

from quantdesk.api import create_app
from quantdesk.api.context import build_web_services
from quantdesk.api.hosts import HostCheck
from quantdesk.cli.app import app as cli_app
from quantdesk.services import Services


def local_app(services: Services, check: HostCheck) -> TestClient:
    web = build_web_services(services, hasher=CHEAP_HASHER, host_check=check)
    return TestClient(create_app(services, web=web), base_url="http://localhost:8000")


@pytest.fixture
def local(services: Services) -> Iterator[TestClient]:
    with local_app(services, HostCheck.local(8000, ("qd.internal",))) as client:
        yield client


@pytest.mark.parametrize(
    "host", ["localhost:8000", "127.0.0.1:8000", "[::1]:8000", "LOCALHOST:8000"]
)
def test_local_mode_answers_loopback_names_at_its_port(local: TestClient, host: str) -> None:
    response = local.get("/api/me", headers={"Host": host})
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "admin"


@pytest.mark.parametrize(
    "host",
    [
        "evil.example:8000",  # a rebound name: the attack
        "evil.example",
        "localhost:9000",  # another port
        "localhost",  # port 80
        "127.0.0.1.evil.example:8000",
        "localhost:80x",
        "",
    ],
)
def test_dns_rebinding_request_is_refused_with_a_421_problem(local: TestClient, host: str) -> None:
    for method, path in (("GET", "/api/me"), ("POST", "/api/portfolios"), ("GET", "/")):
        response = local.request(method, path, headers={"Host": host}, json={"name": "x"})
        assert response.status_code == 421, (method, path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert "is not this local server" in problem["detail"]
        assert "localhost:8000" in problem["detail"]
    assert local.app.state.services.trading.list_portfolios() == []  # type: ignore[attr-defined]


def test_an_allowed_extra_name_is_answered(local: TestClient) -> None:
    assert local.get("/api/me", headers={"Host": "qd.internal:8000"}).status_code == 200
    assert local.get("/api/me", headers={"Host": "qd.internal:8001"}).status_code == 421


def test_the_check_is_for_local_mode_only(services: Services) -> None:
    """Once users exist, credentials protect the server (it may sit behind a proxy whose Host
    is its public name)."""
    web = build_web_services(services, hasher=CHEAP_HASHER, host_check=HostCheck.local(8000))
    tokens = add_users(web)
    with TestClient(create_app(services, web=web)) as client:
        me = client.get(
            "/api/me",
            headers={
                "Host": "quantdesk.example.com",
                "Authorization": f"Bearer {tokens[next(iter(tokens))]}",
            },
        )
        assert me.status_code == 200


def test_serve_checks_hosts_at_its_port_with_the_allowed_names(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn
    from typer.testing import CliRunner

    monkeypatch.setenv("QUANTDESK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("QUANTDESK_DATABASE_URL", raising=False)
    started: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: started.append(app))
    result = CliRunner().invoke(
        cli_app, ["serve", "--port", "8123", "--allow-host", "box.lan", "--allow-host", "::1"]
    )
    assert result.exit_code == 0, result.output
    check = started[0].state.web.host_check  # type: ignore[attr-defined]
    assert check == HostCheck(8123, frozenset({"localhost", "127.0.0.1", "[::1]", "box.lan"}))


@pytest.mark.parametrize(
    ("host", "flag"),
    [
        ("box.local:8000", "--allow-host box.local:8000"),
        ("Box.Local:9000", "--allow-host box.local:9000"),  # another port: NAME:PORT
        ("box.local", "--allow-host box.local:80"),  # no port in the header: port 80
        ("[fe80::1]:8443", "--allow-host [fe80::1]:8443"),
        ("10.0.0.7:8000", "--allow-host 10.0.0.7:8000"),
    ],
)
def test_the_421_problem_says_how_to_allow_the_host_used(
    local: TestClient, host: str, flag: str
) -> None:
    response = local.get("/api/me", headers={"Host": host})
    assert response.status_code == 421
    detail = response.json()["detail"]
    assert f"start the server with {flag} (" in detail
    assert "NAME:PORT" in detail
    # the value suggested does allow that Host header
    value = flag.removeprefix("--allow-host ")
    assert HostCheck.local(8000, ("qd.internal", value)).allows(host)


@pytest.mark.parametrize(
    "host",
    [
        "localhost:80x",  # no port number: no --allow-host value can match it
        "a;touch${IFS}x:8000",  # shell characters are never suggested as a flag value
        "<script>alert(1)</script>:8000",
        "x" * 300 + ":8000",
    ],
)
def test_the_421_problem_suggests_no_value_for_a_host_that_is_no_name(
    local: TestClient, host: str
) -> None:
    detail = local.get("/api/me", headers={"Host": host}).json()["detail"]
    assert "start the server with" not in detail
    assert "--allow-host takes NAME, NAME:PORT or [IPv6]:PORT" in detail
    assert "is not this local server" in detail
    assert len(detail) < 400  # the header is quoted cut short


def test_the_421_problem_quotes_the_host_without_control_characters(
    local: TestClient,
) -> None:
    detail = local.get("/api/me", headers={"Host": "evil\x1b[2J.example:8000"}).json()["detail"]
    assert "\x1b" not in detail
    assert "Host 'evil[2J.example:8000' is not this local server" in detail
    assert "start the server with" not in detail
