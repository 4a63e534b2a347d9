"""Per-book snapshots and the strategy sub-ledger report: two strategy books trade in one
portfolio over two weeks (netted orders split by allocation, internal crosses, a deposit into
one book); each day's book snapshots sum to the portfolio's, and a strategy's report — the
service's model, the PDF and the workbook — shows the book's own returns, positions and
attribution, not the whole portfolio's."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from typer.testing import CliRunner

from quantdesk.analytics import drawdown_series, max_drawdown, summary
from quantdesk.config import Settings
from quantdesk.core.clock import SimulatedClock
from quantdesk.data.calendar import TradingCalendar
from quantdesk.db.database import Database
from quantdesk.db.repositories import trading as trading_repo
from quantdesk.reports import ReportError
from quantdesk.reports.formatting import format_value
from quantdesk.services import Services, build_services
from quantdesk.services.trading_book import time_weighted_returns
from quantdesk.services.trading_types import SnapshotView

NAME = "two-books"
SECTORS = {
    "AAA": "Technology",
    "BBB": "Technology",
    "CCC": "Energy",
    "DDD": "Energy",
    "EEE": "Health Care",
    "FFF": "Financials",
}
FIRST, LAST = date(2024, 1, 2), date(2024, 2, 29)
# per session index: each book's targets (a rebalance of both books as one netted batch)
PLAN: dict[int, dict[str, dict[str, float]]] = {
    0: {"alpha": {"AAA": 0.5, "CCC": 0.4}, "beta": {"BBB": 0.5, "DDD": 0.4}},
    # alpha buys BBB and sells AAA while beta does the opposite: both cross inside the account
    2: {"alpha": {"AAA": 0.2, "BBB": 0.3, "CCC": 0.4}, "beta": {"AAA": 0.4, "DDD": 0.5}},
    6: {"alpha": {"EEE": 0.6, "CCC": 0.3}, "beta": {"AAA": 0.3, "BBB": 0.3, "FFF": 0.3}},
    9: {"alpha": {"EEE": 0.3, "FFF": 0.3}, "beta": {"AAA": 0.6}},
}
DEPOSIT_DAY = 4  # 5,000 more into beta: its return must take the flow out
DAYS = 12


@dataclass(frozen=True)
class Books:
    services: Services
    crosses: int
    sessions: list[date]


def _bars(folder: Path) -> tuple[Path, Path]:
    days = TradingCalendar("XNYS").sessions(FIRST, LAST)
    generator = np.random.default_rng(11)
    rows = []
    for k, symbol in enumerate(SECTORS):
        steps = generator.normal(0.002 * (k - 2), 0.02, len(days))
        closes = 40.0 * np.exp(np.cumsum(steps))
        rows.extend((d.date().isoformat(), symbol, c) for d, c in zip(days, closes, strict=True))
    frame = pd.DataFrame(rows, columns=["date", "symbol", "close"]).round({"close": 4})
    for field in ("open", "high", "low"):
        frame[field] = frame["close"]
    frame["volume"] = 1_000_000
    bars = folder / "bars.csv"
    frame.to_csv(bars, index=False)
    instruments = folder / "instruments.csv"
    pd.DataFrame(
        [
            {"symbol": s, "name": s, "sector": sector, "asset_class": "stock"}
            for s, sector in SECTORS.items()
        ]
    ).to_csv(instruments, index=False)
    return bars, instruments


@pytest.fixture(scope="module")
def books(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Books]:
    folder = tmp_path_factory.mktemp("books")
    clock = SimulatedClock(datetime(2024, 1, 2, 21, 0, tzinfo=UTC))
    services = build_services(
        Settings(data_dir=folder / "data", database_url=module_database_url),
        clock=clock,
        database=Database(module_database_url),
    )
    bars, instruments = _bars(folder)
    services.data.import_instruments(instruments)
    services.data.import_files([bars])
    trading = services.trading
    trading.create_portfolio(NAME, Decimal(0))
    trading.deposit(NAME, Decimal(10_000), "alpha")
    trading.deposit(NAME, Decimal(10_000), "beta")
    sessions = TradingCalendar("XNYS").sessions(FIRST, LAST)[:DAYS]
    crosses = 0
    for i, day in enumerate(s.date() for s in sessions):
        clock.advance_to(datetime(day.year, day.month, day.day, 21, 0, tzinfo=UTC))
        if i == DEPOSIT_DAY:
            trading.deposit(NAME, Decimal(5_000), "beta")
        if i in PLAN:
            result = trading.rebalance_books(NAME, targets=PLAN[i], execute=True)
            crosses += len(result.crosses)
        trading.snapshot(NAME)
    yield Books(services, crosses, [s.date() for s in sessions])
    services.close()


def _stored(services: Services) -> tuple[list[trading_repo.SnapshotRecord], dict[str, list]]:
    with services.database.read() as connection:
        record = trading_repo.get_portfolio(connection, NAME)
        assert record is not None
        portfolio = trading_repo.snapshots(connection, record.id)
        per_book: dict[str, list[trading_repo.BookSnapshotRecord]] = {}
        for b in trading_repo.book_snapshots(connection, record.id):
            per_book.setdefault(b.strategy, []).append(b)
    return portfolio, per_book


def _returns(shots: list) -> pd.Series:
    views = [
        SnapshotView(
            s.date, s.cash, s.market_value, s.equity, s.net_flows, s.realised_pnl, s.unrealised_pnl
        )
        for s in shots
    ]
    pairs = time_weighted_returns(views)
    return pd.Series([r for _, r in pairs], index=pd.DatetimeIndex([d for d, _ in pairs]))


def test_book_snapshots_sum_to_the_portfolio_every_day(books: Books) -> None:
    assert books.crosses > 0  # the set-up crosses internally, so the sums cover that path
    portfolio, per_book = _stored(books.services)
    assert [s.date for s in portfolio] == books.sessions
    assert set(per_book) == {"alpha", "beta"}
    for day, shot in enumerate(portfolio):
        alpha, beta = per_book["alpha"][day], per_book["beta"][day]
        assert alpha.date == beta.date == shot.date
        for field in ("cash", "market_value", "equity", "net_flows", "realised_pnl"):
            total = getattr(alpha, field) + getattr(beta, field)
            assert abs(total - getattr(shot, field)) <= Decimal("0.01"), (shot.date, field)
        # the books' own shares add up to the account's, symbol by symbol
        shares: dict[str, Decimal] = {}
        for book in (alpha, beta):
            for symbol, (quantity, _) in book.positions.items():  # type: ignore[misc]
                shares[symbol] = shares.get(symbol, Decimal(0)) + Decimal(quantity)
        assert {s: Decimal(q) for s, (q, _) in shot.positions.items()} == {  # type: ignore[misc]
            s: q for s, q in shares.items() if q
        }
    deposit = books.sessions[DEPOSIT_DAY]
    assert [b.net_flows for b in per_book["beta"] if b.date == deposit] == [Decimal(5_000)]
    assert all(b.net_flows == 0 for b in per_book["alpha"] if b.date > books.sessions[0])


def test_a_strategy_report_shows_the_books_returns_not_the_portfolios(
    books: Books, tmp_path: Path
) -> None:
    """Regression: the strategy report used to show the whole portfolio's returns."""
    reports = books.services.reports
    _, per_book = _stored(books.services)
    whole = reports.portfolio_report(NAME, "2024-01")
    for strategy in ("alpha", "beta"):
        report = reports.portfolio_report(NAME, "2024-01", strategy=strategy)
        returns = _returns(per_book[strategy])
        expected = summary(returns)
        for key in ("total_return", "volatility", "sharpe_ratio", "max_drawdown", "win_rate"):
            assert report.metric(key).period == pytest.approx(getattr(expected, key), rel=1e-9)
        assert report.metric("total_return").period == pytest.approx(
            math.prod(1 + r for r in returns) - 1, rel=1e-12
        )
        assert report.metric("total_return").period != pytest.approx(
            whole.metric("total_return").period, rel=1e-3
        )
        assert report.metric("end_equity").period == pytest.approx(
            float(per_book[strategy][-1].equity)
        )
        # positions at the end: the book's own, weighted by the book's value
        positions = report.table("positions")
        assert positions is not None
        held = per_book[strategy][-1].positions
        assert sorted(positions.column("symbol")) == sorted(held)
        assert sum(positions.column("market_value")) == pytest.approx(
            float(per_book[strategy][-1].market_value)
        )
        assert sum(positions.column("weight")) == pytest.approx(
            float(per_book[strategy][-1].market_value / per_book[strategy][-1].equity)
        )
        # the book's position contributions add up to its return up to the documented
        # residual: its commissions, and (beta's deposit) the gap between the time-weighted
        # return and P&L over the starting value
        attribution = report.extra["attribution"]
        assert attribution.costs > 0
        shots = per_book[strategy]
        start, end = float(shots[0].equity), float(shots[-1].equity)
        flows = float(sum(b.net_flows for b in shots[1:]))
        pnl_return = (end - start - flows) / start
        assert attribution.unexplained == pytest.approx(
            attribution.period_return - pnl_return, abs=1e-9
        ), strategy
        assert (flows != 0) == (strategy == "beta")
        # its trades are its own orders, its share of netted orders and its internal crosses:
        # they take the book from its first snapshot's holdings to its last
        trades = report.table("trades")
        assert trades is not None
        moved: dict[str, Decimal] = {}
        for symbol, (quantity, _) in per_book[strategy][0].positions.items():  # type: ignore[misc]
            moved[symbol] = Decimal(quantity)
        for symbol, side, quantity in zip(
            trades.column("symbol"), trades.column("side"), trades.column("quantity"), strict=True
        ):
            signed = Decimal(str(quantity)) * (1 if side == "buy" else -1)
            moved[symbol] = moved.get(symbol, Decimal(0)) + signed
        assert {s: q for s, q in moved.items() if abs(q) > Decimal("1e-6")} == {
            s: Decimal(q)
            for s, (q, _) in per_book[strategy][-1].positions.items()  # type: ignore[misc]
        }

    # the documents carry the book's figures
    report = reports.portfolio_report(NAME, "2024-01", strategy="beta")
    pdf = reports.write(report, "pdf", tmp_path / "beta.pdf")[0]
    first_page = [line.strip() for line in PdfReader(pdf).pages[0].extract_text().splitlines()]
    for metric in report.metrics:
        at = first_page.index(metric.label)
        assert first_page[at + 1] == format_value(metric.period, metric.format), metric.label
    sheet = load_workbook(reports.write(report, "xlsx", tmp_path / "beta.xlsx")[0])["Summary"]
    values = {sheet.cell(r, 1).value: sheet.cell(r, 2).value for r in range(1, sheet.max_row + 1)}
    for metric in report.metrics:
        if metric.period is not None:
            assert values[metric.label] == pytest.approx(metric.period, rel=1e-12)
    assert values["Return"] != pytest.approx(whole.metric("total_return").period, rel=1e-3)


