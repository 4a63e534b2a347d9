"""``quantdesk backtest | backtests | optimize``: run, inspect, compare and optimise backtests."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from quantdesk.cli.common import (
    console,
    export_folder,
    handle_errors,
    open_services,
    parse_date,
    print_json,
    rich_console,
    spinner,
)
from quantdesk.core.errors import ConfigurationError

if TYPE_CHECKING:
    from quantdesk.backtest.costs import CostModel
    from quantdesk.backtest.stops import StopLossRule
    from quantdesk.core.enums import Timeframe
    from quantdesk.research.universe import UniverseSpec
    from quantdesk.services import Services
    from quantdesk.services.backtest import StoredRun

backtests_app = typer.Typer(help="Stored backtest runs: list, show, compare.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
ParamsOption = Annotated[
    list[str] | None,
    typer.Option("--params", "-p", help="Strategy parameter as key=value (repeatable)."),
]
StartOption = Annotated[str | None, typer.Option(help="First date (YYYY-MM-DD).")]
EndOption = Annotated[str | None, typer.Option(help="Last date (YYYY-MM-DD).")]
UniverseOption = Annotated[
    str | None,
    typer.Option(
        help="all (every equity), etf, index:NAME (point in time) or a comma list of symbols; "
        "keywords are case-insensitive, write a ticker that spells one as symbol:ALL "
        "(default: the strategy's own, 'etf' for sector-rotation and etf-factor, else 'all')."
    ),
]
BenchmarkOption = Annotated[
    str | None, typer.Option(help="Benchmark symbol (default SP500, else ^GSPC); 'none' for none.")
]
# bounded: beyond ~1e15 equity arithmetic overflows to inf (a one-line refusal, not a crash)
CashOption = Annotated[
    float, typer.Option("--cash", help="Initial cash, in currency.", min=1.0, max=1e15)
]
CommissionOption = Annotated[
    float | None, typer.Option("--commission-bps", help="Commission in bp of traded notional.")
]
PerOrderOption = Annotated[
    float | None,
    typer.Option("--commission-per-order", help="Flat commission per order, in currency."),
]
SlippageOption = Annotated[
    float | None, typer.Option("--slippage-bps", help="Slippage in bp (default: the strategy's).")
]

_SUMMARY = (
    ("CAGR", "cagr", "pct"),
    ("Sharpe", "sharpe_ratio", "num"),
    ("Sortino", "sortino_ratio", "num"),
    ("Max drawdown", "max_drawdown", "pct"),
    ("Volatility", "volatility", "pct"),
    ("Alpha", "alpha", "pct"),
    ("Beta", "beta", "num"),
    ("Final equity", "final_equity", "money"),
)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the top-level app."""
    app.command("backtest")(backtest)
    app.command("optimize")(optimize)
    app.add_typer(backtests_app, name="backtests")


def parse_params(items: list[str] | None) -> dict[str, Any]:
    """``["lookback=126", "frequency=quarterly"]`` → typed values (int, float, bool, JSON, str)."""
    import json

    values: dict[str, Any] = {}
    for item in items or []:
        key, sign, text = (part.strip() for part in item.partition("="))
        if not sign or not key.isidentifier() or not text:
            raise ConfigurationError(f"--params {item!r}: write key=value, e.g. lookback=126")
        if key in values:
            raise ConfigurationError(f"--params: parameter {key!r} is given twice")
        values[key] = _value(text, json)
    return values


def _value(text: str, json: Any) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if text[:1] in "[{":
        try:
            return json.loads(text)
        except ValueError:
            raise ConfigurationError(f"--params: {text!r} is not valid JSON") from None
    return text


def _costs(
    services: Services,
    strategy: str,
    per_order: float | None,
    commission_bps: float | None,
    slippage_bps: float | None,
) -> CostModel:
    """The strategy's default cost model with the options given on the command line."""
    given: dict[str, Any] = {
        "commission_per_order": per_order,
        "commission_bps": commission_bps,
        "slippage_bps": slippage_bps,
    }
    try:
        return dataclasses.replace(
            services.backtest.default_costs(strategy),
            **{k: v for k, v in given.items() if v is not None},
        )
    except ValueError as error:
        raise ConfigurationError(str(error)) from None


