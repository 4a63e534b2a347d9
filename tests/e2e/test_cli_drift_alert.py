"""From the command line, ``portfolio drift`` only reads; ``rebalance`` without ``--execute``
is the check that raises the drift alert above the portfolio's threshold."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from quantdesk.cli.app import app
from quantdesk.config import Settings
from quantdesk.services import build_services
from quantdesk.services.portfolio_settings import SettingsUpdate


def open_alert_kinds(tmp_path: Path) -> list[str]:
    services = build_services(Settings(data_dir=tmp_path))
    try:
        return [a.kind for a in services.alerts.list(acknowledged=False).items]
    finally:
        services.close()


def test_drift_reads_and_a_rebalance_check_raises_the_alert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUANTDESK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("QUANTDESK_DATABASE_URL", raising=False)
    runner = CliRunner()

    def run(*words: str) -> str:
        result = runner.invoke(app, list(words))
        assert result.exit_code == 0, f"quantdesk {' '.join(words)}:\n{result.output}"
        return result.stdout

    run("data", "sample")
    run("portfolio", "create", "core", "--cash", "100000")
    run("rebalance", "core", "--targets", "AAPL=0.5", "--execute")
    services = build_services(Settings(data_dir=tmp_path))
    try:
        services.portfolio_settings.put("core", SettingsUpdate(drift_threshold=0.1))
    finally:
        services.close()
    assert "AAPL" in run("portfolio", "drift", "core", "--targets", "AAPL=0.2")
    assert open_alert_kinds(tmp_path) == []
    run("rebalance", "core", "--targets", "AAPL=0.2")
    assert open_alert_kinds(tmp_path) == ["drift"]
