"""The README's paper-trading commands run, in order, on the offline sample."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quantdesk.cli.app import app

README = Path(__file__).resolve().parents[2] / "README.md"


def trading_commands() -> list[list[str]]:
    section = README.read_text().split("## Paper trading", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    assert block is not None
    commands = []
    for line in block.group(1).splitlines():
        words = shlex.split(line, comments=True)
        if words:
            assert words[0] == "quantdesk"
            commands.append(words[1:])
    return commands


def test_readme_trading_commands_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUANTDESK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("QUANTDESK_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["data", "sample"]).exit_code == 0
    outputs = {}
    for words in trading_commands():
        result = runner.invoke(app, words)
        assert result.exit_code == 0, f"quantdesk {' '.join(words)}:\n{result.output}"
        outputs[" ".join(words[:2])] = result.stdout
    shown = json.loads(outputs["portfolio show"])
    assert {p["symbol"] for p in shown["positions"]} == {"AAPL", "MSFT", "KO"}
    assert "in agreement with the broker" in outputs["reconcile core"]
    months = json.loads(outputs["tca --portfolio"])
    assert months["overall"]["orders"] > 0
    # the measured slippage (the paper broker's 5 bp, rounded fills) became the backtest's cost
    run = json.loads(outputs["backtest momentum-12-1"])
    assert run["costs"]["slippage_bps"] == pytest.approx(months["overall"]["mean_bp"])
    assert run["costs"]["slippage_bps"] == pytest.approx(5.0, abs=0.01)


def test_a_bad_order_is_one_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUANTDESK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("QUANTDESK_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["data", "sample"]).exit_code == 0
    assert runner.invoke(app, ["portfolio", "create", "core", "--cash", "1000"]).exit_code == 0
    result = runner.invoke(app, ["order", "submit", "core", "buy", "100", "AAPL"])
    assert result.exit_code == 1
    assert "needs" in result.stderr
    assert "nothing was sent" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    listed = runner.invoke(app, ["order", "list", "core", "--json"])
    assert json.loads(listed.stdout) == []
