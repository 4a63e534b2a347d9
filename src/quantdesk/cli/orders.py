"""``quantdesk order | journal``: order entry and the trading journal. Commands call the trading
service only."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from quantdesk.cli.common import console, handle_errors, open_services, print_json, table
from quantdesk.cli.trading import JsonOption, PortfolioArg, jsonable, money

order_app = typer.Typer(help="Submit, cancel, modify and list orders.", no_args_is_help=True)
journal_app = typer.Typer(
    help="Trading journal: annotations on portfolios and orders.", no_args_is_help=True
)

ThesisOption = Annotated[str | None, typer.Option("--thesis", help="Pre-trade: why.")]
EntryOption = Annotated[str | None, typer.Option("--entry", help="Pre-trade: intended entry.")]
SizingOption = Annotated[str | None, typer.Option("--sizing", help="Pre-trade: sizing rationale.")]
ExitOption = Annotated[str | None, typer.Option("--exit-plan", help="Pre-trade: exit plan.")]
OutcomeOption = Annotated[str | None, typer.Option("--outcome", help="Post-trade: what happened.")]
LessonOption = Annotated[str | None, typer.Option("--lesson", help="Post-trade: the lesson.")]


def register(app: typer.Typer) -> None:
    app.add_typer(order_app, name="order")
    app.add_typer(journal_app, name="journal")


@order_app.command("submit")
@handle_errors
def submit(
    portfolio: PortfolioArg,
    side: Annotated[str, typer.Argument(help="buy or sell.")],
    quantity: Annotated[str, typer.Argument(help="Shares (> 0).")],
    symbol: Annotated[str, typer.Argument(help="Symbol.")],
    limit: Annotated[str | None, typer.Option("--limit", help="Limit price (> 0).")] = None,
    strategy: Annotated[str, typer.Option("--strategy", help="Strategy book.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Send one order (market, or limit with --limit) through the pre-trade checks."""
    from quantdesk.core.enums import Side
    from quantdesk.services.trading_types import OrderSpec, TradingError

    try:
        chosen = Side(side.lower())
    except ValueError:
        raise TradingError(f"side must be buy or sell, got {side!r}") from None
    spec = OrderSpec(symbol.upper(), chosen, quantity, limit_price=limit, strategy=strategy)
    with open_services() as services:
        (order,) = services.trading.submit_orders(portfolio, [spec])
    if as_json:
        print_json(jsonable(order))
        return
    console.print(
        f"{order.client_order_id}: {order.side} {order.quantity} {order.symbol} {order.status}"
        + (f" at {money(order.average_fill_price)}" if order.average_fill_price else "")
    )


@order_app.command("cancel")
@handle_errors
def cancel(
    portfolio: PortfolioArg,
    client_order_id: Annotated[str, typer.Argument(help="Client order id.")],
) -> None:
    """Cancel a working order."""
    with open_services() as services:
        order = services.trading.cancel_order(portfolio, client_order_id)
    console.print(f"{order.client_order_id}: {order.status}")


@order_app.command("modify")
@handle_errors
def modify(
    portfolio: PortfolioArg,
    client_order_id: Annotated[str, typer.Argument(help="Client order id.")],
    quantity: Annotated[str | None, typer.Option("--quantity", help="New shares.")] = None,
    limit: Annotated[str | None, typer.Option("--limit", help="New limit price.")] = None,
) -> None:
    """Change a working order's quantity or limit price."""
    with open_services() as services:
        order = services.trading.modify_order(
            portfolio, client_order_id, quantity=quantity, limit_price=limit
        )
    console.print(f"{order.client_order_id}: {order.status} {order.quantity} @ {order.limit_price}")


@order_app.command("list")
@handle_errors
def list_orders(
    portfolio: PortfolioArg,
    open_only: Annotated[bool, typer.Option("--open", help="Working orders only.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Orders of a portfolio, oldest first."""
    with open_services() as services:
        orders = services.trading.list_orders(portfolio, open_only=open_only)
    if as_json:
        print_json(jsonable(orders))
        return
    rows = [
        [
            o.client_order_id,
            o.side,
            o.quantity,
            o.symbol,
            o.order_type,
            o.status,
            o.filled_quantity,
            money(o.average_fill_price),
        ]
        for o in orders
    ]
    columns = ["id", "side", "shares", "symbol", "type", "status", "filled", "avg price"]
    console.print(
        table(f"Orders of {portfolio}", columns, rows, right={"shares", "filled", "avg price"})
    )


@order_app.command("import")
@handle_errors
def import_trades(
    portfolio: PortfolioArg,
    path: Annotated[Path, typer.Argument(help="CSV: date,symbol,side,quantity,price[,strategy].")],
) -> None:
    """Record trades done elsewhere (manual entry); every row is checked, all or nothing."""
    with open_services() as services:
        orders = services.trading.import_trades(portfolio, path)
    console.print(f"recorded {len(orders)} trade(s) in {portfolio}")


# -- journal -----------------------------------------------------------------------------------
@journal_app.command("add")
@handle_errors
def journal_add(
    portfolio: PortfolioArg,
    order: Annotated[
        str | None, typer.Option("--order", help="Client order id it is about.")
    ] = None,
    thesis: ThesisOption = None,
    entry: EntryOption = None,
    sizing: SizingOption = None,
    exit_plan: ExitOption = None,
    outcome: OutcomeOption = None,
    lesson: LessonOption = None,
) -> None:
    """Annotate a portfolio or one of its orders."""
    texts = _texts(thesis, entry, sizing, exit_plan, outcome, lesson)
    with open_services() as services:
        view = services.trading.journal_add(portfolio, texts, order)
    console.print(f"journal entry {view.id} added to {portfolio}")


@journal_app.command("edit")
@handle_errors
def journal_edit(
    entry_id: Annotated[int, typer.Argument(help="Journal entry id.")],
    thesis: ThesisOption = None,
    entry: EntryOption = None,
    sizing: SizingOption = None,
    exit_plan: ExitOption = None,
    outcome: OutcomeOption = None,
    lesson: LessonOption = None,
) -> None:
    """Change fields of a journal entry (e.g. the post-trade outcome and lesson)."""
    texts = _texts(thesis, entry, sizing, exit_plan, outcome, lesson)
    with open_services() as services:
        view = services.trading.journal_edit(entry_id, texts)
    console.print(f"journal entry {view.id} updated")


@journal_app.command("list")
@handle_errors
def journal_list(
    portfolio: PortfolioArg,
    order: Annotated[
        str | None, typer.Option("--order", help="Only entries on this order.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Journal entries of a portfolio with the orders they annotate."""
    with open_services() as services:
        entries = services.trading.journal_list(portfolio, order)
    if as_json:
        print_json(jsonable(entries))
        return
    rows = [
        [e.id, e.client_order_id or "-", e.thesis, e.exit_plan, e.outcome, e.lesson]
        for e in entries
    ]
    columns = ["id", "order", "thesis", "exit plan", "outcome", "lesson"]
    console.print(table(f"Journal of {portfolio}", columns, rows))


def _texts(*values: str | None) -> dict[str, str | None]:
    names = ("thesis", "intended_entry", "sizing_rationale", "exit_plan", "outcome", "lesson")
    return {name: value for name, value in zip(names, values, strict=True) if value is not None}
