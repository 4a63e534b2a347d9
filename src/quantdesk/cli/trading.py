"""``quantdesk portfolio | rebalance | reconcile | trade | tca``: paper and live portfolios from
the command line. Commands call the trading service only."""

from __future__ import annotations

import dataclasses
import math
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import typer

from quantdesk.cli.common import (
    console,
    handle_errors,
    open_services,
    parse_date,
    print_json,
    table,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from quantdesk.services.trading_types import (
        BookPerformance,
        BooksRebalanceResult,
        PortfolioValue,
        RebalanceResult,
    )

portfolio_app = typer.Typer(
    help="Paper and live portfolios: cash, positions, value, history.", no_args_is_help=True
)
trade_app = typer.Typer(help="Run a strategy on a portfolio.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
PortfolioArg = Annotated[str, typer.Argument(help="Portfolio name.")]


def register(app: typer.Typer) -> None:
    """Add this module's commands to the top-level app."""
    from quantdesk.cli import orders, trade_run

    trade_run.register(trade_app)
    app.add_typer(portfolio_app, name="portfolio")
    app.add_typer(trade_app, name="trade")
    app.command("rebalance")(rebalance)
    app.command("reconcile")(reconcile)
    app.command("tca")(tca)
    orders.register(app)


def jsonable(value: Any) -> Any:
    """Dataclasses (and lists of them) as plain values for :func:`print_json`."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, Decimal):
        return str(value)
    return value


def money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,.2f}"


# -- portfolio ---------------------------------------------------------------------------------
@portfolio_app.command("create")
@handle_errors
def create(
    name: PortfolioArg,
    cash: Annotated[
        str, typer.Option("--cash", help="Initial cash deposited (currency).")
    ] = "100000",
    mode: Annotated[str, typer.Option("--mode", help="paper or live.")] = "paper",
    benchmark: Annotated[str | None, typer.Option("--benchmark", help="Benchmark symbol.")] = None,
    account: Annotated[str | None, typer.Option("--account", help="Broker account id.")] = None,
) -> None:
    """Create a portfolio with its initial cash."""
    with open_services() as services:
        view = services.trading.create_portfolio(
            name, cash, mode=mode, benchmark=benchmark, account=account
        )
    console.print(f"created {view.mode} portfolio {view.name!r} in account {view.account!r}")


@portfolio_app.command("delete")
@handle_errors
def delete(
    name: PortfolioArg,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete (archive) a portfolio: it leaves lists and trading, its ledger is kept for audit
    and its name stays taken. Refused while it has open orders."""
    from quantdesk.cli.admin_audit import audit_cli

    if not yes:
        typer.confirm(f"archive portfolio {name!r}?", abort=True)
    with open_services() as services:
        archived = services.portfolio_admin.archive(name)
        audit_cli(services, "portfolio delete", f"portfolio={name}")
    console.print(f"archived portfolio {archived.name!r} (its ledger is kept)")


@portfolio_app.command("list")
@handle_errors
def list_portfolios(as_json: JsonOption = False) -> None:
    """Every portfolio."""
    with open_services() as services:
        views = services.trading.list_portfolios()
    if as_json:
        print_json(jsonable(views))
        return
    rows = [[v.name, v.mode, v.account, v.benchmark, v.created_at.date()] for v in views]
    console.print(table("Portfolios", ["name", "mode", "account", "benchmark", "created"], rows))


@portfolio_app.command("deposit")
@handle_errors
def deposit(
    name: PortfolioArg,
    amount: Annotated[str, typer.Argument(help="Currency; negative to withdraw.")],
    strategy: Annotated[str, typer.Option("--strategy", help="Strategy book.")] = "",
) -> None:
    """Deposit (or, negative, withdraw) cash: a flow, not a return."""
    with open_services() as services:
        value = services.trading.deposit(name, amount, strategy)
    console.print(f"{name}: cash {money(value.cash)}, equity {money(value.equity)}")


@portfolio_app.command("transfer")
@handle_errors
def transfer(
    name: PortfolioArg,
    source: Annotated[
        str, typer.Option("--from", help="Book to move from: a strategy, or unallocated.")
    ],
    target: Annotated[
        str, typer.Option("--to", help="Book to move to: a strategy, or unallocated.")
    ],
    cash: Annotated[str | None, typer.Option("--cash", help="Cash to move (currency).")] = None,
    symbol: Annotated[
        str | None, typer.Option("--symbol", help="A holding to move, at the latest close.")
    ] = None,
    quantity: Annotated[
        str | None, typer.Option("--quantity", help="Shares of --symbol (default: all).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Move cash or a holding between two books of a portfolio, inside the account: nothing is
    sent to the broker; the portfolio's cash, positions, equity and return are unchanged. For
    the books' returns it is a flow out of one and into the other."""
    from rich.markup import escape

    from quantdesk.cli.admin_audit import audit_cli

    if (cash is None) == (symbol is None):
        raise typer.BadParameter("give exactly one of --cash or --symbol")
    if quantity is not None and symbol is None:
        raise typer.BadParameter("--quantity goes with --symbol", param_hint="--quantity")
    with open_services() as services:
        done = services.trading.transfer(
            name,
            source,
            target,
            cash=cash,
            symbol=None if symbol is None else symbol.strip().upper(),
            quantity=quantity,
        )
        audit_cli(services, "portfolio transfer", f"portfolio={name}, from={source}, to={target}")
    if as_json:
        print_json(jsonable(done))
        return
    from quantdesk.services.trading_types import book_label

    moved = f"{money(done.value)} cash"
    if done.symbol is not None:
        moved = (
            f"{done.quantity} {done.symbol} at {money(done.price)}, the close of "
            f"{done.priced_on} ({money(done.value)}; internal cross {done.cross_id})"
        )
    console.print(
        escape(
            f"{name}: moved {moved} from {book_label(done.source)} to {book_label(done.target)}"
        ),
        highlight=False,
    )
    for book in done.books:
        console.print(
            escape(
                f"  {book_label(book.strategy)}: cash {money(book.cash)}, equity "
                f"{money(book.equity)}, {book.positions} position(s)"
            ),
            highlight=False,
        )


@portfolio_app.command("show")
@handle_errors
def show(name: PortfolioArg, as_json: JsonOption = False) -> None:
    """Cash, equity, P&L and positions."""
    _print_value(name, as_json, with_positions=True)


@portfolio_app.command("value")
@handle_errors
def value(name: PortfolioArg, as_json: JsonOption = False) -> None:
    """Cash, market value, equity and P&L at the latest prices."""
    _print_value(name, as_json, with_positions=False)


@portfolio_app.command("positions")
@handle_errors
def positions(name: PortfolioArg, as_json: JsonOption = False) -> None:
    """Holdings with average cost, price, market value and P&L."""
    with open_services() as services:
        current = services.trading.value(name)
    if as_json:
        print_json(jsonable(current.positions))
        return
    console.print(_positions_table(current))


@portfolio_app.command("drift")
@handle_errors
def drift(
    name: PortfolioArg,
    strategy: Annotated[
        str | None, typer.Option("--strategy", help="A strategy's targets.")
    ] = None,
    signal: Annotated[
        str | None, typer.Option("--signal", help="sector-momentum or composite.")
    ] = None,
    targets: Annotated[str | None, typer.Option("--targets", help="SYMBOL=WEIGHT,…")] = None,
    as_json: JsonOption = False,
) -> None:
    """Current vs target weights."""
    with open_services() as services:
        result = services.trading.rebalance(
            name, targets=parse_targets(targets), strategy=strategy, signal=signal
        )
    if as_json:
        print_json(jsonable(result.drift))
        return
    rows = [
        [d.symbol, f"{d.current_weight:.2%}", f"{d.target_weight:.2%}", f"{d.drift:+.2%}"]
        for d in result.drift
    ]
    console.print(
        table(
            f"Drift of {name} ({result.source})",
            ["symbol", "current", "target", "drift"],
            rows,
            right={"current", "target", "drift"},
        )
    )


@portfolio_app.command("snapshot")
@handle_errors
def snapshot(name: PortfolioArg, as_json: JsonOption = False) -> None:
    """Store today's end-of-day value."""
    with open_services() as services:
        view = services.trading.snapshot(name)
    if as_json:
        print_json(jsonable(view))
        return
    console.print(f"{name} {view.date}: equity {money(view.equity)} (cash {money(view.cash)})")


@portfolio_app.command("history")
@handle_errors
def history(
    name: PortfolioArg,
    start: Annotated[str | None, typer.Option("--start")] = None,
    end: Annotated[str | None, typer.Option("--end")] = None,
    as_json: JsonOption = False,
) -> None:
    """Daily snapshots and time-weighted returns (cash flows excluded)."""
    with open_services() as services:
        result = services.trading.history(
            name, parse_date(start, "--start"), parse_date(end, "--end")
        )
    if as_json:
        print_json(jsonable(result))
        return
    rows = [[s.date, money(s.equity), money(s.cash), money(s.net_flows)] for s in result.snapshots]
    console.print(
        table(
            f"History of {name}",
            ["date", "equity", "cash", "flows"],
            rows,
            right={"equity", "cash", "flows"},
        )
    )
    console.print(f"time-weighted return {result.time_weighted_return:.2%}")


def _print_value(name: str, as_json: bool, *, with_positions: bool) -> None:
    with open_services() as services:
        current = services.trading.value(name)
        records = services.trading.book_performance(name) if with_positions else ()
    if as_json:
        payload = jsonable(current)
        if not with_positions:
            payload.pop("positions")
        else:
            payload["book_performance"] = jsonable(list(records))
        print_json(payload)
        return
    rows = [
        ["cash", money(current.cash)],
        ["market value", money(current.market_value)],
        ["equity", money(current.equity)],
        ["net deposits", money(current.net_deposits)],
        ["realised P&L", money(current.realised_pnl)],
        ["unrealised P&L", money(current.unrealised_pnl)],
        ["commissions", money(current.commissions)],
    ]
    console.print(
        table(f"{name} at {current.at:%Y-%m-%d %H:%M} UTC", ["", "value"], rows, right={"value"})
    )
    if with_positions and any(b.strategy for b in current.books):
        console.print(_books_table(current, records))
    if with_positions and current.positions:
        console.print(_positions_table(current))


def _books_table(current: PortfolioValue, records: Sequence[BookPerformance]) -> Any:
    """The books' figures now, with each one's return since its first book snapshot and its
    deepest drawdown (n/a before two snapshots)."""
    by_book = {r.strategy: r for r in records}

    def percent(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.2%}"

    rows = []
    for b in current.books:
        record = by_book.get(b.strategy)
        since = "n/a" if record is None or record.first_date is None else str(record.first_date)
        rows.append(
            [
                b.strategy or "(unallocated)",
                money(b.cash),
                money(b.market_value),
                money(b.equity),
                money(b.realised_pnl),
                money(b.unrealised_pnl),
                money(b.commissions),
                b.positions,
                since,
                percent(None if record is None else record.time_weighted_return),
                percent(None if record is None else record.max_drawdown),
            ]
        )
    columns = [
        "strategy",
        "cash",
        "value",
        "equity",
        "realised",
        "unrealised",
        "fees",
        "names",
        "since",
        "return",
        "max DD",
    ]
    return table(f"Strategy books of {current.name}", columns, rows, right=set(columns[1:]))


def _positions_table(current: PortfolioValue) -> Any:
    rows = [
        [
            p.symbol,
            p.strategy or "-",
            p.quantity,
            money(p.average_cost),
            money(p.price),
            money(p.market_value),
            money(p.unrealised_pnl),
            f"{p.weight:.2%}",
        ]
        for p in current.positions
    ]
    columns = ["symbol", "strategy", "shares", "avg cost", "price", "value", "unrealised", "weight"]
    return table(f"Positions of {current.name}", columns, rows, right=set(columns[2:]))


def parse_targets(text: str | None) -> dict[str, float] | None:
    """``AAA=0.5,BBB=0.3`` → weights (fractions)."""
    if text is None:
        return None
    out: dict[str, float] = {}
    for part in text.split(","):
        symbol, _, weight = part.partition("=")
        try:
            out[symbol.strip().upper()] = float(weight)
        except ValueError:
            raise typer.BadParameter(
                f"{part!r} is not SYMBOL=WEIGHT", param_hint="--targets"
            ) from None
    return out


# -- rebalance, reconcile, tca (trade run: cli/trade_run.py) ----------------------------------
@handle_errors
def rebalance(
    name: PortfolioArg,
    strategy: Annotated[
        list[str] | None,
        typer.Option(
            "--strategy",
            help="A strategy's latest targets; repeat it to rebalance each strategy's own book, "
            "netted as one batch.",
        ),
    ] = None,
    signal: Annotated[
        str | None, typer.Option("--signal", help="sector-momentum or composite.")
    ] = None,
    targets: Annotated[str | None, typer.Option("--targets", help="SYMBOL=WEIGHT,…")] = None,
    book: Annotated[
        list[str] | None,
        typer.Option(
            "--book",
            help="BOOK:SYMBOL=WEIGHT,… a strategy book's own targets; repeat it to net books.",
        ),
    ] = None,
    threshold: Annotated[
        float, typer.Option("--threshold", help="Skip weight changes below this fraction.")
    ] = 0.0,
    execute: Annotated[
        bool, typer.Option("--execute", help="Send the trade list as one batch.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """The trade list that moves PORTFOLIO to its targets; --execute sends it.

    With several --strategy (or any --book) each strategy trades its own sub-ledger; their trades
    are netted per symbol: opposite ones cross inside the account, only the net is sent.
    """
    strategies = list(strategy or [])
    books = list(book or [])
    if books or len(strategies) > 1:
        if books and (strategies or signal or targets):
            raise typer.BadParameter(
                "--book cannot be combined with --strategy, --signal or --targets"
            )
        if signal or targets:
            raise typer.BadParameter(
                "several --strategy cannot be combined with --signal or --targets"
            )
        with open_services() as services:
            netted = services.trading.rebalance_books(
                name,
                targets=parse_books(books) if books else None,
                strategies=None if books else strategies,
                threshold=threshold,
                execute=execute,
            )
        if as_json:
            print_json(jsonable(netted))
            return
        _print_books(netted)
        return
    with open_services() as services:
        result = services.trading.rebalance(
            name,
            targets=parse_targets(targets),
            strategy=strategies[0] if strategies else None,
            signal=signal,
            threshold=threshold,
            execute=execute,
            alert_drift=not execute,  # a check raises the drift alert; --execute trades instead
        )
    if as_json:
        print_json(jsonable(result))
        return
    _print_rebalance(result)


def parse_books(texts: list[str]) -> dict[str, dict[str, float]]:
    """``["alpha:AAA=0.5,BBB=0.3", …]`` → book → weights (fractions)."""
    out: dict[str, dict[str, float]] = {}
    for text in texts:
        name, colon, weights = text.partition(":")
        if not colon or not name.strip():
            raise typer.BadParameter(f"{text!r} is not BOOK:SYMBOL=WEIGHT,…", param_hint="--book")
        if name.strip() in out:
            raise typer.BadParameter(f"book {name.strip()!r} given twice", param_hint="--book")
        parsed = parse_targets(weights) if weights.strip() else {}
        out[name.strip()] = parsed or {}
    return out


def _print_books(result: BooksRebalanceResult) -> None:
    from rich.markup import escape

    for book in result.skipped:
        console.print(
            f"skipped strategy book {escape(book)}: disabled on {escape(result.portfolio)} "
            "(its positions stay as they are)"
        )
    for plan in result.books:
        _print_rebalance(plan)
    for cross in result.crosses:
        console.print(
            f"{cross.cross_id}: {cross.strategy} {cross.side} {cross.quantity} {cross.symbol} "
            f"crossed internally at {money(cross.price)}"
        )
    if result.executed:
        console.print(
            f"{len(result.crosses)} internal cross fill(s), {len(result.orders)} net broker "
            "order(s)"
        )


def _print_rebalance(result: RebalanceResult) -> None:
    rows = [
        [
            t.side,
            t.symbol,
            t.quantity,
            money(t.price),
            money(t.notional),
            f"{t.current_weight:.2%}",
            f"{t.target_weight:.2%}",
        ]
        for t in result.trades
    ]
    columns = ["side", "symbol", "shares", "price", "notional", "current", "target"]
    done = "executed" if result.executed else "plan only"
    title = f"Rebalance {result.portfolio} to {result.source} ({done})"
    if result.strategy:
        title = f"Rebalance {result.portfolio} book {result.strategy} to {result.source} ({done})"
    console.print(table(title, columns, rows, right=set(columns[2:])))
    if result.skipped:
        console.print(
            f"{len(result.skipped)} trade(s) below the {result.threshold:.2%} threshold skipped"
        )
    for order in result.orders:
        console.print(
            f"{order.client_order_id}: {order.side} {order.quantity} {order.symbol} "
            f"{order.status} at {money(order.average_fill_price)}"
        )


@handle_errors
def reconcile(name: PortfolioArg, as_json: JsonOption = False) -> None:
    """Compare stored orders, positions and cash with the broker's; adopt missed fills."""
    with open_services() as services:
        report = services.trading.reconcile(name)
    if as_json:
        print_json(jsonable(report))
        return
    console.print(
        f"{report.account}: {len(report.adopted_orders)} order(s) and {len(report.adopted_fills)} "
        f"fill(s) adopted, {len(report.closed_orders)} closed, "
        f"{'in agreement with the broker' if report.clean else 'DIFFERENCES:'}"
    )
    for d in report.discrepancies:
        console.print(f"  {d.kind} {d.subject}: ours {d.ours}, broker {d.broker}", markup=False)
    if not report.clean:
        raise typer.Exit(2)


@handle_errors
def tca(
    portfolio: Annotated[
        str | None, typer.Option("--portfolio", help="One portfolio (default: all).")
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help="symbol, strategy or month.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Slippage of filled orders in bp against the side (fill vs arrival; vs decision)."""
    from quantdesk.analytics.tca import TcaGrouping

    try:
        grouping = None if by is None else TcaGrouping(by)
    except ValueError:
        raise typer.BadParameter(
            f"{by!r}: use symbol, strategy or month", param_hint="--by"
        ) from None
    with open_services() as services:
        report = services.trading.tca(portfolio, grouping)
    if as_json:
        print_json(jsonable(report))
        return
    stats = [report.overall, *report.groups]
    rows = [
        [
            s.group,
            s.orders,
            _bp(s.mean_bp),
            _bp(s.median_bp),
            _bp(s.std_bp),
            _bp(s.mean_shortfall_bp),
            s.outliers,
        ]
        for s in stats
    ]
    columns = ["group", "orders", "mean bp", "median bp", "std bp", "shortfall bp", "outliers"]
    console.print(
        table("Transaction costs (slippage vs arrival)", columns, rows, right=set(columns[1:]))
    )


def _bp(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.2f}"
