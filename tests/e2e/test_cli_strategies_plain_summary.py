"""``quantdesk strategies list`` printed each summary with its docstring's reStructuredText
markup (``` ``ensemble``: one long/flat … ```): the summaries are plain text now, in the table
and in ``--json``; ``strategies show`` keeps the docstring as written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quantdesk.cli.app import app


def test_strategies_list_prints_plain_summaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUANTDESK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("QUANTDESK_DATABASE_URL", raising=False)
    runner = CliRunner()
    listed = runner.invoke(app, ["strategies", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    summaries = {s["name"]: s["summary"] for s in json.loads(listed.stdout)}
    assert summaries["ensemble"].startswith("ensemble: one long/flat decision per bar")
    assert summaries["rsi"] == (
        "rsi: buy when the RSI is oversold (below lower), sell when overbought (above upper)."
    )
    assert not [name for name, text in summaries.items() if "`" in text]

    table = runner.invoke(app, ["strategies", "list"], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert "ensemble: one long/flat" in table.stdout
    assert "`" not in table.stdout
