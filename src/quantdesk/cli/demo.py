"""``quantdesk demo``: the main job end to end on the offline sample.

Sample data → composite momentum scores → ``momentum-12-1`` and ``momentum-composite`` backtests
against the S&P 500 → a summary table, with every run's files and a Markdown report written to
``$QUANTDESK_DATA_DIR/demo``.

The demo keeps its own database in that folder (``demo/quantdesk.sqlite``): it never writes the
sample into the user's database, where it would overwrite real bars of the same symbols. Both
strategies run under one stated cost model, and the benchmark's own CAGR, Sharpe and maximum
drawdown are shown beside them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quantdesk.cli.common import console, handle_errors, table

if TYPE_CHECKING:
    from quantdesk.backtest.costs import CostModel
    from quantdesk.config import Settings
    from quantdesk.services import Services
    from quantdesk.services.backtest import StoredRun

STRATEGIES = ("momentum-12-1", "momentum-composite")
BENCHMARK = "SP500"
COLUMNS = ("strategy", "CAGR", "Sharpe", "Max DD", "Alpha", "Beta", "Final equity", "Bias checks")
# one cost model for every strategy, so the comparison is fair: 10 bp of each trade's value
COMMISSION_BPS = 10.0


def demo_costs() -> CostModel:
    from quantdesk.backtest.costs import CostModel

    return CostModel(commission_per_order=0.0, commission_bps=COMMISSION_BPS)


def cost_words() -> str:
    return (
        f"every strategy pays the same costs: {COMMISSION_BPS:g} bp "
        f"({COMMISSION_BPS / 100:.2f} %) of each trade's value, no fixed fee, filled at the "
        "day's close"
    )


def demo_settings() -> Settings:
    """Settings of the demo's own SQLite database under ``$QUANTDESK_DATA_DIR/demo`` (never
    the user's database, even when ``QUANTDESK_DATABASE_URL`` is set)."""
    from quantdesk.config import Settings

    user = Settings()
    return Settings(
        data_dir=user.data_dir / "demo",
        database_url=None,
        log_level=user.log_level,
        log_json=user.log_json,
    )


def open_demo_services() -> Services:
    """Services on the demo's own database (:func:`demo_settings`)."""
    from quantdesk.services import build_services

    settings = demo_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return build_services(settings)


@handle_errors
def demo() -> None:
    """Load the sample, score it, backtest two strategies vs the S&P 500, write a report."""
    services = open_demo_services()
    try:
        console.rule("[bold]quantdesk demo")
        console.print(
            f"demo database (separate from yours): {services.database!r}", highlight=False
        )
        _load(services)
        top = _score(services)
        runs = _backtest(services)
        # paper trading (issue 8): a separate step after the backtests
        from quantdesk.cli.demo_trading import paper_trading

        paper_trading(services)
        report = _write(services, runs, top)
        documents = _investor_report(services, runs[0])
        console.print(f"\nresult files and report: [bold]{report.parent}[/]")
        console.print(f"report: {report}")
        for path in documents:
            console.print(f"{path.suffix[1:].upper()} report: {path}", highlight=False)
        console.print("browse it all: quantdesk serve --demo  (http://127.0.0.1:8000/)")
    finally:
        services.close()


def _load(services: Services) -> None:
    with console.status("1/5 loading the offline sample…"):
        reports = services.data.load_sample()
    rows = [
        [r.source, f"{r.rows_read:,}", f"{r.inserted:,}", f"{r.unchanged:,}", r.symbols]
        for r in reports
    ]
    console.print(
        table(
            "1. offline sample (skfolio S&P 500 stocks and index, bokeh-sampledata OHLCV)",
            ["source", "rows", "inserted", "unchanged", "symbols"],
            rows,
            right={"rows", "inserted", "unchanged", "symbols"},
        )
    )


def _score(services: Services) -> list[list[Any]]:
    with console.status("2/5 scoring composite momentum at every month end…"):
        scores = services.research.compute_scores("momentum-composite", benchmark=BENCHMARK)
        latest = services.research.latest_scores("momentum-composite", top=10)
    rows = [
        [int(r["rank"]), r["symbol"], r["sector"] or "", f"{r['score']:+.2f}"]
        for _, r in latest.iterrows()
    ]
    last = latest["date"].iloc[0] if len(latest) else None
    console.print(
        table(
            f"2. top-ranked by composite momentum on {last} "
            f"({len(scores.dates)} month ends scored, RS vs {scores.benchmark})",
            ["rank", "symbol", "sector", "score (z)"],
            rows,
            right={"rank", "score (z)"},
        )
    )
    return rows


