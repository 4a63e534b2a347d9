"""``quantdesk trade run`` from the command line: a signal strategy replayed on the sample with
the backtest's costs, then one live step (the sample ends in 2022, so the live clock's latest
session has no bar yet: nothing is traded and the command says why)."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from quantdesk.cli import common
from quantdesk.cli.app import app

BOOKS = ("ma-crossover", "momentum-12-1")
UNIVERSE = "AAPL,MSFT,JPM,XOM,JNJ,KO"


def test_trade_run_replays_a_signal_strategy_then_steps_on_the_live_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUANTDESK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("QUANTDESK_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["data", "sample"]).exit_code == 0
    terminal = io.StringIO()  # progress goes to the terminal's stderr; --json stdout stays clean
    monkeypatch.setattr(common, "errors", Console(file=terminal, force_terminal=True, width=120))
    replay = runner.invoke(
        app,
        [
            "trade", "run", "ma-crossover", "--portfolio", "signals",
            "--replay", "2022-01-03:2022-06-30", "--universe", "AAPL,MSFT",
            "--params", '{"fast": 5, "slow": 20}', "--costs", "backtest", "--json",
        ],
    )  # fmt: skip
    assert replay.exit_code == 0, replay.output
    result = json.loads(replay.stdout)
    assert "replaying ma-crossover on signals 2022-01-03..2022-06-30" in terminal.getvalue()
    assert result["strategy"] == "ma-crossover"
    assert result["orders"] > 0
    history = json.loads(runner.invoke(app, ["portfolio", "history", "signals", "--json"]).stdout)
    assert history["snapshots"][-1]["date"] == "2022-06-30"
    assert Decimal(history["snapshots"][-1]["equity"]) == Decimal(result["final_equity"])

    live = runner.invoke(
        app,
        ["trade", "run", "ma-crossover", "--portfolio", "signals", "--universe", "AAPL,MSFT",
         "--params", '{"fast": 5, "slow": 20}', "--once"],
    )  # fmt: skip
    assert live.exit_code == 0, live.output
    assert "no bar for" in live.stdout
    assert "update the data" in live.stdout


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["--replay", "2022-01-03:2022-02-01", "--once"], "--once applies to the live clock"),
        (["--costs", "cheap", "--once"], "use paper or backtest"),
        (["--params", "[1]", "--once"], "a JSON object"),
    ],
)
def test_trade_run_rejects_bad_options_in_one_line(
    words: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUANTDESK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("QUANTDESK_DATABASE_URL", raising=False)
    result = CliRunner().invoke(app, ["trade", "run", "ma-crossover", "--portfolio", "P", *words])
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["nosuch", "--replay", "2022-01-03:2022-02-01"], "unknown strategy 'nosuch'"),
        (["ma-crossover", "--replay", "2022-02-01:2022-01-03"], "is after end"),
    ],
)
def test_a_refused_trade_run_creates_no_portfolio(
    words: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUANTDESK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("QUANTDESK_DATABASE_URL", raising=False)
    runner = CliRunner()
    result = runner.invoke(app, ["trade", "run", *words, "--portfolio", "P"])
    assert result.exit_code != 0
    assert message in result.output
    listed = runner.invoke(app, ["portfolio", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert '"P"' not in listed.output


def test_trade_run_takes_p_for_its_portfolio(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``-p`` was refused ("No such option: -p"); it is ``--portfolio``'s short form."""
    monkeypatch.setenv("QUANTDESK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("QUANTDESK_DATABASE_URL", raising=False)
    runner = CliRunner()
    result = runner.invoke(app, ["trade", "run", "nosuch", "-p", "P", "--once"])
    assert result.exit_code == 1, result.output
    assert "unknown strategy 'nosuch'" in result.output
    helped = runner.invoke(app, ["trade", "run", "--help"], env={"COLUMNS": "200"})
    (line,) = [x for x in helped.output.splitlines() if "--portfolio" in x]
    assert line.split()[2:4] == ["--portfolio", "-p"]


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["--targets", "AAPL=2"], "target weight for AAPL: 2.0 is not a fraction in [0, 1]"),
        (["--targets", "AAPL=0.7,MSFT=0.6"], "target weights add up to 1.3, above 1"),
        (["--book", "a:AAPL=-0.1"], "target weight of book 'a' for AAPL"),
    ],
)
def test_hand_given_target_weights_outside_fractions_are_refused(
    words: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUANTDESK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("QUANTDESK_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["portfolio", "create", "P", "--cash", "1000"]).exit_code == 0
    result = runner.invoke(app, ["rebalance", "P", *words])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_trade_run_trades_the_cash_deposited_to_the_strategys_book(
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
    run("portfolio", "create", "core", "--cash", "50000")
    run("portfolio", "deposit", "core", "20000", "--strategy", "ma-crossover")
    run(
        "trade", "run", "ma-crossover", "--portfolio", "core",
        "--replay", "2022-01-03:2022-06-30", "--universe", "AAPL,MSFT",
        "--params", '{"fast": 5, "slow": 20}',
    )  # fmt: skip
    shown = json.loads(run("portfolio", "show", "core", "--json"))
    books = {b["strategy"]: b for b in shown["books"]}
    assert Decimal(books[""]["cash"]) == Decimal(50_000)  # the unallocated book is untouched
    assert books[""]["positions"] == 0
    assert {p["strategy"] for p in shown["positions"]} <= {"ma-crossover"}
    orders = json.loads(run("order", "list", "core", "--json"))
    assert orders
    assert {o["strategy"] for o in orders} == {"ma-crossover"}
    # the first buys spent the book's 20,000, not the portfolio's 70,000
    first = [o for o in orders if o["created_at"] == orders[0]["created_at"]]
    spent = sum(Decimal(o["filled_quantity"]) * Decimal(o["average_fill_price"]) for o in first)
    assert Decimal(19_990) < spent <= Decimal(20_000)


def test_two_cron_lines_on_one_portfolio_each_trade_the_session_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``trade run A -p core --once`` and ``trade run B -p core --once`` from cron, each run
    twice: both strategies trade the session (the first's snapshot does not make it look done
    for the second), and neither sends anything the second time."""
    from datetime import UTC, datetime

    import quantdesk.services
    from quantdesk.core.clock import SimulatedClock

    monkeypatch.setenv("QUANTDESK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("QUANTDESK_DATABASE_URL", raising=False)
    build = quantdesk.services.build_services
    after_the_close = datetime(2022, 6, 30, 22, 0, tzinfo=UTC)  # Thursday 30 June 2022

    def on_the_clock(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("clock", SimulatedClock(after_the_close))
        return build(*args, **kwargs)

    monkeypatch.setattr(quantdesk.services, "build_services", on_the_clock)
    runner = CliRunner()

    def run(*words: str) -> str:
        result = runner.invoke(app, list(words))
        assert result.exit_code == 0, f"quantdesk {' '.join(words)}:\n{result.output}"
        return result.stdout

    run("data", "sample")
    run("portfolio", "create", "core", "--cash", "1000")
    run("portfolio", "deposit", "core", "20000", "--strategy", "ma-crossover")
    run("portfolio", "deposit", "core", "20000", "--strategy", "momentum-12-1")
    crossover = ["trade", "run", "ma-crossover", "--portfolio", "core", "--once"]
    momentum = ["trade", "run", "momentum-12-1", "--portfolio", "core", "--once"]
    crossover += ["--universe", "LLY,MRK,PEP,KO"]
    momentum += ["--universe", UNIVERSE]
    first, second = run(*crossover), run(*momentum)
    orders = json.loads(run("order", "list", "core", "--json"))
    by_book = {book: [o for o in orders if o["strategy"] == book] for book in BOOKS}
    assert all(by_book.values()), orders
    assert f"{len(by_book['ma-crossover'])} order(s) sent on 2022-06-30" in first
    assert f"{len(by_book['momentum-12-1'])} order(s) sent on 2022-06-30" in second
    for line in (crossover, momentum):  # cron runs each again: nothing is sent twice
        assert "2022-06-30 was acted on already" in run(*line)
    assert json.loads(run("order", "list", "core", "--json")) == orders
