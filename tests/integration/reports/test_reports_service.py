"""The reports service on stored runs and a replayed paper portfolio: the figures are the
analytics' own, the documents show them, attribution adds up, edge cases give a document or one
clear error; and ``/api/reports`` serves them as attachments to viewers."""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader
from typer.testing import CliRunner

from quantdesk.analytics import summary
from quantdesk.api import create_app
from quantdesk.api.context import build_web_services
from quantdesk.core.clock import SimulatedClock
from quantdesk.core.errors import NotFoundError
from quantdesk.reports import Report, ReportError
from quantdesk.reports.formatting import format_value
from quantdesk.services import build_services
from quantdesk.services.auth import Role

INCEPTION_KEYS = (
    "cagr",
    "volatility",
    "sharpe_ratio",
    "sortino_ratio",
    "max_drawdown",
    "alpha",
    "beta",
    "win_rate",
    "profit_factor",
    "best_month",
    "worst_month",
)


def _pdf_lines(path: Path) -> list[list[str]]:
    return [
        [line.strip() for line in page.extract_text().splitlines()]
        for page in PdfReader(path).pages
    ]


def _attribution(report: Report) -> object:
    return report.extra["attribution"]


def test_a_yearly_backtest_report_shows_the_analytics_figures(market: Any, tmp_path: Path) -> None:
    reports = market.services.reports
    run = market.services.backtest.get_run(market.run_id)
    report = reports.backtest_report(market.run_id[:8], "2023")
    returns = run.series["returns"]
    year = returns[(returns.index >= "2023-01-01") & (returns.index <= "2023-12-31")]
    bench = run.series["benchmark"].pct_change().dropna()
    expected = summary(year, bench[bench.index >= "2023-01-01"])
    for key in (
        "total_return",
        "cagr",
        "volatility",
        "sharpe_ratio",
        "max_drawdown",
        "alpha",
        "beta",
        "win_rate",
        "profit_factor",
    ):
        assert report.metric(key).period == pytest.approx(getattr(expected, key), rel=1e-9)
    # since inception is the whole stored run: the run's own metrics
    for key in INCEPTION_KEYS:
        assert report.metric(key).inception == pytest.approx(run.metrics[key], rel=1e-9), key

    pdf = reports.write(report, "pdf", tmp_path / "year.pdf")[0]
    pages = _pdf_lines(pdf)
    assert 2 <= len(pages) <= 8
    for metric in report.metrics:
        at = pages[0].index(metric.label)
        assert pages[0][at + 1 : at + 3] == [
            format_value(metric.period, metric.format),
            format_value(metric.inception, metric.format),
        ], metric.label
    text = "\n".join("\n".join(p) for p in pages)
    for heading in (
        "Equity vs benchmark",
        "Drawdown",
        "Monthly returns (%)",
        "Positions at",
        "Trades in the period",
        "Attribution by position",
        "Attribution by sector",
        "Bias checks",
    ):
        assert heading in text

    workbook = load_workbook(reports.write(report, "xlsx", tmp_path / "year.xlsx")[0])
    sheet = workbook["Summary"]
    values = {sheet.cell(r, 1).value: sheet.cell(r, 2).value for r in range(1, sheet.max_row + 1)}
    for metric in report.metrics:
        if metric.period is not None:
            assert values[metric.label] == pytest.approx(metric.period, rel=1e-12)


def test_the_trades_carry_their_slippage_against_the_days_price(market: Any) -> None:
    report = market.services.reports.backtest_report(market.run_id, "2023")
    trades = report.table("trades")
    assert trades is not None
    assert trades.rows
    # the run's cost model: 5 bp slippage on every fill, at the close
    assert trades.column("slippage_bp") == pytest.approx([5.0] * len(trades.rows), abs=1e-6)
    assert all(date(2023, 1, 1) <= day <= date(2023, 12, 31) for day in trades.column("date"))


@pytest.mark.parametrize("period", ["2023", "2022-Q3", "all"])
def test_position_contributions_add_up_to_the_return_but_the_commissions(
    market: Any, period: str
) -> None:
    report = market.services.reports.backtest_report(market.run_id, period)
    attribution = _attribution(report)
    period_return = report.metric("total_return").period
    assert attribution.period_return == pytest.approx(period_return, rel=1e-12)
    commissions = attribution.costs / attribution.start_equity
    assert attribution.total_contribution - commissions == pytest.approx(period_return, abs=1e-9)
    sectors = report.table("attribution_sectors")
    assert sectors is not None
    assert sum(sectors.column("contribution")) == pytest.approx(attribution.total_contribution)
    assert set(sectors.column("sector")) <= {"Technology", "Energy", "Health Care", "Financials"}
    factors = report.table("attribution_factors")
    assert factors is not None
    assert "market" in factors.column("factor")


