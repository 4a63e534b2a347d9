"""The README's strategy-book commands (``quantdesk rebalance P --book … --book …``): books
netted in one batch, and ``portfolio show`` breaking the portfolio down per book."""

from __future__ import annotations

import json
import re
import shlex
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quantdesk.cli.app import app

README = Path(__file__).resolve().parents[2] / "README.md"


def book_commands() -> list[list[str]]:
    section = README.read_text().split("### Strategy books", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    assert block is not None
    commands = [shlex.split(line, comments=True) for line in block.group(1).splitlines()]
    assert all(words[0] == "quantdesk" for words in commands if words)
    return [words[1:] for words in commands if words]


def test_two_books_net_their_trades_and_show_lists_each_book(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUANTDESK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("QUANTDESK_DATABASE_URL", raising=False)
    runner = CliRunner()

    def run(words: list[str]) -> str:
        result = runner.invoke(app, words)
        assert result.exit_code == 0, f"quantdesk {' '.join(words)}:\n{result.output}"
        return result.stdout

    run(["data", "sample"])
    outputs = [run(words) for words in book_commands()]
    netted = json.loads(next(o for o in outputs if o.lstrip().startswith("{")))
    # alpha sells all its AAPL, beta buys some: those cross, only the rest is sent
    assert {(c["strategy"], c["side"]) for c in netted["crosses"]} == {
        ("alpha", "sell"),
        ("beta", "buy"),
    }
    assert [(o["symbol"], o["side"]) for o in netted["orders"]] == [("AAPL", "sell")]
    assert any("Strategy books of multi" in o for o in outputs)
    assert "in agreement with the broker" in outputs[-1]
    books = json.loads(run(["portfolio", "show", "multi", "--json"]))["books"]
    assert [b["strategy"] for b in books] == ["alpha", "beta"]
    account = json.loads(run(["portfolio", "value", "multi", "--json"]))
    assert sum(Decimal(b["cash"]) for b in books) == Decimal(account["cash"])
    bad = runner.invoke(app, ["rebalance", "multi", "--book", "alpha=AAPL"])
    assert bad.exit_code != 0
    assert "BOOK:SYMBOL=WEIGHT" in bad.output
