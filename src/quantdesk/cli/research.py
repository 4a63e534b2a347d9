"""``quantdesk scores | signal | recommend``: factor scores, the sector-momentum signal and
portfolio recommendations from the command line. Commands call the research service only."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any

import typer

from quantdesk.cli.common import (
    console,
    handle_errors,
    open_services,
    parse_date,
    print_json,
    spinner,
    table,
)

if TYPE_CHECKING:
    import pandas as pd

scores_app = typer.Typer(
    help="Factor scores and rankings: the latest table, or `scores history SYMBOL`.",
    invoke_without_command=True,
)
signal_app = typer.Typer(help="Trading signals with trade lists.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
SetOption = Annotated[
    str, typer.Option("--set", help="Score set: momentum-composite or etf-factor.")
]
DateOption = Annotated[
    str | None, typer.Option("--date", help="As of this date (YYYY-MM-DD; default: latest).")
]


def register(app: typer.Typer) -> None:
    """Add this module's commands to the top-level app."""
    app.add_typer(scores_app, name="scores")
    app.add_typer(signal_app, name="signal")
    app.command("recommend")(recommend)


def _number(value: Any, digits: int = 3) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "" if value is None else str(value)
    return "" if math.isnan(number) else f"{number:.{digits}f}"


def _component_names(frame: pd.DataFrame) -> list[str]:
    base = {
        "date",
        "symbol",
        "sector",
        "universe",
        "score",
        "rank",
        "sector_rank",
        "weight_coverage",
    }
    return [c for c in frame.columns if c not in base and not str(c).endswith("_raw")]


def _coverage(value: Any) -> str:
    text = _number(value, 4)
    return f"{float(text):.0%}" if text else ""


def _score_rows(frame: pd.DataFrame, components: list[str]) -> list[list[Any]]:
    rows = []
    for record in frame.to_dict("records"):
        rows.append(
            [
                record["rank"],
                record["symbol"],
                record["sector"] or "",
                _number(record["score"]),
                _coverage(record.get("weight_coverage")),
                "" if record["sector_rank"] is None else record["sector_rank"],
                *(_number(record[name], 2) for name in components),
            ]
        )
    return rows


