"""Outside review of the strategy sub-ledger reports: a portfolio of three books (one with a
non-ASCII name, one that never trades) traded over a few weeks with a deposit into one book
and internal crosses. Figures are checked against a hand computation from the stored book
equities and deposits (not the product's return functions), and the documents are read back
as a user would see them."""

from __future__ import annotations

import csv
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

from quantdesk.config import Settings
from quantdesk.core.clock import SimulatedClock
from quantdesk.data.calendar import TradingCalendar
from quantdesk.db.database import Database
from quantdesk.db.repositories import trading as trading_repo
from quantdesk.reports import ReportError
from quantdesk.services import Services, build_services

NAME = "desk"
SYMBOLS = ("AAA", "BBB", "CCC", "DDD")
FIRST, LAST = date(2024, 3, 1), date(2024, 4, 30)
BETA = "béta-Ω"
PLAN: dict[int, dict[str, dict[str, float]]] = {
    0: {"alpha": {"AAA": 0.5, "CCC": 0.4}, BETA: {"BBB": 0.5, "DDD": 0.4}},
    3: {"alpha": {"AAA": 0.2, "BBB": 0.6}, BETA: {"AAA": 0.5, "DDD": 0.4}},  # crosses
    8: {"alpha": {"DDD": 0.9}, BETA: {"AAA": 0.3, "CCC": 0.6}, "late": {"BBB": 0.8}},
}
LATE = 8  # the day book "late" is born (a deposit and its first trades)
DAYS = 14


@dataclass(frozen=True)
class Desk:
    services: Services
    sessions: list[date]