def test_comparing_two_runs_side_by_side(market: Any, tmp_path: Path) -> None:
    reports = market.services.reports
    report = reports.comparison_report([market.run_id, market.other_run_id], "2023")
    correlation = report.table("correlation")
    assert correlation is not None
    matrix = np.array([row[1:] for row in correlation.rows], dtype=float)
    assert np.diag(matrix) == pytest.approx([1.0, 1.0])
    assert matrix[0, 1] == pytest.approx(matrix[1, 0])
    comparison = report.table("comparison")
    assert comparison is not None
    run = market.services.backtest.get_run(market.run_id)
    returns = run.series["returns"]
    sharpe = summary(returns[returns.index >= "2023-01-01"]).sharpe_ratio
    assert comparison.rows[0][
        comparison.columns.index(next(c for c in comparison.columns if c.key == "sharpe_ratio"))
    ] == pytest.approx(sharpe)
    assert [c.name for c in report.equity] == [row[0] for row in comparison.rows]
    pages = _pdf_lines(reports.write(report, "pdf", tmp_path / "compare.pdf")[0])
    assert "Correlation of daily returns" in "\n".join("\n".join(p) for p in pages)
    with pytest.raises(ReportError, match="at least two run ids"):
        reports.comparison_report([market.run_id])


def test_a_run_without_trades_still_gets_a_document(market: Any, tmp_path: Path) -> None:
    reports = market.services.reports
    report = reports.backtest_report(market.idle_run_id)
    trades = report.table("trades")
    assert trades is not None
    assert trades.rows == ()
    assert report.metric("total_return").period == 0.0
    pages = _pdf_lines(reports.write(report, "pdf", tmp_path / "idle.pdf")[0])
    assert "none in this period" in "\n".join("\n".join(p) for p in pages)
    reports.write(report, "xlsx", tmp_path / "idle.xlsx")


def test_periods_outside_the_run_and_unknown_runs_are_one_error(market: Any) -> None:
    reports = market.services.reports
    with pytest.raises(ReportError, match="ends before the history starts"):
        reports.backtest_report(market.run_id, "2019")
    with pytest.raises(NotFoundError, match="unknown run id"):
        reports.backtest_report("nosuchrun")
    with pytest.raises(ReportError, match="month 13"):
        reports.backtest_report(market.run_id, "2023-13")


def test_a_replayed_paper_portfolio_quarter(market: Any, tmp_path: Path) -> None:
    services = market.services
    report = services.reports.portfolio_report(market.portfolio, "2023-Q4")
    history = services.trading.history(market.portfolio)
    quarter = [
        r
        for d, r in zip(history.return_dates, history.returns, strict=True)
        if date(2023, 10, 1) <= d <= date(2023, 12, 31)
    ]
    assert report.metric("total_return").period == pytest.approx(
        math.prod(1 + r for r in quarter) - 1, rel=1e-9
    )
    # positions at the period's end: the last snapshot, weights of its equity
    positions = report.table("positions")
    assert positions is not None
    last = history.snapshots[-1]
    assert sum(positions.column("market_value")) == pytest.approx(float(last.market_value))
    # paper fills: 5 bp against the arrival price; $1 commission per order explains the residual
    trades = report.table("trades")
    assert trades is not None
    assert trades.rows
    assert trades.column("slippage_bp") == pytest.approx([5.0] * len(trades.rows), abs=0.05)
    attribution = _attribution(report)
    per_order = len(trades.rows) * 1.0 / attribution.start_equity
    assert abs(attribution.residual) <= per_order + 1e-9
    # the journal's non-ASCII thesis is the commentary, in the PDF too
    assert [a.text for a in report.annotations] == [
        "thesis: Thèse : l'énergie mène — 日本 trimmed, € hedged"
    ]
    pdf = services.reports.write(report, "pdf", tmp_path / "q4.pdf")[0]
    text = "\n".join("\n".join(p) for p in _pdf_lines(pdf))
    assert "Thèse : l'énergie mène" in text
    assert "Commentary" in text
    services.reports.write(report, "xlsx", tmp_path / "q4.xlsx")
    with pytest.raises(ReportError, match="has no strategy 'nosuch'"):
        services.reports.portfolio_report(market.portfolio, "2023-Q4", strategy="nosuch")


def test_portfolio_edge_cases(market: Any, tmp_path: Path) -> None:
    clock = SimulatedClock(datetime(2023, 9, 5, 21, 0, tzinfo=UTC))
    services = build_services(
        market.services.settings, clock=clock, database=market.services.database
    )
    trading, reports = services.trading, services.reports
    name = f"edge-{tmp_path.name[-8:]}"
    trading.create_portfolio(name, Decimal(10_000))
    trading.snapshot(name)
    # one day of history: a valid document; its one return is against the deposit (nothing
    # traded: 0 %), the metrics needing more days are marked n/a
    one_day = reports.portfolio_report(name)
    assert one_day.metric("total_return").period == 0.0
    assert one_day.metric("sharpe_ratio").period is None
    assert one_day.metric("end_equity").period == pytest.approx(10_000.0)
    reports.write(one_day, "pdf", tmp_path / "one-day.pdf")
    reports.write(one_day, "xlsx", tmp_path / "one-day.xlsx")
    # an empty month between two snapshots is one clear error
    clock.advance_to(datetime(2023, 11, 6, 21, 0, tzinfo=UTC))
    trading.snapshot(name)
    with pytest.raises(ReportError, match=f"portfolio '{name}' has no snapshot in period 2023-10"):
        reports.portfolio_report(name, "2023-10")
    with pytest.raises(ReportError, match="ends before the history starts"):
        reports.portfolio_report(name, "2023-08")


