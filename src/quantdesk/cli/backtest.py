"""``quantdesk backtest | backtests | optimize`` (being written)."""

from __future__ import annotations

import typer

backtests_app = typer.Typer(help="Stored backtest runs: list, show, compare.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the top-level app."""
    app.add_typer(backtests_app, name="backtests")