def _universe(text: str | None) -> UniverseSpec | None:
    """``--universe`` parsed at the edge by the one grammar every command shares."""
    from quantdesk.research.universe import parse_universe

    return None if text is None else parse_universe(text)


def _timeframe(value: str) -> Timeframe:
    from quantdesk.core.enums import Timeframe

    try:
        return Timeframe(value)
    except ValueError:
        choices = ", ".join(t.value for t in Timeframe)
        raise ConfigurationError(f"--timeframe {value!r}: use one of {choices}") from None


def _stop_rule(
    stop: float | None, vix_bands: str | None, take_profit: float | None, trailing: bool
) -> StopLossRule | None:
    """The stop-loss rule from the command-line options, or None when none is given."""
    from quantdesk.backtest.stops import StopLossRule, StopRuleError

    if stop is None and vix_bands is None and take_profit is None:
        if trailing:
            raise ConfigurationError("--trailing needs --stop-loss or --vix-bands")
        return None
    bands = None
    if vix_bands is not None:
        try:
            bands = tuple(
                (float(low), float(high), float(distance))
                for low, high, distance in (part.split(":") for part in vix_bands.split(","))
            )
        except ValueError:
            raise ConfigurationError(
                f"--vix-bands {vix_bands!r}: use LOW:HIGH:STOP,… e.g. '0:20:0.08,20:inf:0.12'"
            ) from None
    try:
        return StopLossRule(stop=stop, bands=bands, take_profit=take_profit, trailing=trailing)
    except StopRuleError as error:
        raise ConfigurationError(str(error)) from None