@scores_app.callback()
@handle_errors
def scores(
    ctx: typer.Context,
    date: DateOption = None,
    universe: Annotated[
        str | None,
        typer.Option(help="all, etf, index:sp500 or a list like AAPL,MSFT (default: the set's)."),
    ] = None,
    top: Annotated[int | None, typer.Option(help="Show the N best names only.", min=1)] = None,
    score_set: SetOption = "momentum-composite",
    compute: Annotated[
        bool | None,
        typer.Option(
            "--compute/--no-compute",
            help="Recompute and store first (default: when nothing is stored for the latest "
            "data, e.g. after an import).",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Latest stored scores and ranks (computed and stored first when needed)."""
    if ctx.invoked_subcommand is not None:
        return
    as_of = parse_date(date, "--date")
    with open_services() as services, spinner(f"reading {score_set} scores…", not as_json):
        snapshot = services.research.current_scores(
            score_set, date=as_of, universe=universe, top=top, compute=compute
        )
    if as_json:
        print_json(snapshot.to_dict())
        return
    if snapshot.computed is not None:
        _print_computed(snapshot.computed.to_dict())
    frame = snapshot.frame
    if frame.empty:
        console.print(f"no {score_set} scores stored on or before {as_of or 'today'}")
        return
    if snapshot.note:
        console.print(f"note: {snapshot.note}", highlight=False, markup=False)
    components = _component_names(frame)
    columns = ["rank", "symbol", "sector", "score", "coverage", "sector rank", *components]
    console.print(
        table(
            f"{score_set} scores on {snapshot.date} (universe {frame['universe'].iloc[0]}; "
            f"data up to {snapshot.data_date})",
            columns,
            _score_rows(frame, components),
            right={"rank", "score", "coverage", "sector rank", *components},
        )
    )


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    from quantdesk.research.results import frame_records

    return frame_records(frame)


def _print_computed(summary: dict[str, Any]) -> None:
    coverage = ", ".join(f"{k} {v}" for k, v in summary["symbols_per_component"].items())
    console.print(
        f"computed {summary['score_set']} for {summary['dates']} date(s) "
        f"({summary['first_date']}..{summary['last_date']}), universe {summary['universe']}, "
        f"benchmark {summary['benchmark'] or '-'}: {summary['rows_written']:,} rows stored; "
        f"symbols per component: {coverage}",
        highlight=False,
    )


@scores_app.command("history")
@handle_errors
def history(
    symbol: Annotated[str, typer.Argument(help="The symbol, e.g. AAPL.")],
    score_set: SetOption = "momentum-composite",
    compute: Annotated[
        bool,
        typer.Option(
            "--compute/--no-compute", help="Compute the set first when nothing is stored."
        ),
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """Every stored score of one symbol, oldest first."""
    with open_services() as services:
        research = services.research
        frame = research.score_history(symbol, score_set)
        if frame.empty and compute and not research.stored_dates(score_set):
            with spinner(f"computing {score_set} scores…"):
                research.compute_scores(score_set)
            frame = research.score_history(symbol, score_set)
    if as_json:
        print_json({"symbol": symbol.upper(), "score_set": score_set, "rows": _records(frame)})
        return
    if frame.empty:
        console.print(f"no stored {score_set} scores for {symbol.upper()}")
        return
    components = _component_names(frame)
    # _score_rows gives rank, symbol, sector, score, …; history shows the date instead of the
    # symbol and sector.
    rows = [
        [date, row[0], *row[3:]]
        for date, row in zip(frame["date"], _score_rows(frame, components), strict=True)
    ]
    console.print(
        table(
            f"{score_set} history of {symbol.upper()}",
            ["date", "rank", "score", "coverage", "sector rank", *components],
            rows,
            right={"rank", "score", "coverage", "sector rank", *components},
        )
    )


@signal_app.command("sector-momentum")
@handle_errors
def sector_momentum(
    date: DateOption = None,
    cash: Annotated[float, typer.Option(help="Cash to invest (account currency).")] = 100_000.0,
    top: Annotated[int, typer.Option("--top", help="ETFs held, 1/N each.", min=1)] = 3,
    symbols: Annotated[
        str | None, typer.Option(help="Comma list of ETFs (default: stored sector ETFs).")
    ] = None,
    report: Annotated[
        bool, typer.Option("--report", help="Print the plain-text report instead of tables.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """The 12-1 sector-momentum ranking, the top-N targets and a whole-share trade list."""
    as_of = parse_date(date, "--date")
    wanted = None if symbols is None else [s for s in symbols.split(",") if s.strip()]
    with open_services() as services, spinner("ranking sector ETFs…"):
        signal = services.research.sector_momentum_signal(
            as_of, cash=str(cash), top_n=top, symbols=wanted
        )
    if as_json:
        print_json(signal.to_dict())
        return
    if report:
        console.print(signal.report, highlight=False, markup=False, soft_wrap=True)
        return
    if signal.reason:
        console.print(f"no signal: {signal.reason}", highlight=False, markup=False)
    ranking = [
        [
            "" if r["rank"] is None else r["rank"],
            r["symbol"],
            r["name"] or "",
            "n/a" if r["momentum_pct"] is None else f"{r['momentum_pct']:+.2f} %",
            f"{r['target_weight']:.1%}" if r["selected"] else "",
            _number(r["price"], 2),
        ]
        for r in _records(signal.ranking)
    ]
    console.print(
        table(
            f"sector momentum (12-1) on {signal.date}: top {signal.top_n}",
            ["rank", "symbol", "name", "12-1 return", "target", "price"],
            ranking,
            right={"rank", "12-1 return", "target", "price"},
        )
    )
    trades = [
        [t.side.value.upper(), t.symbol, f"{t.shares:,}", f"{t.price:,.2f}", f"{t.notional:,.2f}"]
        for t in signal.plan.trades
    ]
    console.print(
        table(
            "trade list",
            ["side", "symbol", "shares", "price", "notional"],
            trades,
            right={"shares", "price", "notional"},
        )
    )
    console.print(
        f"portfolio value {signal.plan.total_value:,.2f}; "
        f"cash remaining {signal.plan.cash_after:,.2f}",
        highlight=False,
    )


@handle_errors
def recommend(
    optimizer: Annotated[str, typer.Option(help="equal, rank, inverse-vol, mvo or hrp.")] = "equal",
    positions: Annotated[int, typer.Option(help="Number of names.")] = 10,
    date: DateOption = None,
    score_set: SetOption = "momentum-composite",
    universe: Annotated[
        str | None, typer.Option(help="Restrict to a universe (all, etf, index:…, list).")
    ] = None,
    lookback: Annotated[
        int, typer.Option(help="Trailing daily returns for inverse-vol, mvo and hrp.")
    ] = 252,
    max_weight: Annotated[
        float | None, typer.Option(help="Cap per name, a fraction (0.2 = 20 %).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Target weights for the top N names by the latest stored score (stored as a signal)."""
    as_of = parse_date(date, "--date")
    with open_services() as services, spinner(f"building the {optimizer} portfolio…"):
        result = services.research.recommend(
            optimizer,
            positions,
            date=as_of,
            score_set=score_set,
            universe=universe,
            lookback_days=lookback,
            max_weight=max_weight,
        )
    if as_json:
        print_json(result.to_dict())
        return
    rows = [
        [r["rank"], r["symbol"], r["sector"] or "", _number(r["score"]), f"{r['weight']:.2%}"]
        for r in _records(result.weights)
    ]
    console.print(
        table(
            f"{result.optimizer} portfolio of {result.positions} on {result.date} "
            f"({result.score_set} scores of {result.date}; data up to {result.data_date})",
            ["rank", "symbol", "sector", "score", "weight"],
            rows,
            right={"rank", "score", "weight"},
        )
    )
    if result.note:
        console.print(f"note: {result.note}", highlight=False, markup=False)
    console.print(f"cash {result.cash_weight:.2%}; stored as signal {result.strategy!r}")