def test_a_new_book_with_one_day_and_a_book_before_its_history(
    books: Books, tmp_path: Path
) -> None:
    clock = SimulatedClock(datetime(2024, 1, 22, 21, 0, tzinfo=UTC))
    services = build_services(
        books.services.settings, clock=clock, database=books.services.database
    )
    trading, reports = services.trading, services.reports
    trading.deposit(NAME, Decimal(2_000), "gamma")
    trading.snapshot(NAME)
    one_day = reports.portfolio_report(NAME, strategy="gamma")
    assert one_day.metric("total_return").period == 0.0  # its deposit, untouched
    assert one_day.metric("sharpe_ratio").period is None
    assert one_day.metric("end_equity").period == pytest.approx(2_000.0)
    reports.write(one_day, "pdf", tmp_path / "gamma.pdf")
    with pytest.raises(
        ReportError,
        match=r"strategy 'gamma' of portfolio 'two-books': period 2024-01-0.*ends before",
    ):
        reports.portfolio_report(NAME, "2024-01-02:2024-01-10", strategy="gamma")
    with pytest.raises(ReportError, match="has no strategy 'delta'"):
        reports.portfolio_report(NAME, strategy="delta")
    # the portfolio still sums: three books now
    portfolio, per_book = _stored(services)
    assert sum(b[-1].equity for b in per_book.values()) == portfolio[-1].equity


