"""``quantdesk backtest --from-run``, ``backtests delete | export``, ``strategies list | show``,
``optimize show``, ``--version`` and ``-h`` end to end on a fresh SQLite database."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from quantdesk import __version__
from quantdesk.cli.app import app

Invoke = Callable[..., Result]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli_reproduce")
    result = CliRunner().invoke(
        app, ["data", "sample", "--json"], env={"QUANTDESK_DATA_DIR": str(folder)}
    )
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture
def invoke(data_dir: Path) -> Invoke:
    def run(*args: str) -> Result:
        return CliRunner().invoke(app, list(args), env={"QUANTDESK_DATA_DIR": str(data_dir)})

    return run


def _json(result: Result) -> dict:  # type: ignore[type-arg]
    assert result.exit_code == 0, result.output
    value = json.loads(result.stdout)
    assert isinstance(value, dict)
    return value


def test_from_run_reproduces_a_stored_run_bit_for_bit(invoke: Invoke, tmp_path: Path) -> None:
    first = _json(
        invoke(
            "backtest", "momentum-12-1", "--start", "2005-01-01", "--end", "2012-12-31",
            "-p", "top_fraction=0.3", "--slippage-bps", "4", "--stop-loss", "0.15",
            "--trailing", "--take-profit", "0.5", "--benchmark", "none", "--json",
        )
    )  # fmt: skip
    assert first["config"]["stop_loss"]["stop"] == 0.15
    again = _json(invoke("backtest", "--from-run", first["run_id"][:8], "--json"))
    assert again["run_id"] != first["run_id"]
    assert again["final_equity"] == first["final_equity"]
    assert again["metrics"] == first["metrics"]
    assert again["config"]["rerun_of"] == first["run_id"]

    files = _json(invoke("backtests", "export", again["run_id"], "--out", str(tmp_path), "--json"))
    document = json.loads((tmp_path / "run.json").read_text())
    assert str(tmp_path / "run.json") in files["files"]
    assert document["config"]["universe"] == "all"

    deleted = _json(invoke("backtests", "delete", again["run_id"], "--json"))
    assert deleted["deleted"] == [again["run_id"]]
    gone = invoke("backtests", "show", again["run_id"])
    assert gone.exit_code == 1
    assert "unknown run id" in gone.output
    conflict = invoke("backtest", "rsi", "--from-run", first["run_id"])
    assert conflict.exit_code == 1
    assert "--from-run" in conflict.output


def test_universe_keyword_all_is_every_equity_not_the_ticker(invoke: Invoke) -> None:
    run = _json(invoke("backtest", "momentum-12-1", "--universe", "ALL", "--no-store", "--json"))
    assert run["universe"] == "all"
    bad = invoke("backtest", "momentum-12-1", "--universe", "AAPL,ALL")
    assert bad.exit_code == 1
    assert "symbol:ALL" in bad.output


def test_strategies_list_and_show_give_parameters_with_types_defaults_descriptions(
    invoke: Invoke,
) -> None:
    listed = invoke("strategies", "list", "--json")
    assert listed.exit_code == 0, listed.output
    names = [s["name"] for s in json.loads(listed.stdout)]
    assert {"momentum-12-1", "rsi", "ma-crossover", "sector-rotation"} <= set(names)
    shown = _json(invoke("strategies", "show", "momentum-12-1", "--json"))
    lookback = next(p for p in shown["parameters"] if p["name"] == "lookback")
    assert (lookback["type"], lookback["default"]) == ("int", 252)
    assert lookback["description"]
    assert lookback["constraints"] == ">= 2"
    assert shown["kind"] == "allocation"
    # what it reads: valuation prices and the membership mask, a year of warm-up
    assert shown["requirements"]["fields"] == ["price"]
    assert shown["requirements"]["membership"] is True
    assert shown["requirements"]["warmup"] == 252
    text = invoke("strategies", "show", "momentum-composite")
    assert text.exit_code == 0, text.output
    needs = " ".join(text.stdout.split())
    assert "needs (default parameters): fields price, volume; benchmark (the run's)" in needs
    assert "earnings" in needs
    unknown = invoke("strategies", "show", "momentun")
    assert unknown.exit_code == 1
    assert "did you mean 'momentum-12-1'" in unknown.output


def test_version_and_short_help(invoke: Invoke) -> None:
    version = invoke("--version")
    assert version.exit_code == 0
    assert version.stdout.strip() == f"quantdesk {__version__}"
    short = invoke("-h")
    assert short.exit_code == 0
    assert "strategies" in short.stdout
    assert invoke("backtests", "-h").exit_code == 0


def test_optimize_show_lists_trials_and_names_the_best(invoke: Invoke) -> None:
    sweep = _json(
        invoke(
            "optimize", "momentum-12-1", "--grid", "lookback=126,252", "--executor", "serial",
            "--start", "2005-01-01", "--end", "2012-12-31", "--json",
        )
    )  # fmt: skip
    shown = _json(invoke("optimize", "show", sweep["sweep_id"][:8], "--json"))
    best = shown["summary"]["best_trial"]
    assert [t["number"] for t in shown["trials"]] == [0, 1]
    assert shown["trials"][best]["params"] == shown["best_params"]
    table = invoke("optimize", "show", sweep["sweep_id"])
    assert table.exit_code == 0, table.output
    assert f"{best} *" in table.stdout
