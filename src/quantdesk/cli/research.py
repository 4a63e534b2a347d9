"""``quantdesk scores | signal | recommend``: research from the command line (being written)."""

from __future__ import annotations

import typer

scores_app = typer.Typer(help="Factor scores and rankings.", no_args_is_help=True)
signal_app = typer.Typer(help="Trading signals with trade lists.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the top-level app."""
    app.add_typer(scores_app, name="scores")
    app.add_typer(signal_app, name="signal")
