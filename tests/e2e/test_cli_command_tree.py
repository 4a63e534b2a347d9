"""The console script builds only the command it runs (issue 11).

Click's command tree of every command (all their signatures' annotations read and turned into
parameters) was ≈ 0.06 s of CPU at each start; ``main`` now hands Click an app holding only the
named top-level command or group. What a user sees must not change: each command's help and
its refusals are the same as from the whole app, and what names no command gets the whole app
(its help, its "did you mean").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from quantdesk.cli.app import app, app_for

TOP_LEVEL = sorted(typer.main.get_group(app).commands)


def _output(args: list[str], whole: bool) -> tuple[int, str]:
    done = CliRunner().invoke(app if whole else app_for(args), args)
    return done.exit_code, done.output


def test_a_command_line_builds_only_the_command_it_names() -> None:
    built = typer.main.get_group(app_for(["backtest", "momentum-12-1", "--json"]))
    assert sorted(built.commands) == ["backtest"]
    group = typer.main.get_group(app_for(["data", "status", "--json"]))
    assert sorted(group.commands) == ["data"]


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_each_commands_help_is_the_same_as_from_the_whole_app(name: str) -> None:
    assert len(TOP_LEVEL) > 10  # the control: the whole app's commands were listed
    assert _output([name, "--help"], whole=False) == _output([name, "--help"], whole=True)


@pytest.mark.parametrize(
    "args",
    [
        ["data", "status", "--help"],
        ["backtest", "momentum-12-1", "--cash", "many"],
        ["backtest", "momentum-12-1", "--initial-cash", "1"],
        ["data", "no-such-subcommand"],
    ],
    ids=" ".join,
)
def test_refusals_are_the_same_as_from_the_whole_app(args: list[str]) -> None:
    assert _output(args, whole=False) == _output(args, whole=True)


@pytest.mark.parametrize(
    "args",
    [[], ["--help"], ["-h", "backtest"], ["--version"], ["backtset", "momentum-12-1"]],
    ids=" ".join,
)
def test_a_line_not_starting_with_a_command_gets_the_whole_app(args: list[str]) -> None:
    assert app_for(args) is app
    assert _output(args, whole=False) == _output(args, whole=True)


def test_python_dash_m_quantdesk_runs_the_command(tmp_path: Path) -> None:
    """For an environment whose scripts are not on the PATH (a notebook's kernel, a cron line)."""
    from importlib.metadata import version

    done = subprocess.run(
        [sys.executable, "-m", "quantdesk", "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (done.returncode, done.stdout.strip()) == (0, f"quantdesk {version('quantdesk')}")
    refused = subprocess.run(
        [sys.executable, "-m", "quantdesk", "backtest", "no-such-strategy", "--json"],
        env={**os.environ, "QUANTDESK_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert refused.returncode == 1
    assert "Traceback" not in refused.stderr
    assert "no-such-strategy" in refused.stderr


def test_the_script_leaves_fast_with_its_output_whole_and_its_writes_kept(tmp_path: Path) -> None:
    """``console`` skips the interpreter's teardown (``os._exit``): what it printed must still
    arrive whole, what it committed must be there for the next process, and its status must
    be the command's."""
    env = {**os.environ, "QUANTDESK_DATA_DIR": str(tmp_path)}
    env.pop("QUANTDESK_DATABASE_URL", None)

    def quantdesk(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "quantdesk", *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )

    assert quantdesk("data", "sample").returncode == 0
    run = quantdesk("backtest", "momentum-12-1", "--json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)  # the whole document, flushed before the exit
    listed = json.loads(quantdesk("backtests", "list", "--json").stdout)
    assert result["run_id"] in {r["run_id"] for r in listed}
    assert quantdesk("backtests", "show", "no-such-run").returncode == 1
    # every connection closed as Python's own exit would have: SQLite folds the WAL back into
    # the file and removes it, so a copy of quantdesk.sqlite alone holds everything (a bulk
    # Arrow read used to leave its caller's connection open until garbage collection)
    assert quantdesk("data", "check", "--json").returncode in (0, 1)
    assert sorted(p.name for p in tmp_path.glob("quantdesk.sqlite*")) == ["quantdesk.sqlite"]
