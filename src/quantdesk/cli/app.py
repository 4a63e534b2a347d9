"""The ``quantdesk`` command. Sub-commands import their dependencies lazily so start-up is fast."""

from __future__ import annotations

import typer

from quantdesk.cli import backtest, data, db, demo, research, trading

app = typer.Typer(
    name="quantdesk",
    help="Systematic portfolio management: data, research, backtests, trading, reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _configure() -> None:
    """Systematic portfolio management: data, research, backtests, trading, reports."""
    from quantdesk.config import Settings
    from quantdesk.logs import configure_logging

    configure_logging(Settings())


app.add_typer(data.app, name="data")
app.add_typer(db.app, name="db")
app.command("demo")(demo.demo)
research.register(app)
backtest.register(app)
trading.register(app)


def main() -> None:
    app()
