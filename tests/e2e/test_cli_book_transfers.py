"""``quantdesk portfolio transfer`` and ``quantdesk rebalance --strategy X`` on the sample: the
repair of a portfolio whose ``trade run X`` (before it traded book X) left X's positions in the
unallocated book, then X's rebalance on its own book."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from quantdesk.cli.app import app
from quantdesk.services import trading_replay

BOOK = "momentum-12-1"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("transfer-sample")
    loaded = CliRunner().invoke(app, ["data", "sample"], env={"QUANTDESK_DATA_DIR": str(folder)})
    assert loaded.exit_code == 0, loaded.output
    return folder


@pytest.fixture
def cli(sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    home = tmp_path / "home"
    shutil.copytree(sample, home)
    monkeypatch.setenv("QUANTDESK_DATA_DIR", str(home))
    monkeypatch.delenv("QUANTDESK_DATABASE_URL", raising=False)
    return CliRunner()


def run(cli: CliRunner, *words: str, code: int = 0) -> Result:
    result = cli.invoke(app, list(words))
    assert result.exit_code == code, f"quantdesk {' '.join(words)}:\n{result.output}"
    return result


def test_positions_left_in_the_unallocated_book_move_to_the_strategys(cli: CliRunner) -> None:
    run(cli, "portfolio", "create", "core", "--cash", "50000")
    run(cli, "order", "submit", "core", "buy", "10", "AAPL")  # as trade run X used to
    before = json.loads(run(cli, "portfolio", "value", "core", "--json").stdout)

    moved = run(
        cli, "portfolio", "transfer", "core", "--from", "unallocated", "--to", BOOK,
        "--symbol", "aapl",
    )  # fmt: skip
    line = " ".join(moved.stdout.split())
    assert "core: moved 10 AAPL at " in line
    assert ", the close of 2022-12-28 (" in line
    assert f"from the unallocated book to book {BOOK}" in line
    paid = json.loads(
        run(
            cli, "portfolio", "transfer", "core", "--from", "unallocated", "--to", BOOK,
            "--cash", "5000", "--json",
        ).stdout
    )  # fmt: skip
    assert (paid["source"], paid["target"], paid["value"]) == ("", BOOK, "5000")

    shown = json.loads(run(cli, "portfolio", "show", "core", "--json").stdout)
    for figure in ("cash", "equity", "net_deposits"):
        assert Decimal(shown[figure]) == Decimal(before[figure]), figure
    assert [(p["strategy"], p["symbol"], p["quantity"]) for p in shown["positions"]] == [
        (BOOK, "AAPL", "10")
    ]
    books = {b["strategy"]: b for b in shown["books"]}
    assert Decimal(books[BOOK]["cash"]) == 5000
    assert "in agreement with the broker" in run(cli, "reconcile", "core").stdout


@pytest.mark.parametrize(
    ("words", "code", "message"),
    [
        (["--cash", "60000"], 1, "the unallocated book of portfolio 'core' has 50,000.00 USD cash"),
        (["--symbol", "AAPL"], 1, "the unallocated book of portfolio 'core' holds no AAPL"),
        (["--cash", "1", "--symbol", "AAPL"], 2, "give exactly one of --cash or --symbol"),
        (["--cash", "1", "--quantity", "2"], 2, "--quantity goes with --symbol"),
    ],
)
def test_a_refused_transfer_says_why_in_one_line(
    cli: CliRunner, words: list[str], code: int, message: str
) -> None:
    run(cli, "portfolio", "create", "core", "--cash", "50000")
    refused = run(
        cli, "portfolio", "transfer", "core", "--from", "unallocated", "--to", BOOK, *words,
        code=code,
    )  # fmt: skip
    assert message in refused.output
    assert "Traceback" not in refused.output


def test_rebalance_with_one_strategy_trades_that_strategys_book(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trading_replay, "latest_targets", lambda *_: {"AAPL": 0.5})
    run(cli, "portfolio", "create", "core", "--cash", "50000")
    empty = run(cli, "rebalance", "core", "--strategy", BOOK, code=1)
    assert (
        f"book {BOOK} of portfolio 'core' has no cash or positions to trade: fund it with "
        f"'quantdesk portfolio deposit core AMOUNT --strategy {BOOK}'"
    ) in " ".join(empty.output.split())
    run(cli, "portfolio", "deposit", "core", "10000", "--strategy", BOOK)
    done = json.loads(
        run(cli, "rebalance", "core", "--strategy", BOOK, "--execute", "--json").stdout
    )
    assert done["strategy"] == BOOK
    assert {o["strategy"] for o in done["orders"]} == {BOOK}
    shown = json.loads(run(cli, "portfolio", "show", "core", "--json").stdout)
    books = {b["strategy"]: b for b in shown["books"]}
    assert (Decimal(books[""]["cash"]), books[""]["positions"]) == (50_000, 0)
    assert books[BOOK]["positions"] == 1
    # hand-given targets still trade the unallocated book
    hand = json.loads(run(cli, "rebalance", "core", "--targets", "AAPL=0.1", "--json").stdout)
    assert hand["strategy"] == ""
