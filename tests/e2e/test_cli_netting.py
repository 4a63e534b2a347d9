"""``quantdesk rebalance P --book … --book …``: strategy books netted in one batch, and
``portfolio show`` breaking the portfolio down per book."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quantdesk.cli.app import app


def test_two_books_net_their_trades_and_show_lists_each_book(
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
    run("portfolio", "create", "multi", "--cash", "0")
    run("portfolio", "deposit", "multi", "50000", "--strategy", "alpha")
    run("portfolio", "deposit", "multi", "50000", "--strategy", "beta")
    run("rebalance", "multi", "--book", "alpha:AAPL=0.5", "--book", "beta:MSFT=0.5", "--execute")
    out = json.loads(
        run(
            "rebalance",
            "multi",
            "--book",
            "alpha:",
            "--book",
            "beta:AAPL=0.4,MSFT=0.5",
            "--execute",
            "--json",
        )
    )
    # alpha sells all its AAPL, beta buys some: those cross, only the rest is sent
    assert {(c["strategy"], c["side"]) for c in out["crosses"]} == {
        ("alpha", "sell"),
        ("beta", "buy"),
    }
    assert [(o["symbol"], o["side"]) for o in out["orders"]] == [("AAPL", "sell")]
    shown = run("portfolio", "show", "multi")
    assert "Strategy books of multi" in shown
    books = json.loads(run("portfolio", "show", "multi", "--json"))["books"]
    assert [b["strategy"] for b in books] == ["alpha", "beta"]
    assert run("reconcile", "multi").count("in agreement with the broker") == 1
    bad = runner.invoke(app, ["rebalance", "multi", "--book", "alpha=AAPL"])
    assert bad.exit_code != 0