def _backtest(services: Services) -> list[StoredRun]:
    runs = []
    for name in STRATEGIES:
        with console.status(f"3/5 backtesting {name} vs the S&P 500…"):
            runs.append(services.backtest.run(name, benchmark=BENCHMARK, costs=demo_costs()))
    console.print(
        table(
            f"3. backtests vs the S&P 500 ({runs[0].start} → {runs[0].end}, "
            f"{runs[0].initial_cash:,.0f} start)",
            list(COLUMNS),
            [*(_summary_row(run) for run in runs), benchmark_row(runs[0])],
            right=set(COLUMNS[1:-1]),
        )
    )
    console.print(f"costs: {cost_words()}", highlight=False)
    for line in plain_warnings(runs):
        console.print(f"[yellow]note:[/] {line}", highlight=False)
    return runs


def benchmark_row(run: StoredRun) -> list[str]:
    """The benchmark's own CAGR, Sharpe and max drawdown over the run's dates (buy and hold)."""
    from quantdesk.analytics import cagr, max_drawdown, sharpe_ratio

    prices = run.series["benchmark"].astype("float64").dropna()
    returns = prices.pct_change().dropna()
    if returns.empty:
        return [f"{run.benchmark or 'benchmark'} (buy and hold)", *["n/a"] * 6, ""]
    return [
        f"{run.benchmark} (benchmark, buy and hold)",
        _pct(cagr(returns)),
        _num(sharpe_ratio(returns)),
        _pct(max_drawdown(returns)),
        "",
        "",
        f"{run.initial_cash * float(prices.iloc[-1] / prices.iloc[0]):,.0f}",
        "",
    ]


def plain_warnings(runs: list[StoredRun]) -> list[str]:
    """The bias checks that did not pass, in words a new user understands."""
    lines = []
    if any(run.bias["survivorship"].status != "pass" for run in runs):
        lines.append(
            "survivorship bias: the sample holds only companies that still exist today "
            "(the winners). Stocks that went bankrupt or were taken over are missing, so these "
            "backtests look better than real trading in those years would have been."
        )
    for run in runs:
        check = run.bias["lookahead"]
        if check.status == "fail":
            lines.append(f"{run.strategy} used information from the future: {check.detail}")
    return lines


def _summary_row(run: StoredRun) -> list[str]:
    m = run.metrics
    return [
        run.strategy,
        _pct(m.get("cagr")),
        _num(m.get("sharpe_ratio")),
        _pct(m.get("max_drawdown")),
        _pct(m.get("alpha")),
        _num(m.get("beta")),
        f"{run.final_equity:,.0f}",
        run.bias.status.value,
    ]


def _pct(value: Any) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{100 * value:.1f} %"


def _num(value: Any) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.2f}"


def _write(services: Services, runs: list[StoredRun], top: list[list[Any]]) -> Path:
    folder = services.settings.data_dir  # the demo's own folder
    with console.status("5/5 writing result files and the report…"):
        for run in runs:
            services.backtest.export(run.run_id, folder / run.strategy)
        report = folder / "report.md"
        report.write_text(_markdown(runs, top))
    return report


def _investor_report(services: Services, run: StoredRun) -> list[Path]:
    """The PDF and Excel report of ``run`` (the momentum backtest) beside the other files."""
    folder = services.settings.data_dir
    with console.status(f"writing the PDF and Excel reports of {run.strategy}…"):
        report = services.reports.backtest_report(run.run_id)
        return [
            *services.reports.write(report, "pdf", folder / f"{run.strategy}-report.pdf"),
            *services.reports.write(report, "xlsx", folder / f"{run.strategy}-report.xlsx"),
        ]


def _markdown(runs: list[StoredRun], top: list[list[Any]]) -> str:
    lines = [
        "# quantdesk demo report",
        "",
        "Offline sample: skfolio's 20 S&P 500 stocks (adjusted closes, 1990-2022) and the S&P 500",
        "index as benchmark, plus bokeh-sampledata's IBM and GOOG OHLCV.",
        "",
        "## Top-ranked by composite momentum",
        "",
        "| rank | symbol | sector | score (z) |",
        "| ---: | --- | --- | ---: |",
        *[f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} |" for r in top],
        "",
        "## Backtests vs the S&P 500",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "| " + " | ".join("---" for _ in COLUMNS) + " |",
        *["| " + " | ".join(_summary_row(run)) + " |" for run in runs],
        "| " + " | ".join(benchmark_row(runs[0])) + " |",
        "",
        f"Costs: {cost_words()}.",
        "",
        *[f"**Note:** {line}" + "\n" for line in plain_warnings(runs)],
        "## Bias checks",
        "",
    ]
    for run in runs:
        lines.append(f"### {run.strategy} (run `{run.run_id}`)")
        lines.append("")
        for name, check in run.bias.to_dict()["checks"].items():
            lines.append(f"- **{name}**: {check['status']} — {check.get('detail', '')}")
        lines.append("")
    lines.append(
        "Series, fills, trades and weights of each run are in the folder beside this file."
    )
    return "\n".join(lines) + "\n"
