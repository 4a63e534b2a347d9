"""``quantdesk data …``: load, import, update, check and inspect market data."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from quantdesk.cli.common import (
    console,
    escape,
    handle_errors,
    open_services,
    parse_date,
    print_json,
    spinner,
    table,
)

if TYPE_CHECKING:  # the services pull in numba and pandas; --help must stay instant
    from quantdesk.core.enums import Timeframe
    from quantdesk.data.quality import QualityExample
    from quantdesk.services.data import ImportReport

app = typer.Typer(
    help="Market data: sample, import, update, check, status, symbols.", no_args_is_help=True
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def _import_rows(reports: list[ImportReport]) -> list[list[object]]:
    return [
        [
            r.source,
            f"{r.rows_read:,}",
            f"{r.inserted:,}",
            f"{r.updated:,}",
            f"{r.unchanged:,}",
            f"{r.rejected:,}",
            r.symbols,
        ]
        for r in reports
    ]


def _print_overwrites(report: ImportReport) -> None:
    """One line naming how many stored bars of which symbols the import changed."""
    if report.changed.rows:
        console.print(
            f"  [yellow]overwrote[/] {escape(report.changed.describe())} with different values",
            highlight=False,
            soft_wrap=True,
        )


IMPORT_COLUMNS = ["source", "rows", "inserted", "updated", "unchanged", "rejected", "symbols"]


@app.command()
@handle_errors
def sample(
    as_json: JsonOption = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Overwrite stored bars that differ from the sample's."),
    ] = False,
) -> None:
    """Load the offline sample (skfolio S&P 500 stocks + index, bokeh-sampledata OHLCV)."""
    with open_services() as services, spinner("loading the offline sample…"):
        reports = services.data.load_sample(force=force)
    if as_json:
        print_json([r.to_dict() for r in reports])
        return
    console.print(
        table(
            "offline sample loaded",
            IMPORT_COLUMNS,
            _import_rows(reports),
            right=set(IMPORT_COLUMNS[1:]),
        )
    )
    for report in reports:
        _print_overwrites(report)


@app.command("import")
@handle_errors
def import_(
    paths: Annotated[list[Path], typer.Argument(help="CSV/Parquet files or folders.")],
    per_symbol: Annotated[
        bool, typer.Option("--per-symbol", help="One file per symbol; the file name is the symbol.")
    ] = False,
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Import good rows, report the bad ones.")
    ] = False,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="Refuse suspicious values too (huge one-day moves, likely splits)."
        ),
    ] = False,
    timeframe: Annotated[str, typer.Option(help="Bar size: 1m, 5m, 15m, 1h, 1d.")] = "1d",
    fundamentals: Annotated[
        str | None,
        typer.Option("--fundamentals", help="Import earnings instead of bars: 'csv' or 'kaggle'."),
    ] = None,
    instruments: Annotated[
        bool,
        typer.Option("--instruments", help="Import instrument metadata (symbol,name,sector,…)."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Import bars (date,symbol,open,high,low,close,volume[,adj_close]), earnings or instruments.

    Any bad row aborts the import and nothing is written (unless --skip-bad); suspicious values
    are reported as warnings (refused with --strict)."""
    bar_size = _timeframe(timeframe)
    if fundamentals is not None and fundamentals not in ("csv", "kaggle"):
        raise typer.BadParameter("use 'csv' or 'kaggle'", param_hint="--fundamentals")
    with open_services() as services, spinner(f"importing {len(paths)} path(s)…"):
        if fundamentals is not None:
            for path in paths:
                result = services.reference.import_earnings(
                    path, file_format="kaggle" if fundamentals == "kaggle" else "csv"
                )
                if as_json:
                    print_json(result.to_dict())
                else:
                    parse = result.parse
                    console.print(
                        f"{escape(path)}: {parse.rows_read:,} rows read, "
                        f"{result.rows_written:,} written "
                        f"for {result.symbols_written} symbols; {parse.rows_dropped:,} dropped "
                        f"{escape(dict(parse.dropped))}; "
                        f"{result.symbols_without_prices} symbols have no prices"
                    )
            return
        if instruments:
            count = sum(services.data.import_instruments(p) for p in paths)
            print_json({"instruments": count}) if as_json else console.print(
                f"{count} instruments imported"
            )
            return
        report = services.data.import_files(
            paths, per_symbol=per_symbol, skip_bad=skip_bad, timeframe=bar_size, strict=strict
        )
    if as_json:
        print_json(report.to_dict())
        return
    console.print(
        table("import", IMPORT_COLUMNS, _import_rows([report]), right=set(IMPORT_COLUMNS[1:]))
    )
    _print_overwrites(report)
    for problem in report.problems[:20]:
        console.print(f"  [yellow]skipped[/] {escape(problem)}", highlight=False, soft_wrap=True)
    for warning in report.warnings[:20]:
        console.print(f"  [yellow]warning[/] {escape(warning)}", highlight=False, soft_wrap=True)
    if len(report.warnings) > 20:
        console.print(f"  … and {len(report.warnings) - 20} more warning(s)", highlight=False)


