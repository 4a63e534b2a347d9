"""``quantdesk trade run STRATEGY --portfolio P``: a strategy on a paper portfolio, replayed
over history (``--replay START:END``, a simulated clock) or on the live clock (a decision at
each session's decision time; ``--once`` for one step, as a cron job would run it)."""

from __future__ import annotations

import json
import time as wall
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from quantdesk.cli.common import (
    console,
    handle_errors,
    open_services,
    parse_date,
    progress_bar,
)
from quantdesk.cli.trading import JsonOption, jsonable, money

if TYPE_CHECKING:
    from quantdesk.execution import CostModel
    from quantdesk.services import Services

COSTS = ("paper", "backtest")
PRICES = ("adjusted", "close")
MAX_WAIT_SECONDS = 3600.0  # re-read the clock at least hourly while waiting


def register(trade_app: typer.Typer) -> None:
    trade_app.command("run")(run)


@handle_errors
def run(
    strategy: Annotated[
        str,
        typer.Argument(help="A registered strategy (allocation or signal), or sector-momentum."),
    ],
    portfolio: Annotated[str, typer.Option("--portfolio", "-p", help="Portfolio to trade.")],
    replay: Annotated[
        str | None,
        typer.Option(
            "--replay",
            help="START:END dates to replay (YYYY-MM-DD:YYYY-MM-DD); without it, the live clock.",
        ),
    ] = None,
    once: Annotated[
        bool, typer.Option("--once", help="Live: one decision step, then exit (for cron).")
    ] = False,
    costs: Annotated[
        str,
        typer.Option(
            "--costs",
            help="paper (5 bp slippage, $1 an order) or backtest (the strategy's backtest costs).",
        ),
    ] = "paper",
    prices: Annotated[
        str,
        typer.Option(
            "--prices",
            help="Replay fills and values at the backtest's prices (adjusted) or the raw close.",
        ),
    ] = "adjusted",
    whole_shares: Annotated[
        bool, typer.Option("--whole-shares", help="Trade whole shares (default: fractional).")
    ] = False,
    params: Annotated[
        str | None, typer.Option("--params", help="Strategy parameters as JSON.")
    ] = None,
    cash: Annotated[
        str,
        typer.Option(
            "--cash", help="Create the portfolio with this cash in the strategy's book if missing."
        ),
    ] = "100000",
    universe: Annotated[str | None, typer.Option("--universe")] = None,
    as_json: JsonOption = False,
) -> None:
    """Drive STRATEGY on its book of a paper portfolio (the cash deposited with
    'portfolio deposit P AMOUNT --strategy STRATEGY'): the backtest's strategy object, bar by bar
    through the paper broker. With --costs backtest a replay equals the event backtest of the
    same run."""
    if costs not in COSTS:
        raise typer.BadParameter(f"{costs!r}: use paper or backtest", param_hint="--costs")
    if prices not in PRICES:
        raise typer.BadParameter(f"{prices!r}: use adjusted or close", param_hint="--prices")
    values = _params(params)
    if replay is None:
        _live(strategy, portfolio, once, costs, not whole_shares, values, cash, universe, as_json)
        return
    if once:
        raise typer.BadParameter("--once applies to the live clock, not to --replay")
    start, end = parse_window(replay)
    if start > end:
        raise typer.BadParameter(f"start {start} is after end {end}", param_hint="--replay")
    with replay_services(start) as services:
        trading = services.trading
        model = _costs(services, strategy, costs)
        _ensure_portfolio(services, strategy, portfolio, cash)
        text = f"replaying {strategy} on {portfolio} {start}..{end}"
        with progress_bar(text) as progress:
            result = trading.run_strategy(
                portfolio,
                strategy,
                start,
                end,
                values,
                universe,
                costs=model,
                fractional=not whole_shares,
                price_field=None if prices == "adjusted" else "close",
                progress=progress,
            )
    if as_json:
        _print_json(result)
        return
    console.print(
        f"{result.strategy} on {result.portfolio} {result.start}..{result.end}: "
        f"{result.rebalances} decision(s) traded, {result.orders} order(s), "
        f"equity {money(result.final_equity)}",
        markup=False,
    )


def _live(
    strategy: str,
    portfolio: str,
    once: bool,
    costs: str,
    fractional: bool,
    values: dict[str, Any],
    cash: str,
    universe: str | None,
    as_json: bool,
) -> None:
    with open_services() as services:
        trading = services.trading
        model = _costs(services, strategy, costs)
        _ensure_portfolio(services, strategy, portfolio, cash)
        while True:
            step = trading.strategy_step(
                portfolio, strategy, values, universe, costs=model, fractional=fractional
            )
            if as_json:
                _print_json(step)
            else:
                equity = "" if step.equity is None else f", equity {money(step.equity)}"
                console.print(f"{strategy} on {portfolio}: {step.note}{equity}", markup=False)
            if once:
                return
            # the clock the services were built with says when the next decision is due
            wait = (step.next_decision - services.clock.now()).total_seconds()
            wall.sleep(min(max(wait, 1.0), MAX_WAIT_SECONDS))


def _ensure_portfolio(services: Services, strategy: str, portfolio: str, cash: str) -> None:
    """Create ``portfolio`` when it does not exist, once the strategy is known to exist (a
    refused command leaves nothing behind), with ``cash`` in the strategy's book: the book
    ``trade run`` trades."""
    services.trading.check_runnable(strategy)
    if portfolio not in {p.name for p in services.trading.list_portfolios()}:
        services.trading.create_portfolio(portfolio, cash, strategy=strategy)


def _costs(services: Services, strategy: str, choice: str) -> CostModel | None:
    return services.trading.backtest_costs(strategy) if choice == "backtest" else None


def _params(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        values = json.loads(text)
    except json.JSONDecodeError as error:
        raise typer.BadParameter(f"not JSON: {error.msg}", param_hint="--params") from None
    if not isinstance(values, dict):
        raise typer.BadParameter("a JSON object of name: value", param_hint="--params")
    return values


def _print_json(value: Any) -> None:
    from quantdesk.cli.common import print_json

    print_json(jsonable(value))


def parse_window(text: str) -> tuple[date, date]:
    first, sep, last = text.partition(":")
    start, end = parse_date(first, "--replay"), parse_date(last, "--replay")
    if not sep or start is None or end is None:
        raise typer.BadParameter(f"{text!r} is not START:END", param_hint="--replay")
    return start, end


@contextmanager
def replay_services(start: date) -> Iterator[Services]:
    """Services on a simulated clock starting before ``start``'s close."""
    from quantdesk.core.clock import SimulatedClock
    from quantdesk.services import build_services

    services = build_services(clock=SimulatedClock(datetime.combine(start, time(0, 0), tzinfo=UTC)))
    try:
        yield services
    finally:
        services.close()
