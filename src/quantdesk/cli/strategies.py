"""``quantdesk strategies list | show NAME``: the registered strategies and their parameters;
``quantdesk strategies enable|disable NAME --portfolio P``: switch a portfolio's strategy book
on or off (off: it keeps its positions and cash, strategy-driven trading sends nothing)."""

from __future__ import annotations

from typing import Annotated

import typer

from quantdesk.cli.common import console, handle_errors, open_services, print_json

app = typer.Typer(help="Registered strategies and their parameters.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


@app.command("list")
@handle_errors
def list_(as_json: JsonOption = False) -> None:
    """Every strategy: name, shape (allocation or signal), default universe, summary."""
    with open_services() as services:
        infos = services.backtest.strategies()
    if as_json:
        print_json([info.to_dict() for info in infos])
        return
    from rich.markup import escape
    from rich.table import Table

    out = Table(title=f"{len(infos)} strategies", title_justify="left")
    for column in ("name", "kind", "universe", "parameters", "summary"):
        out.add_column(column)
    for info in infos:
        out.add_row(
            info.name,
            info.kind,
            info.default_universe,
            ", ".join(p.name for p in info.parameters),
            escape(info.summary),
        )
    console.print(out)


@app.command("show")
@handle_errors
def show(
    name: Annotated[str, typer.Argument(help="Strategy name, e.g. momentum-12-1.")],
    as_json: JsonOption = False,
) -> None:
    """One strategy: description and each parameter's type, default and meaning."""
    with open_services() as services:
        info = services.backtest.strategy(name)
    if as_json:
        print_json(info.to_dict())
        return
    from rich.markup import escape
    from rich.table import Table

    console.print(f"[bold]{info.name}[/] ({info.kind}; default universe {info.default_universe})")
    console.print(escape(info.description), highlight=False)
    if info.requirements is not None:
        console.print(
            f"needs (default parameters): {escape(info.requirements.describe())}", highlight=False
        )
    if info.default_costs:
        console.print(f"default costs: {escape(str(info.default_costs))}", highlight=False)
    out = Table(title="parameters", title_justify="left")
    for column in ("name", "type", "default", "constraints", "description"):
        out.add_column(column)
    for p in info.parameters:
        default = "(required)" if p.required else repr(p.default)
        out.add_row(p.name, escape(p.type), escape(default), p.constraints, escape(p.description))
    console.print(out)


PortfolioOption = Annotated[
    str, typer.Option("--portfolio", help="The portfolio whose strategy book to switch.")
]


@app.command("enable")
@handle_errors
def enable(
    name: Annotated[str, typer.Argument(help="Strategy name, e.g. momentum-12-1.")],
    portfolio: PortfolioOption,
) -> None:
    """Let rebalances driven by the strategy and 'trade run' trade its book again."""
    _switch(name, portfolio, enabled=True)


@app.command("disable")
@handle_errors
def disable(
    name: Annotated[str, typer.Argument(help="Strategy name, e.g. momentum-12-1.")],
    portfolio: PortfolioOption,
) -> None:
    """Switch the strategy's book off: it keeps its positions and cash; rebalances driven by
    the strategy and 'trade run' send no order for it until it is enabled."""
    _switch(name, portfolio, enabled=False)


def _switch(name: str, portfolio: str, *, enabled: bool) -> None:
    from quantdesk.cli.admin_audit import audit_cli

    action = "enable" if enabled else "disable"
    with open_services() as services:
        book = services.portfolio_admin.set_enabled(portfolio, name, enabled=enabled)
        audit_cli(services, f"strategies {action}", f"portfolio={portfolio}, strategy={name}")
    state = "enabled" if book.enabled else "disabled (positions kept, no new orders)"
    console.print(f"strategy {book.strategy} on portfolio {book.portfolio}: {state}")