def _timeframe(value: str) -> Timeframe:
    from quantdesk.core.enums import Timeframe

    try:
        return Timeframe(value.strip().lower())
    except ValueError:
        choices = ", ".join(t.value for t in Timeframe)
        raise typer.BadParameter(
            f"{value!r} is not a bar size (use one of {choices})",
            param_hint="--timeframe",
        ) from None


@app.command()
@handle_errors
def update(
    source: Annotated[str, typer.Argument(help="yahoo, stooq, alpha_vantage or polygon.")],
    symbols: Annotated[
        list[str] | None, typer.Argument(help="Symbols (default: every stored one).")
    ] = None,
    start: Annotated[
        str | None, typer.Option(help="First date (default: after the latest bar).")
    ] = None,
    end: Annotated[str | None, typer.Option(help="Last date (default: today).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Fetch new bars from a remote source (cached with a TTL) and import them."""
    with open_services() as services, spinner(f"fetching from {source}…"):
        report = services.reference.update_from_source(
            source, symbols, parse_date(start, "--start"), parse_date(end, "--end")
        )
    if as_json:
        print_json(report.to_dict())
    else:
        console.print(table(f"update from {source}", IMPORT_COLUMNS, _import_rows([report])))
        for warning in report.warnings[:20]:
            console.print(
                f"  [yellow]warning[/] {escape(warning)}", highlight=False, soft_wrap=True
            )


@app.command()
@handle_errors
def membership(
    indices: Annotated[list[str] | None, typer.Argument(help="sp500, nasdaq100, dow30.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Load index membership history (index-constitution) for point-in-time universes."""
    with open_services() as services:
        counts = services.reference.import_membership(tuple(indices or ["sp500"]))
    print_json(counts) if as_json else console.print(escape(counts))


@app.command()
@handle_errors
def status(as_json: JsonOption = False) -> None:
    """Latest date, days old, symbol and bar counts."""
    with open_services() as services:
        result = services.data_status.status()
    if as_json:
        print_json(result.to_dict())
        return
    rows = [[k, v] for k, v in result.to_dict().items()]
    console.print(table("data status", ["", "value"], rows))


@app.command()
@handle_errors
def check(
    symbols: Annotated[list[str] | None, typer.Argument(help="Symbols (default: all).")] = None,
    stale_after: Annotated[
        int, typer.Option(help="Sessions without a bar before a symbol is stale.")
    ] = 5,
    jump: Annotated[
        float, typer.Option(help="One-day move flagged as a jump (fraction, 0.4 = 40 %).")
    ] = 0.4,
    as_json: JsonOption = False,
) -> None:
    """Data quality: NaN, bad prices, high<low, duplicates, calendar gaps, jumps, staleness.

    Exits 1 when errors (not warnings) are found."""
    with open_services() as services, spinner("checking data quality…"):
        report = services.reference.check_quality(
            symbols, stale_after_days=stale_after, jump_threshold=jump
        )
    if as_json:
        print_json(report.to_dict())
    else:
        rows = [
            [
                i.kind.value,
                i.severity.value,
                f"{i.count:,}",
                "; ".join(_example_text(e) for e in i.examples[:3]),
            ]
            for i in report.issues
        ]
        console.print(
            table(
                f"quality: {report.symbols} symbols, {report.bars:,} bars, "
                f"{report.first_date}..{report.last_date}",
                ["check", "severity", "count", "examples"],
                rows,
                right={"count"},
            )
        )
        console.print("[green]ok[/]" if report.ok else f"[red]{report.error_count} error(s)[/]")
    if not report.ok:
        raise typer.Exit(1)


def _example_text(example: QualityExample) -> str:
    day = f"{example.ts:%Y-%m-%d}" if example.ts is not None else ""
    return " ".join(part for part in (example.symbol, day, example.field or "") if part)


@app.command()
@handle_errors
def symbols(as_json: JsonOption = False) -> None:
    """Stored instruments with their bar coverage."""
    with open_services() as services:
        infos = services.data.get_symbols()
        coverage = {c.symbol: c for c in services.data.coverage()}
    rows = []
    for i in infos:
        c = coverage.get(i.symbol)
        rows.append(
            {
                "symbol": i.symbol,
                "name": i.name,
                "asset_class": i.asset_class.value,
                "sector": i.sector,
                "fields": i.price_fields,
                "bars": c.bars if c else 0,
                "first": c.first.date().isoformat() if c else None,
                "last": c.last.date().isoformat() if c else None,
            }
        )
    if as_json:
        print_json(rows)
        return
    columns = list(rows[0]) if rows else ["symbol"]
    console.print(
        table(f"{len(rows)} symbols", columns, [list(r.values()) for r in rows], right={"bars"})
    )
