"""``quantdesk demo``: the main job end to end on the offline sample.

Sample data → composite momentum scores → ``momentum-12-1`` and ``momentum-composite`` backtests
against the S&P 500 → a summary table, with every run's files and a Markdown report written to
``$QUANTDESK_DATA_DIR/demo``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quantdesk.cli.common import console, handle_errors, open_services, table

if TYPE_CHECKING:
    from quantdesk.services import Services
    from quantdesk.services.backtest import StoredRun

STRATEGIES = ("momentum-12-1", "momentum-composite")
BENCHMARK = "SP500"
COLUMNS = ("strategy", "CAGR", "Sharpe", "Max DD", "Alpha", "Beta", "Final equity", "Bias checks")


@handle_errors
def demo() -> None:
    """Load the sample, score it, backtest two strategies vs the S&P 500, write a report."""
    with open_services() as services:
        console.rule("[bold]quantdesk demo")
        console.print(f"database: {services.database!r}")
        _load(services)
        top = _score(services)
        runs = _backtest(services)
        report = _write(services, runs, top)
        # paper trading (issue 8): a separate step after the backtests
        from quantdesk.cli.demo_trading import paper_trading

        paper_trading(services)
        console.print(f"\nresult files and report: [bold]{report.parent}[/]")
        console.print(f"report: {report}")


def _load(services: Services) -> None:
    with console.status("1/4 loading the offline sample…"):
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
    with console.status("2/4 scoring composite momentum at every month end…"):
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
        with console.status(f"3/4 backtesting {name} vs the S&P 500…"):
            runs.append(services.backtest.run(name, benchmark=BENCHMARK))
    console.print(
        table(
            f"3. backtests vs the S&P 500 ({runs[0].start} → {runs[0].end}, "
            f"{runs[0].initial_cash:,.0f} start)",
            list(COLUMNS),
            [_summary_row(run) for run in runs],
            right=set(COLUMNS[1:-1]),
        )
    )
    return runs


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
    folder = services.settings.data_dir / "demo"
    with console.status("4/4 writing result files and the report…"):
        for run in runs:
            services.backtest.export(run.run_id, folder / run.strategy)
        report = folder / "report.md"
        report.write_text(_markdown(runs, top))
    return report


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
        "",
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
