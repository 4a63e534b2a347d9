"""``quantdesk strategies enable|disable`` and ``quantdesk portfolio delete`` from the command
line: one line each, audited, and a refusal is one line with exit 1."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from quantdesk.cli.app import app
from quantdesk.config import Settings
from quantdesk.services import build_services


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("QUANTDESK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("QUANTDESK_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["data", "sample"]).exit_code == 0
    assert runner.invoke(app, ["portfolio", "create", "core", "--cash", "10000"]).exit_code == 0
    return runner


def audit(tmp_path: Path) -> list[tuple[str, str]]:
    services = build_services(Settings(data_dir=tmp_path))
    try:
        from quantdesk.services.audit import AuditService

        entries = AuditService(services.database, services.clock).entries()
        return [(e.action, e.target) for e in entries]
    finally:
        services.close()


def test_strategies_disable_then_enable(runner: CliRunner, tmp_path: Path) -> None:
    off = runner.invoke(app, ["strategies", "disable", "momentum-12-1", "--portfolio", "core"])
    assert off.exit_code == 0, off.output
    assert "momentum-12-1 on portfolio core: disabled (positions kept, no new orders)" in off.stdout
    refused = runner.invoke(app, ["rebalance", "core", "--strategy", "momentum-12-1"])
    assert refused.exit_code == 1
    assert "disabled on portfolio 'core'" in refused.output
    on = runner.invoke(app, ["strategies", "enable", "momentum-12-1", "--portfolio", "core"])
    assert on.exit_code == 0, on.output
    assert "enabled" in on.stdout
    assert ("strategies disable", "portfolio=core, strategy=momentum-12-1") in audit(tmp_path)
    unknown = runner.invoke(app, ["strategies", "disable", "nope", "--portfolio", "core"])
    assert unknown.exit_code == 1
    assert "nope" in unknown.output


def test_portfolio_delete_asks_then_archives(runner: CliRunner, tmp_path: Path) -> None:
    kept = runner.invoke(app, ["portfolio", "delete", "core"], input="n\n")
    assert kept.exit_code == 1
    listed = runner.invoke(app, ["portfolio", "list", "--json"])
    assert '"core"' in listed.stdout
    gone = runner.invoke(app, ["portfolio", "delete", "core", "--yes"])
    assert gone.exit_code == 0, gone.output
    assert "archived portfolio 'core'" in gone.stdout
    assert '"core"' not in runner.invoke(app, ["portfolio", "list", "--json"]).stdout
    assert ("portfolio delete", "portfolio=core") in audit(tmp_path)
    missing = runner.invoke(app, ["portfolio", "delete", "core", "--yes"])
    assert missing.exit_code == 1
    assert "unknown portfolio 'core'" in missing.output
