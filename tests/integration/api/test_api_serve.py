"""``quantdesk serve`` refuses what would be unsafe or wrong before it binds anything: a public
address with no user, a database at an older schema. The user and token commands work from
the command line and a token they print authenticates API calls."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from quantdesk.api import create_app
from quantdesk.cli.app import app
from quantdesk.cli.serve import is_loopback
from quantdesk.config import Settings
from quantdesk.db.database import Database
from quantdesk.db.engine import create_db_engine, upgrade
from quantdesk.services import build_services
from quantdesk.services.auth import TOKEN_RECHECK_SECONDS


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("QUANTDESK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("QUANTDESK_DATABASE_URL", raising=False)
    return tmp_path


def serve_refusal(arguments: list[str]) -> str:
    import uvicorn

    started = []
    original = uvicorn.run
    uvicorn.run = lambda *args, **kwargs: started.append(kwargs)  # type: ignore[assignment]
    try:
        result = CliRunner().invoke(app, ["serve", *arguments])
    finally:
        uvicorn.run = original  # type: ignore[assignment]
    assert result.exit_code == (0 if started else 1), result.output
    return "" if started else result.output


def test_serve_refuses_a_public_bind_without_users(data_dir: Path) -> None:
    output = serve_refusal(["--host", "0.0.0.0", "--port", "8123"])
    assert "refusing to listen on 0.0.0.0: no user is configured" in output
    assert serve_refusal(["--host", "127.0.0.1", "--port", "8123"]) == ""


def test_serve_binds_a_public_address_once_a_user_exists(data_dir: Path) -> None:
    added = CliRunner().invoke(
        app, ["user", "add", "ops", "--role", "admin", "--password-stdin"], input="s3cret-pass\n"
    )
    assert added.exit_code == 0, added.output
    assert serve_refusal(["--host", "0.0.0.0", "--port", "8123"]) == ""


def test_serve_refuses_an_out_of_date_schema(data_dir: Path) -> None:
    engine = create_db_engine(f"sqlite:///{data_dir / 'quantdesk.sqlite'}")
    upgrade(engine, "0006")
    engine.dispose()
    output = serve_refusal([])
    assert "schema is at revision 0006" in output
    assert "quantdesk db upgrade" in output


def test_serve_demo_serves_the_database_the_demo_filled(data_dir: Path) -> None:
    # an out-of-date demo database is refused: proof that --demo opened that one, not the user's
    (data_dir / "demo").mkdir()
    engine = create_db_engine(f"sqlite:///{data_dir / 'demo' / 'quantdesk.sqlite'}")
    upgrade(engine, "0006")
    engine.dispose()
    assert "schema is at revision 0006" in serve_refusal(["--demo"])
    assert serve_refusal([]) == ""  # the user's own (new) database is fine
    assert not (data_dir / "demo" / "quantdesk.sqlite").samefile(data_dir / "quantdesk.sqlite")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("example.com", False),
    ],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_token_from_the_command_line_authenticates(data_dir: Path) -> None:
    runner = CliRunner()
    runner.invoke(
        app, ["user", "add", "ana", "--role", "trader", "--password-stdin"], input="long-password\n"
    )
    created = runner.invoke(app, ["token", "create", "ana", "--name", "laptop"])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("qd_")
    settings = Settings(data_dir=data_dir)
    services = build_services(settings, database=Database(settings.resolved_database_url))
    with TestClient(create_app(services)) as client:
        me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json() == {"name": "ana", "role": "trader", "via": "token"}
        token_id = token.split("_")[1]
        assert runner.invoke(app, ["token", "revoke", token_id]).exit_code == 0
        # another process revoked it: refused once the server re-reads the token's row
        deadline = time.monotonic() + TOKEN_RECHECK_SECONDS + 3
        while client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).is_success:
            assert time.monotonic() < deadline, "a revoked token is still accepted"
            time.sleep(0.1)
        listed = runner.invoke(app, ["user", "list", "--json"])
        assert '"username": "ana"' in listed.stdout
        assert "argon2" not in listed.stdout
        assert token not in listed.stdout
    services.close()


def test_serve_keeps_panels_in_memory_for_warm_backtests(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server's repeated backtests read their panel from memory (a one-shot command keeps
    none, so its memory does not grow)."""
    import quantdesk.services as services_module
    from quantdesk.data.panel_cache import KEEP_IN_MEMORY

    built: list[int] = []

    def recording(*args: object, **kwargs: int) -> object:
        built.append(kwargs.get("panels_in_memory", 0))
        return build_services(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(services_module, "build_services", recording)
    assert serve_refusal(["--port", "8123"]) == ""
    assert built == [KEEP_IN_MEMORY]
