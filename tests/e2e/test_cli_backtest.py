"""``quantdesk backtest | backtests | optimize`` end to end on a fresh SQLite database."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from quantdesk.cli.app import app
from quantdesk.config import Settings
from quantdesk.services import build_services

Invoke = Callable[..., Result]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli_backtest")
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


def _json(result: Result) -> object:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_backtest_json_then_list_show_compare(invoke: Invoke, tmp_path: Path) -> None:
    first = _json(
        invoke(
            "backtest",
            "momentum-12-1",
            "--start",
            "2000-01-01",
            "--end",
            "2012-12-31",
            "--commission-bps",
            "10",
            "--json",
        )
    )
    assert isinstance(first, dict)
    assert first["strategy"] == "momentum-12-1"
    assert first["engine"] == "vector"
    assert first["benchmark"] == "SP500"
    assert first["stored"] is True
    assert first["bias_checks"]["checks"]["lookahead"]["status"] == "pass"
    for key in ("cagr", "sharpe_ratio", "sortino_ratio", "max_drawdown", "alpha", "beta"):
        assert key in first["metrics"]
    second = _json(
        invoke(
            "backtest",
            "momentum-12-1",
            "-p",
            "lookback=126",
            "--params",
            "top_fraction=0.2",
            "--engine",
            "event",
            "--start",
            "2000-01-01",
            "--out",
            str(tmp_path / "out"),
            "--json",
        )
    )
    assert isinstance(second, dict)
    assert second["params"]["lookback"] == 126
    assert second["engine"] == "event"
    assert (tmp_path / "out" / "series.parquet").exists()

    listed = _json(invoke("backtests", "list", "--json"))
    assert isinstance(listed, list)
    assert {r["run_id"] for r in listed} >= {first["run_id"], second["run_id"]}

    shown = _json(invoke("backtests", "show", first["run_id"][:8], "--json"))
    assert isinstance(shown, dict)
    assert shown["run_id"] == first["run_id"]
    assert shown["final_equity"] == pytest.approx(first["final_equity"], rel=1e-12)

    compared = _json(invoke("backtests", "compare", first["run_id"], second["run_id"], "--json"))
    assert isinstance(compared, dict)
    assert set(compared) == {first["run_id"], second["run_id"]}
    assert compared[second["run_id"]]["engine"] == "event"

    table = invoke("backtests", "show", first["run_id"])
    assert table.exit_code == 0
    for label in ("CAGR", "Sharpe", "Sortino", "Max drawdown", "Alpha", "Beta", "Bias checks"):
        assert label in table.stdout


def test_backtest_prints_a_summary_table(invoke: Invoke) -> None:
    result = invoke("backtest", "momentum-12-1", "--start", "2005-01-01", "--no-store")
    assert result.exit_code == 0, result.output
    for label in ("Final equity", "Volatility", "lookahead", "survivorship", "corporate_actions"):
        assert label in result.stdout


def test_optimize_grid_writes_trials(invoke: Invoke, data_dir: Path) -> None:
    outcome = _json(
        invoke(
            "optimize",
            "momentum-12-1",
            "--grid",
            "lookback=126,252",
            "--executor",
            "serial",
            "--start",
            "2000-01-01",
            "--end",
            "2012-12-31",
            "--json",
        )
    )
    assert isinstance(outcome, dict)
    assert len(outcome["trials"]) == 2
    assert outcome["method"] == "grid"
    assert "deflated_sharpe" in outcome["summary"]
    assert "pbo" in outcome["summary"]
    services = build_services(Settings(data_dir=data_dir))
    try:
        sweep = services.backtest.get_sweep(outcome["sweep_id"])
    finally:
        services.close()
    assert sweep["status"] == "done"
    assert len(sweep["trials"]) == 2
    assert sweep["best_params"] == outcome["best_params"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("backtest", "momentum-12-2"), "did you mean 'momentum-12-1'"),
        (("backtest", "momentum-12-1", "--params", "lookback"), "write key=value"),
        (("backtest", "momentum-12-1", "-p", "lookbak=100"), "did you mean 'lookback'"),
        (("backtests", "show", "no-such-run"), "unknown run id 'no-such-run'"),
        (("backtests", "compare", "no-such-run", "other"), "unknown run id"),
        (("optimize", "momentum-12-1", "--grid", "lookback"), "name=value"),
        (("optimize", "momentum-12-1", "--grid", "x=1"), "has no parameter 'x'"),
        (
            ("optimize", "momentum-12-1", "--grid", "skip=5", "--executor", "gpu"),
            "unknown executor",
        ),
    ],
)
def test_bad_input_exits_1_with_a_clear_message(
    invoke: Invoke, args: tuple[str, ...], message: str
) -> None:
    result = invoke(*args)
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_stop_loss_options_reach_the_engine(invoke: Invoke) -> None:
    run = _json(invoke("backtest", "momentum-12-1", "--stop-loss", "0.05", "--json"))
    assert isinstance(run, dict)
    shown = _json(invoke("backtests", "show", str(run["run_id"]), "--json"))
    assert isinstance(shown, dict)
    assert shown["costs"]["commission_bps"] == 10.0  # momentum-12-1's own fee rule
    assert shown["costs"]["commission_per_order"] == 0.0


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--vix-bands", "0-20-0.08"], "--vix-bands"),
        (["--vix-bands", "0:20:0.08,25:inf:0.1"], "contiguous"),
        (["--trailing"], "--trailing needs"),
        (["--stop-loss", "0.05", "--vix-bands", "0:inf:0.1"], "not both"),
    ],
)
def test_bad_stop_options_fail_clearly(invoke: Invoke, args: list[str], words: str) -> None:
    result = invoke("backtest", "momentum-12-1", *args)
    assert result.exit_code == 1
    assert words in result.stderr
