"""A backtest shows progress on the terminal while it runs, and keeps stdout clean (issue 11)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from quantdesk.cli import common
from quantdesk.cli.app import app


def test_backtest_shows_a_spinner_on_the_terminal_and_json_stays_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"QUANTDESK_DATA_DIR": str(tmp_path / "home")}
    assert CliRunner().invoke(app, ["data", "sample", "--json"], env=env).exit_code == 0
    terminal = io.StringIO()
    monkeypatch.setattr(common, "errors", Console(file=terminal, force_terminal=True, width=100))
    args = ["backtest", "ma-crossover", "--universe", "AAPL,MSFT", "--no-store", "--json"]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["strategy"] == "ma-crossover"
    assert "backtesting ma-crossover" in terminal.getvalue()