def test_the_cli_writes_each_format(
    market: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from quantdesk.cli.app import app

    monkeypatch.setenv("QUANTDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("QUANTDESK_DATABASE_URL", market.services.database.url)
    runner = CliRunner()
    out = tmp_path / "run.xlsx"
    result = runner.invoke(
        app,
        [
            "report",
            "backtest",
            market.run_id[:8],
            "--format",
            "xlsx",
            "--period",
            "2023-Q2",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert str(out) in result.stdout
    assert load_workbook(out)["Summary"]["B3"].value == "2023-Q2"
    result = runner.invoke(
        app,
        [
            "report",
            "portfolio",
            market.portfolio,
            "--period",
            "2023-11",
            "--format",
            "csv",
            "--out",
            str(tmp_path / "csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert pd.read_csv(tmp_path / "csv" / "summary.csv")["metric"].iloc[0] == "Return"
    result = runner.invoke(
        app,
        [
            "report",
            "compare",
            market.run_id,
            market.other_run_id,
            "--format",
            "html",
            "--out",
            str(tmp_path / "c.html"),
        ],
    )
    assert result.exit_code == 0, result.output
    bad = runner.invoke(app, ["report", "portfolio", market.portfolio, "--period", "2023-Q7"])
    assert bad.exit_code == 1
    assert "period '2023-Q7' is not understood" in bad.stderr


# -- /api/reports (same module: the market fixture is built once per backend) ----------------
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(scope="module")
def api(market: Any) -> Iterator[tuple[TestClient, str]]:
    """The app over the market, with one viewer (token returned) so anonymity is refused."""
    web = build_web_services(market.services, hasher=CHEAP_HASHER)
    web.auth.add_user("viewer1", "correct horse viewer", Role.VIEWER)
    token = web.auth.create_token("viewer1", "test").secret
    with TestClient(create_app(market.services, web=web)) as client:
        yield client, token


def test_each_format_is_an_attachment(market: Any, api: tuple[TestClient, str]) -> None:
    client, token = api
    headers = {"Authorization": f"Bearer {token}"}
    pdf = client.get(f"/api/reports/backtests/{market.run_id[:8]}?period=2023", headers=headers)
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    assert "attachment;" in pdf.headers["content-disposition"]
    assert "Backtest report" in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()

    xlsx = client.get(
        f"/api/reports/portfolios/{market.portfolio}",
        params={"period": "2023-Q4", "format": "xlsx"},
        headers=headers,
    )
    assert xlsx.status_code == 200, xlsx.text
    assert load_workbook(io.BytesIO(xlsx.content))["Summary"]["B3"].value == "2023-Q4"

    csv = client.get(
        "/api/reports/compare",
        params=[("run_id", market.run_id), ("run_id", market.other_run_id), ("format", "csv")],
        headers=headers,
    )
    assert csv.status_code == 200, csv.text
    names = zipfile.ZipFile(io.BytesIO(csv.content)).namelist()
    assert any(name.endswith("/correlation.csv") for name in names)


def test_bad_requests_are_problems_and_anonymous_is_refused(
    market: Any, api: tuple[TestClient, str]
) -> None:
    client, token = api
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/reports/backtests/{market.run_id}").status_code == 401
    bad_period = client.get(
        f"/api/reports/backtests/{market.run_id}?period=2023-13", headers=headers
    )
    assert bad_period.status_code == 422
    assert "month 13" in bad_period.json()["detail"]
    unknown = client.get("/api/reports/portfolios/nobody", headers=headers)
    assert unknown.status_code == 404
    bad_format = client.get(f"/api/reports/backtests/{market.run_id}?format=docx", headers=headers)
    assert bad_format.status_code == 422
    one_run = client.get(f"/api/reports/compare?run_id={market.run_id}", headers=headers)
    assert one_run.status_code == 422


def test_a_portfolio_report_attributes_its_return_to_factors(market: Any) -> None:
    """Regression: portfolio (and book) reports had attribution by position and sector but
    none by factor (only backtest reports regressed on the factors)."""
    report = market.services.reports.portfolio_report(market.portfolio, "2023-Q4")
    factors = report.table("attribution_factors")
    assert factors is not None
    names = factors.column("factor")
    assert "market" in names
    # the rows add up to the quarter's compounded return: Σ β·f + alpha + compounding
    assert sum(c for c in factors.column("contribution") if c is not None) == pytest.approx(
        report.metric("total_return").period, abs=1e-9
    )
