"""The console script builds only the command it runs (issue 11).

Click's command tree of every command (all their signatures' annotations read and turned into
parameters) was ≈ 0.06 s of CPU at each start; ``main`` now hands Click an app holding only the
named top-level command or group. What a user sees must not change: each command's help and
its refusals are the same as from the whole app, and what names no command gets the whole app
(its help, its "did you mean").
"""

from __future__ import annotations

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