@handle_errors
def backtest(
    strategy: Annotated[
        str | None, typer.Argument(help="Strategy name, e.g. momentum-12-1.")
    ] = None,
    from_run: Annotated[
        str | None,
        typer.Option(
            "--from-run",
            help="Re-run a stored run (id or unique prefix) with its stored configuration.",
        ),
    ] = None,
    params: ParamsOption = None,
    start: StartOption = None,
    end: EndOption = None,
    universe: UniverseOption = None,
    benchmark: BenchmarkOption = None,
    engine: Annotated[str, typer.Option(help="vector, event or auto.")] = "auto",
    cash: CashOption = 1_000_000.0,
    commission_bps: CommissionOption = None,
    commission_per_order: PerOrderOption = None,
    slippage_bps: SlippageOption = None,
    out: Annotated[
        str | None, typer.Option("--out", help="Also export CSV/Parquet/JSON into this folder.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Let --out write into a folder that has files.")
    ] = False,
    no_store: Annotated[bool, typer.Option("--no-store", help="Do not store the run.")] = False,
    stop_loss: Annotated[
        float | None, typer.Option("--stop-loss", help="Fixed stop below entry (0.08 = 8 %).")
    ] = None,
    vix_bands: Annotated[
        str | None,
        typer.Option(
            "--vix-bands",
            help="VIX-regime stops LOW:HIGH:STOP,… e.g. '0:20:0.08,20:30:0.12,30:inf:0.18'.",
        ),
    ] = None,
    take_profit: Annotated[
        float | None, typer.Option("--take-profit", help="Exit this far above entry (0.25).")
    ] = None,
    trailing: Annotated[
        bool, typer.Option("--trailing", help="Measure the stop from the highest close.")
    ] = False,
    timeframe: Annotated[
        str, typer.Option("--timeframe", help="Bars to run on: 1m, 5m, 15m, 1h or 1d.")
    ] = "1d",
    slippage_from: Annotated[
        str | None,
        typer.Option("--slippage-from", help="Use a portfolio's measured slippage (TCA)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Backtest STRATEGY on the stored data; prints metrics and the bias checks.

    ``--start`` is the first decision date: the history the strategy looks back on is loaded
    before it."""
    values = parse_params(params)
    first, last = parse_date(start, "--start"), parse_date(end, "--end")
    folder = export_folder(out, force=force)
    if from_run is not None:
        if strategy is not None or params or start or end or universe or benchmark:
            raise ConfigurationError(
                "--from-run re-runs the stored configuration; give no strategy or other options"
            )
        with open_services() as services, spinner(f"re-running backtest {from_run}…"):
            run = services.backtest.rerun(from_run, store=not no_store)
        _report(run, as_json, folder)
        return
    if strategy is None:
        raise ConfigurationError("name a strategy (quantdesk strategies list) or give --from-run")
    with open_services() as services:
        costs = _costs(services, strategy, commission_per_order, commission_bps, slippage_bps)
        if slippage_from is not None:  # the trading service measures; the backtest uses it
            costs = services.trading.measured_costs(slippage_from, costs)
        stops = _stop_rule(stop_loss, vix_bands, take_profit, trailing)
        with spinner(f"backtesting {strategy}…"):
            run = services.backtest.run(
                strategy,
                values,
                start=first,
                end=last,
                universe=_universe(universe),
                benchmark=benchmark,
                engine=engine,
                costs=costs,
                initial_cash=cash,
                store=not no_store,
                stop_loss=stops,
                timeframe=_timeframe(timeframe),
            )
    _report(run, as_json, folder)


def _report(run: StoredRun, as_json: bool, out: Path | None) -> None:
    written: list[Path] = []
    if out is not None:
        from quantdesk.services.backtest_export import export_run

        written = export_run(run, out, ["csv", "parquet", "json"])
    if as_json:
        payload = run.meta()
        payload["stored"] = run.stored
        payload["timings"] = run.timings
        payload["files"] = [str(p) for p in written]
        print_json(payload)
        return
    _print_run(run)
    if written:
        console.print(f"wrote {len(written)} file(s) to {out}")


def _print_run(run: StoredRun) -> None:
    from rich.markup import escape
    from rich.table import Table

    header = Table(title=f"backtest {run.run_id}", title_justify="left", show_header=False)
    header.add_column("")
    header.add_column("")
    header.add_row("strategy", f"{run.strategy} {run.params}")
    header.add_row("period", f"{run.start} → {run.end} ({len(run.series)} days)")
    header.add_row("engine / prices", f"{run.engine} / {run.price_field}")
    header.add_row("universe / benchmark", f"{run.universe} / {run.benchmark or 'none'}")
    console.print(header)
    summary = Table(title="summary", title_justify="left")
    summary.add_column("metric")
    summary.add_column("value", justify="right")
    for label, key, kind in _SUMMARY:
        summary.add_row(label, _format(run.metrics.get(key), kind))
    summary.add_row("Bias checks", _status(run.bias.status.value))
    console.print(summary)
    for warning in run.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    checks = Table(title="bias checks", title_justify="left")
    checks.add_column("check")
    checks.add_column("status")
    checks.add_column("detail")
    for check in run.bias.checks:
        checks.add_row(check.name, _status(check.status.value), check.detail)
    console.print(checks)


def _status(value: str) -> str:
    colour = {"pass": "green", "warn": "yellow", "fail": "red"}.get(value, "white")
    return f"[{colour}]{value}[/]"


def _format(value: Any, kind: str) -> str:
    import math

    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if kind == "pct":
        return f"{value:.2%}"
    if kind == "money":
        return f"{value:,.2f}"
    return f"{value:.3f}"


@backtests_app.command("list")
@handle_errors
def list_(
    limit: Annotated[int | None, typer.Option(help="Newest N runs only.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Stored runs, newest first."""
    with open_services() as services:
        runs = services.backtest.list_runs(limit)
    if as_json:
        print_json([r.to_dict() for r in runs])
        return
    from rich.table import Table

    out = Table(title=f"{len(runs)} stored backtest(s)", title_justify="left")
    for column in ("id", "strategy", "engine", "period", "final equity", "CAGR", "Sharpe", "bias"):
        out.add_column(column, justify="right" if column in ("final equity", "CAGR") else "left")
    for r in runs:
        out.add_row(
            r.run_id[:12],
            r.strategy,
            r.engine,
            f"{r.start} → {r.end}",
            _format(r.final_equity, "money"),
            _format(r.metrics.get("cagr"), "pct"),
            _format(r.metrics.get("sharpe_ratio"), "num"),
            _status(r.bias_status),
        )
    console.print(out)


@backtests_app.command("show")
@handle_errors
def show(
    run_id: Annotated[str, typer.Argument(help="Run id (or a unique prefix of 4+ characters).")],
    as_json: JsonOption = False,
) -> None:
    """One stored run: description, metrics and bias checks."""
    with open_services() as services:
        run = services.backtest.get_run(run_id)
    if as_json:
        print_json(run.meta())
        return
    _print_run(run)


@backtests_app.command("delete")
@handle_errors
def delete(
    run_ids: Annotated[list[str], typer.Argument(help="Run ids (or unique prefixes).")],
    as_json: JsonOption = False,
) -> None:
    """Delete stored runs with their series, fills, trades and weights."""
    with open_services() as services:
        deleted = [services.backtest.delete_run(run_id) for run_id in run_ids]
    if as_json:
        print_json({"deleted": deleted})
        return
    for run_id in deleted:
        console.print(f"deleted run {run_id}")


@backtests_app.command("export")
@handle_errors
def export(
    run_id: Annotated[str, typer.Argument(help="Run id (or a unique prefix).")],
    out: Annotated[str, typer.Option("--out", help="Folder to write into (new or empty).")],
    formats: Annotated[
        str, typer.Option("--format", help="Comma list of csv, parquet, json.")
    ] = "csv,json",
    force: Annotated[
        bool, typer.Option("--force", help="Write into a folder that already has files.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Write a stored run's tables (CSV/Parquet) and its full description (run.json)."""
    wanted = [f.strip() for f in formats.split(",") if f.strip()]
    folder = export_folder(out, force=force)
    assert folder is not None  # --out is required
    with open_services() as services:
        written = services.backtest.export(run_id, folder, wanted)
    if as_json:
        print_json({"files": [str(p) for p in written]})
        return
    console.print(f"wrote {len(written)} file(s) to {out}")


@backtests_app.command("compare")
@handle_errors
def compare(
    run_ids: Annotated[list[str], typer.Argument(help="Two or more run ids.")],
    as_json: JsonOption = False,
) -> None:
    """Metrics of several runs side by side."""
    with open_services() as services:
        frame = services.backtest.compare(run_ids)
    if as_json:
        print_json({column: frame[column].to_dict() for column in frame.columns})
        return
    from rich.table import Table

    out = Table(title="comparison", title_justify="left")
    out.add_column("metric")
    for column in frame.columns:
        out.add_column(str(column)[:12], justify="right")
    for metric, row in frame.iterrows():
        out.add_row(str(metric), *(_cell(v) for v in row.tolist()))
    console.print(out)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4f}"
    return "n/a" if value is None else str(value)


@handle_errors
def optimize(
    strategy: Annotated[
        str, typer.Argument(help="Strategy name, or 'show' followed by a sweep id.")
    ],
    sweep_id: Annotated[
        str | None, typer.Argument(help="With 'show': the sweep id (or a unique prefix).")
    ] = None,
    grid: Annotated[
        str | None,
        typer.Option(help="Space: 'k=a,b;k2=lo:hi:step' (with --trials: 'k=lo:hi' ranges)."),
    ] = None,
    trials: Annotated[
        int | None, typer.Option(help="Bayesian (Optuna TPE) search with N trials.")
    ] = None,
    walk_forward: Annotated[
        str | None,
        typer.Option(help="Walk-forward folds: 'folds=4,train=756,test=252[,gap=5][,anchored]'."),
    ] = None,
    executor: Annotated[
        str, typer.Option(help="serial, local, local:N or dask://host:port.")
    ] = "local",
    params: ParamsOption = None,
    start: StartOption = None,
    end: EndOption = None,
    universe: UniverseOption = None,
    benchmark: BenchmarkOption = None,
    cash: CashOption = 1_000_000.0,
    commission_bps: CommissionOption = None,
    commission_per_order: PerOrderOption = None,
    slippage_bps: SlippageOption = None,
    seed: Annotated[int, typer.Option(help="Sampler seed (Bayesian search).")] = 0,
    as_json: JsonOption = False,
) -> None:
    """Optimise STRATEGY's parameters (grid or Bayesian, optionally walk-forward); reports
    the deflated Sharpe ratio and the probability of backtest overfitting.

    ``quantdesk optimize show SWEEP_ID`` shows a stored sweep with its trials."""
    if strategy == "show":
        if sweep_id is None:
            raise ConfigurationError("optimize show needs a sweep id")
        _show_sweep(sweep_id, as_json)
        return
    if sweep_id is not None:
        raise ConfigurationError(f"unexpected argument {sweep_id!r} (optimize STRATEGY --grid …)")
    if grid is None:
        raise ConfigurationError("give the parameter space with --grid, e.g. 'lookback=126,252'")
    values = parse_params(params)
    first, last = parse_date(start, "--start"), parse_date(end, "--end")
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from quantdesk.services.backtest_optimize import TrialRecord

    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=rich_console(console),
        transient=True,
        disable=as_json,
    )
    task = progress.add_task(f"optimising {strategy}", total=None)

    def advance(record: TrialRecord) -> None:
        progress.update(
            task,
            completed=record.done,
            total=record.total,
            description=f"optimising {strategy} (best so far {best_score(record):.3f})",
        )

    best: list[float] = []

    def best_score(record: TrialRecord) -> float:
        if record.score == record.score:  # not NaN
            best.append(record.score)
        return max(best) if best else float("nan")

    with open_services() as services, progress:
        costs = _costs(services, strategy, commission_per_order, commission_bps, slippage_bps)
        outcome = services.backtest.optimize(
            strategy,
            grid=grid,
            trials=trials,
            walk_forward=walk_forward,
            executor=executor,
            params=values,
            start=first,
            end=last,
            universe=_universe(universe),
            benchmark=benchmark,
            costs=costs,
            initial_cash=cash,
            seed=seed,
            on_trial=advance,
        )
    if as_json:
        print_json(outcome.to_dict())
        return
    from rich.table import Table

    summary = outcome.summary
    out = Table(title=f"sweep {outcome.sweep_id} ({outcome.method})", title_justify="left")
    out.add_column("")
    out.add_column("", justify="right")
    out.add_row("trials", str(summary.get("trials")))
    if "best_trial" in summary:
        out.add_row("best trial", f"#{summary['best_trial']}")
    out.add_row("best parameters", str(outcome.best_params))
    out.add_row("best score (Sharpe)", _format(summary.get("best_score"), "num"))
    out.add_row("deflated Sharpe ratio", _format(summary.get("deflated_sharpe"), "num"))
    out.add_row("PBO", _format(summary.get("pbo"), "num"))
    if "out_of_sample_sharpe" in summary:
        out.add_row("out-of-sample Sharpe", _format(summary["out_of_sample_sharpe"], "num"))
    console.print(out)
    for note in summary.get("notes", []):
        console.print(f"  note: {note}", highlight=False)


def _show_sweep(sweep_id: str, as_json: bool) -> None:
    with open_services() as services:
        sweep = services.backtest.get_sweep(sweep_id)
    if as_json:
        print_json(sweep)
        return
    from rich.markup import escape
    from rich.table import Table

    summary = sweep.get("summary") or {}
    head = Table(title=f"sweep {sweep['id']} ({sweep['method']})", title_justify="left")
    head.add_column("")
    head.add_column("", justify="right")
    head.add_row("strategy", str(sweep["strategy"]))
    head.add_row("status", str(sweep["status"]))
    head.add_row("best trial", f"#{summary.get('best_trial', 'n/a')}")
    head.add_row("best parameters", escape(str(sweep.get("best_params"))))
    head.add_row("best score (Sharpe)", _format(summary.get("best_score"), "num"))
    head.add_row("deflated Sharpe ratio", _format(summary.get("deflated_sharpe"), "num"))
    head.add_row("PBO", _format(summary.get("pbo"), "num"))
    console.print(head)
    trials = Table(title=f"{len(sweep['trials'])} trial(s)", title_justify="left")
    for column in ("#", "fold", "parameters", "Sharpe"):
        trials.add_column(column, justify="right" if column in ("#", "Sharpe") else "left")
    best = summary.get("best_trial")
    for trial in sweep["trials"]:
        mark = " *" if trial["number"] == best and trial["fold"] is None else ""
        trials.add_row(
            f"{trial['number']}{mark}",
            "" if trial["fold"] is None else str(trial["fold"]),
            escape(str(trial["params"])),
            _format(trial["score"], "num"),
        )
    console.print(trials)
