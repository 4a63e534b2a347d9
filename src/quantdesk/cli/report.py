"""``quantdesk report``: PDF, Excel, CSV or HTML reports of a backtest run, a portfolio (or one
strategy's sub-ledger: ``--strategy``) or a comparison of runs or of a portfolio's strategy
books, for a month, quarter, year or any period."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from quantdesk.cli.common import console, escape, handle_errors, open_services, spinner
from quantdesk.core.errors import InvalidRequestError

if TYPE_CHECKING:
    from quantdesk.reports import Report
    from quantdesk.services import Services

app = typer.Typer(
    help="Reports: PDF, Excel (xlsx), CSV or an HTML tear sheet.", no_args_is_help=True
)

FormatOption = Annotated[
    str, typer.Option("--format", "-f", help="pdf, xlsx, csv (a folder of files) or html.")
]
OutOption = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="File to write (a folder for csv); default in the cwd."),
]
PeriodOption = Annotated[
    str,
    typer.Option(
        "--period",
        help="2021-03 (month), 2021-Q1 (quarter), 2021 (year), START:END or all.",
    ),
]


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="report")


@app.command("backtest")
@handle_errors
def backtest(
    run_id: Annotated[str, typer.Argument(help="Stored run id (or a unique prefix).")],
    format: FormatOption = "pdf",
    out: OutOption = None,
    period: PeriodOption = "all",
) -> None:
    """Report of a stored backtest run."""
    _check(format)
    with open_services() as services, spinner("building the backtest report…"):
        report = services.reports.backtest_report(run_id, period)
        written = _write(services, report, format, out, f"backtest-{run_id[:8]}")
    _done(report, written)


@app.command("portfolio")
@handle_errors
def portfolio(
    name: Annotated[str, typer.Argument(help="Portfolio name.")],
    period: PeriodOption = "all",
    format: FormatOption = "pdf",
    out: OutOption = None,
    strategy: Annotated[
        str | None, typer.Option("--strategy", help="Only this strategy's sub-ledger.")
    ] = None,
) -> None:
    """Report of a paper or live portfolio (monthly, quarterly, yearly or any period)."""
    _check(format)
    with open_services() as services, spinner("building the portfolio report…"):
        report = services.reports.portfolio_report(name, period, strategy)
        # each book's report has its own default name (not the whole portfolio's)
        stem = f"portfolio-{name}" + ("" if strategy is None else f"-{strategy}")
        written = _write(services, report, format, out, stem)
    _done(report, written)


@app.command("compare")
@handle_errors
def compare(
    run_ids: Annotated[
        list[str] | None,
        typer.Argument(help="Two or more stored run ids (or --portfolio and its books)."),
    ] = None,
    format: FormatOption = "pdf",
    out: OutOption = None,
    period: PeriodOption = "all",
    portfolio: Annotated[
        str | None,
        typer.Option("--portfolio", help="Compare strategy books of this portfolio instead."),
    ] = None,
    strategies: Annotated[
        list[str] | None,
        typer.Option(
            "--strategy", help="A book of --portfolio to compare (repeat; default: all books)."
        ),
    ] = None,
) -> None:
    """Several backtests, or strategy books of a portfolio, side by side: metrics, equity
    curves, correlation."""
    _check(format)
    runs, books = list(run_ids or []), list(strategies or [])
    if portfolio is not None and runs:
        raise InvalidRequestError("give run ids or --portfolio with its books, not both")
    if portfolio is None and books:
        raise InvalidRequestError("--strategy names a book of --portfolio: give --portfolio too")
    with open_services() as services, spinner("building the comparison report…"):
        if portfolio is not None:
            report = services.reports.books_comparison_report(portfolio, books, period)
        else:
            report = services.reports.comparison_report(runs, period)
        written = _write(services, report, format, out, f"comparison{_stem(portfolio)}")
    _done(report, written)


def _stem(portfolio: str | None) -> str:
    return "" if portfolio is None else f"-{portfolio}"


def _check(kind: str) -> None:
    """Refuse an unknown format before any work is done."""
    from quantdesk.reports import parse_format

    parse_format(kind)


def _write(
    services: Services, report: Report, kind: str, out: Path | None, stem: str
) -> list[Path]:
    from quantdesk.reports import parse_format

    fmt = parse_format(kind)
    label = report.period.label.replace(" ", "_")
    # a name's own dots stay (no with_suffix) and a slash in it does not point into a folder
    default = f"{stem}-{label}".replace("/", "-").replace("\\", "-")
    suffix = "" if fmt.value == "csv" else f".{fmt.value}"
    target = out if out is not None else Path.cwd() / f"{default}{suffix}"
    return services.reports.write(report, fmt, target)


def _done(report: Report, written: list[Path]) -> None:
    console.print(
        f"{escape(report.title)} · {escape(report.period.label)}: {len(written)} file(s)",
        highlight=False,
    )
    for path in written:
        console.print(escape(str(path)), highlight=False, soft_wrap=True)