@pytest.fixture(scope="module")
def desk(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    folder = tmp_path_factory.mktemp("review-books")
    days = TradingCalendar("XNYS").sessions(FIRST, LAST)
    generator = np.random.default_rng(5)
    rows = []
    for k, symbol in enumerate(SYMBOLS):
        closes = 30.0 * np.exp(np.cumsum(generator.normal(0.001 * k, 0.02, len(days))))
        rows.extend((d.date().isoformat(), symbol, c) for d, c in zip(days, closes, strict=True))
    frame = pd.DataFrame(rows, columns=["date", "symbol", "close"]).round({"close": 4})
    for field in ("open", "high", "low"):
        frame[field] = frame["close"]
    frame["volume"] = 1_000_000
    frame.to_csv(folder / "bars.csv", index=False)
    pd.DataFrame(
        [{"symbol": s, "name": s, "sector": "Energy", "asset_class": "stock"} for s in SYMBOLS]
    ).to_csv(folder / "instruments.csv", index=False)
    clock = SimulatedClock(datetime(2024, 3, 1, 21, 0, tzinfo=UTC))
    services = build_services(
        Settings(data_dir=folder / "data", database_url=module_database_url),
        clock=clock,
        database=Database(module_database_url),
    )
    services.data.import_instruments(folder / "instruments.csv")
    services.data.import_files([folder / "bars.csv"])
    trading = services.trading
    trading.create_portfolio(NAME, Decimal(0))
    trading.deposit(NAME, Decimal(10_000), "alpha")
    trading.deposit(NAME, Decimal(10_000), BETA)
    trading.deposit(NAME, Decimal(5_000), "idle")
    sessions = [s.date() for s in days[:DAYS]]
    for i, day in enumerate(sessions):
        clock.advance_to(datetime(day.year, day.month, day.day, 21, 0, tzinfo=UTC))
        if i == 5:
            trading.deposit(NAME, Decimal(3_000), BETA)
        if i == LATE:
            trading.deposit(NAME, Decimal(4_000), "late")
        if i in PLAN:
            trading.rebalance_books(NAME, targets=PLAN[i], execute=True)
        trading.snapshot(NAME)
    yield Desk(services, sessions)
    services.close()


def _pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_a_book_reports_header_names_the_strategy_and_its_portfolio(
    desk: Desk, tmp_path: Path
) -> None:
    """Regression: the header of a strategy report read "Subject: strategy: desk (paper, …)",
    naming the portfolio as the strategy, and the equity CSV's column was the portfolio's
    name, so a book's files could not be told from the whole portfolio's."""
    reports = desk.services.reports
    report = reports.portfolio_report(NAME, "all", strategy=BETA)
    (pdf,) = reports.write(report, "pdf", tmp_path / "beta.pdf")
    (xlsx,) = reports.write(report, "xlsx", tmp_path / "beta.xlsx")
    (html,) = reports.write(report, "html", tmp_path / "beta.html")
    files = reports.write(report, "csv", tmp_path / "beta-csv")
    header = f"strategy: {BETA} of portfolio {NAME}"
    assert header in _pdf_text(pdf).replace("\n", " ")
    cells = [c for row in load_workbook(xlsx)["Summary"].iter_rows(values_only=True) for c in row]
    assert any(isinstance(c, str) and c.startswith(header) for c in cells)
    assert header in html.read_text(encoding="utf-8")
    (equity,) = [f for f in files if f.name == "equity.csv"]
    with equity.open(encoding="utf-8") as handle:
        columns = next(csv.reader(handle))
    assert columns[1] == f"{NAME} / {BETA}"
    # the whole portfolio's report keeps its own header
    whole = reports.portfolio_report(NAME, "all")
    assert whole.subject.startswith(f"{NAME} (paper")


def _hand_returns(equities: list[float], flows: list[float]) -> list[float]:
    """Daily time-weighted returns by hand: a day's deposit is taken out of its close; the
    first day is measured against the money deposited that day (its trades' costs count)."""
    first = [equities[0] / flows[0] - 1] if flows[0] > 0 else []
    return first + [(equities[i] - flows[i]) / equities[i - 1] - 1 for i in range(1, len(equities))]


def test_books_sum_to_the_portfolio_and_the_documents_match_a_hand_computation(
    desk: Desk, tmp_path: Path
) -> None:
    reports = desk.services.reports
    with desk.services.database.read() as connection:
        record = trading_repo.get_portfolio(connection, NAME)
        assert record is not None
        whole = trading_repo.snapshots(connection, record.id)
        books = trading_repo.book_snapshots(connection, record.id)
    for shot in whole:
        day = [b for b in books if b.date == shot.date]
        born = shot.date >= desk.sessions[LATE]
        assert {b.strategy for b in day} == {"alpha", BETA, "idle"} | ({"late"} if born else set())
        assert abs(sum(b.equity for b in day) - shot.equity) <= Decimal("0.01")
    for strategy in ("alpha", BETA, "idle", "late"):
        own = [b for b in books if b.strategy == strategy]
        returns = _hand_returns([float(b.equity) for b in own], [float(b.net_flows) for b in own])
        index = np.cumprod([1.0, *(1 + r for r in returns)])
        total = index[-1] - 1
        drawdown = float(min(index / np.maximum.accumulate(index) - 1))
        report = reports.portfolio_report(NAME, "all", strategy=strategy)
        assert report.metric("total_return").period == pytest.approx(total, abs=1e-12)
        assert report.metric("max_drawdown").period == pytest.approx(drawdown, abs=1e-12)
        (xlsx,) = reports.write(report, "xlsx", tmp_path / f"{strategy}.xlsx")
        rows = {
            r[0]: r[1]
            for r in load_workbook(xlsx)["Summary"].iter_rows(values_only=True)
            if r and isinstance(r[0], str)
        }
        assert rows["Return"] == pytest.approx(total, abs=1e-12)
        assert rows["Max drawdown"] == pytest.approx(drawdown, abs=1e-12)
        (pdf,) = reports.write(report, "pdf", tmp_path / f"{strategy}.pdf")
        lines = _pdf_text(pdf).splitlines()
        assert lines[lines.index("Return") + 1] == f"{total:.2%}"
        assert lines[lines.index("Max drawdown") + 1] == f"{drawdown:.2%}"
    idle = reports.portfolio_report(NAME, "all", strategy="idle")
    assert idle.metric("total_return").period == 0.0


def test_comparing_every_book_before_a_late_book_existed_says_which_book_limits_it(
    desk: Desk,
) -> None:
    """Regression: `report compare --portfolio desk --period START:END` over weeks when alpha,
    beta and idle all traded answered "period … ends before the history starts (<the late
    book's first day>)" — naming a start that is none of the user's books but one, and not
    saying which; the error now names the book that starts later, and the books that do
    share the period compare."""
    reports = desk.services.reports
    early = f"{desk.sessions[1]}:{desk.sessions[LATE - 1]}"
    with pytest.raises(ReportError) as caught:
        reports.books_comparison_report(NAME, (), early)
    message = str(caught.value)
    assert "\n" not in message
    assert f"'late' has daily returns from {desk.sessions[LATE]}" in message
    assert f"'alpha' from {desk.sessions[0]}" in message
    report = reports.books_comparison_report(NAME, ("alpha", BETA), early)
    table = report.table("comparison")
    assert table is not None
    assert table.column("book") == ["alpha", BETA]


def test_the_books_note_quotes_its_name_once(desk: Desk) -> None:
    """Regression: the notes read "Everything here is strategy 'idle''s sub-ledger" (the
    name's closing quote and the possessive ran together)."""
    report = desk.services.reports.portfolio_report(NAME, "all", strategy="idle")
    (note,) = [n for n in report.notes if "sub-ledger" in n]
    assert "''" not in note
    assert note.startswith("Everything here is the sub-ledger of strategy 'idle':")


def test_each_books_report_gets_its_own_default_file_name(
    desk: Desk, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Regression: without --out, `report portfolio desk --strategy alpha` and `--strategy
    béta-Ω` (and the whole portfolio's report) all wrote portfolio-desk-<period>.pdf, each
    silently replacing the one before."""
    from quantdesk.cli.app import app

    monkeypatch.setenv("QUANTDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("QUANTDESK_DATABASE_URL", desk.services.database.url)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    runner = CliRunner()
    period = f"{desk.sessions[0]}:{desk.sessions[-1]}"
    for strategy in ("alpha", BETA, None):
        extra = [] if strategy is None else ["--strategy", strategy]
        result = runner.invoke(app, ["report", "portfolio", NAME, "--period", period, *extra])
        assert result.exit_code == 0, result.output
    label = period.replace(":", " to ").replace(" ", "_")
    assert sorted(p.name for p in work.iterdir()) == sorted(
        [
            f"portfolio-{NAME}-alpha-{label}.pdf",
            f"portfolio-{NAME}-{BETA}-{label}.pdf",
            f"portfolio-{NAME}-{label}.pdf",
        ]
    )