def test_portfolio_show_gives_each_books_return_and_drawdown(
    books: Books, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from quantdesk.cli.app import app

    monkeypatch.setenv("QUANTDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("QUANTDESK_DATABASE_URL", books.services.database.url)
    _, per_book = _stored(books.services)
    runner = CliRunner()
    result = runner.invoke(app, ["portfolio", "show", NAME, "--json"])
    assert result.exit_code == 0, result.output
    records = {r["strategy"]: r for r in json.loads(result.stdout)["book_performance"]}
    for strategy in ("alpha", "beta"):
        returns = _returns(per_book[strategy])
        record = records[strategy]
        assert record["first_date"] == books.sessions[0].isoformat()
        assert record["snapshots"] == len(per_book[strategy]) >= DAYS
        assert record["time_weighted_return"] == pytest.approx(
            math.prod(1 + r for r in returns) - 1, rel=1e-12
        )
        assert record["max_drawdown"] == pytest.approx(max_drawdown(returns), rel=1e-12)
        assert record["max_drawdown"] < 0
        assert record["drawdown"] == pytest.approx(float(drawdown_series(returns).iloc[-1]))
    table = runner.invoke(app, ["portfolio", "show", NAME])
    assert table.exit_code == 0, table.output
    assert "max DD" in table.stdout


def test_comparing_two_books_side_by_side(
    books: Books, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from quantdesk.cli.app import app

    reports = books.services.reports
    _, per_book = _stored(books.services)
    report = reports.books_comparison_report(NAME, ["alpha", "beta"], "2024-01")
    table = report.table("comparison")
    assert table is not None
    assert table.column("book") == ["alpha", "beta"]
    returns = {s: _returns(per_book[s]) for s in ("alpha", "beta")}
    for strategy, got in zip(("alpha", "beta"), table.column("total_return"), strict=True):
        assert got == pytest.approx(summary(returns[strategy]).total_return, rel=1e-9)
    correlation = report.table("correlation")
    assert correlation is not None
    assert correlation.column("beta")[0] == pytest.approx(
        float(pd.concat(returns, axis=1).dropna().corr().iloc[0, 1]), rel=1e-9
    )
    assert [c.name for c in report.equity] == ["alpha", "beta"]
    with pytest.raises(ReportError, match="has no book snapshots of strategy 'nosuch'"):
        reports.books_comparison_report(NAME, ["alpha", "nosuch"])
    with pytest.raises(ReportError, match="at least two strategy books"):
        reports.books_comparison_report(NAME, ["alpha"])

    monkeypatch.setenv("QUANTDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("QUANTDESK_DATABASE_URL", books.services.database.url)
    runner = CliRunner()
    out = tmp_path / "books.xlsx"
    result = runner.invoke(
        app,
        [
            "report", "compare", "--portfolio", NAME, "--strategy", "alpha", "--strategy",
            "beta", "--period", "2024-01", "--format", "xlsx", "--out", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert str(out) in result.stdout
    assert load_workbook(out).sheetnames
    both = runner.invoke(app, ["report", "compare", "abc", "--portfolio", NAME])
    assert both.exit_code == 1
    assert "not both" in both.stderr


def test_the_comparison_summary_csv_has_a_row_per_book_with_the_reports_figures(
    books: Books, tmp_path: Path
) -> None:
    """``summary.csv`` of a comparison used to hold a header and no rows (a comparison has no
    single-subject metrics): it holds the metrics side by side, the workbook's summary."""
    reports = books.services.reports
    report = reports.books_comparison_report(NAME, ["alpha", "beta"], "2024-01")
    table = report.table("comparison")
    assert table is not None
    reports.write(report, "csv", tmp_path / "csv")
    with (tmp_path / "csv" / "summary.csv").open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["book", "total_return", "cagr", "volatility", "sharpe_ratio",
                       "sortino_ratio", "calmar_ratio", "max_drawdown", "win_rate",
                       "profit_factor", "best_month", "worst_month"]  # fmt: skip
    assert [r[0] for r in rows[1:]] == ["alpha", "beta"]
    for written, figures in zip(rows[1:], table.rows, strict=True):
        for text, value in zip(written[1:], figures[1:], strict=True):
            assert (float(text) if text else None) == value  # raw, unrounded
    # the workbook's summary sheet shows the same figures under the same headings
    reports.write(report, "xlsx", tmp_path / "books.xlsx")
    sheet = load_workbook(tmp_path / "books.xlsx")["Summary"]
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    at = next(i for i, row in enumerate(cells) if row[0] == "Book")
    for offset, figures in enumerate(table.rows, start=1):
        shown = cells[at + offset][: len(figures)]
        assert shown[0] == figures[0]
        assert shown[1:] == pytest.approx(list(figures[1:]), rel=1e-12)
