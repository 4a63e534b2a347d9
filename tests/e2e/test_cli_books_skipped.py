"""A books rebalance names the disabled strategy books it left out (they used to be dropped
silently): in the table output, in ``--json`` and in the service's result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quantdesk.cli.app import app


def test_books_rebalance_names_the_disabled_books_it_skipped(
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
    run("portfolio", "create", "multi", "--cash", "10000")
    # a book buys with its own cash
    move = ("--from", "unallocated", "--to", "momentum-12-1", "--cash", "3000")
    run("portfolio", "transfer", "multi", *move)
    run("portfolio", "deposit", "multi", "3000", "--strategy", "alpha")
    run("strategies", "disable", "rsi", "--portfolio", "multi")
    words = ("rebalance", "multi", "--strategy", "momentum-12-1", "--strategy", "rsi")
    netted = json.loads(run(*words, "--json"))
    assert netted["skipped"] == ["rsi"]
    assert [book["strategy"] for book in netted["books"]] == ["momentum-12-1"]
    assert "skipped strategy book rsi: disabled on multi" in " ".join(run(*words).split())
    other = json.loads(run("rebalance", "multi", "--book", "alpha:AAPL=0.5", "--json"))
    assert other["skipped"] == []
