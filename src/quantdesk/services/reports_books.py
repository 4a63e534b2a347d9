"""The comparison of strategy books (sub-ledgers) of one portfolio: each book's time-weighted
daily returns from its own book snapshots (its deposits and withdrawals taken out, as in
:func:`.trading_book.time_weighted_returns`), compared like backtest runs
(:func:`.reports_compare.compare_returns`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd

from quantdesk.db.database import Database
from quantdesk.db.repositories import trading as trading_repo
from quantdesk.reports.model import Column, ColumnFormat, Report, Table
from quantdesk.reports.period import ReportError, ReportPeriod
from quantdesk.services.reports_compare import compare_returns
from quantdesk.services.trading import TradingService
from quantdesk.services.trading_book import snapshot_view, time_weighted_returns


def books_comparison_report(
    database: Database,
    trading: TradingService,
    name: str,
    strategies: Sequence[str],
    period: ReportPeriod,
    generated_at: datetime,
) -> Report:
    """Books ``strategies`` of portfolio ``name`` side by side (every book with snapshots when
    none is named); at least two, each with book snapshots."""
    view = trading.get_portfolio(name)  # an unknown name is an error naming it
    with database.read() as connection:
        record = trading_repo.get_portfolio(connection, view.name)
        assert record is not None
        rows = trading_repo.book_snapshots(connection, record.id)
    by_book: dict[str, list[trading_repo.BookSnapshotRecord]] = {}
    for row in rows:
        by_book.setdefault(row.strategy, []).append(row)
    wanted = list(dict.fromkeys(strategies)) or sorted(by_book)
    unknown = [s for s in wanted if s not in by_book]
    if unknown:
        listing = ", ".join(repr(b) for b in sorted(by_book)) or "none"
        raise ReportError(
            f"portfolio {name!r} has no book snapshots of strategy "
            f"{', '.join(repr(s) for s in unknown)} (books with snapshots: {listing})"
        )
    if len(wanted) < 2:
        raise ReportError(
            f"a comparison needs at least two strategy books of portfolio {name!r}, "
            f"got {len(wanted)}"
        )
    labels = {s: s or "(unallocated)" for s in wanted}
    series = {labels[s]: _returns(by_book[s]) for s in wanted}
    books_table = Table.of(
        "books",
        "Strategy books compared",
        [
            Column("name", "Book"),
            Column("start", "First snapshot", ColumnFormat.DATE),
            Column("end", "Last snapshot", ColumnFormat.DATE),
            Column("equity", "Value at the end", ColumnFormat.CURRENCY),
        ],
        [
            (labels[s], by_book[s][0].date, by_book[s][-1].date, float(by_book[s][-1].equity))
            for s in wanted
        ],
    )
    try:
        return compare_returns(
            series,
            period,
            generated_at,
            what="books",
            subject=f"strategy books {', '.join(labels.values())} of portfolio {view.name}",
            data_as_of=max(by_book[s][-1].date for s in wanted),
            subjects_table=books_table,
        )
    except ReportError as error:
        raise ReportError(f"{error}{_starts(series)}") from None


def _starts(series: dict[str, pd.Series]) -> str:
    """Which book starts the books' common history, when they do not all start together (a
    book born later limits the comparison of every book to its own dates)."""
    firsts = {name: s.index[0].date() for name, s in series.items() if len(s)}
    if len(set(firsts.values())) < 2:
        return ""
    latest = max(firsts.values())
    late = [n for n, d in firsts.items() if d == latest]
    others = [f"{n!r} from {d}" for n, d in firsts.items() if d != latest]
    return (
        f"; the books' common history starts when {', '.join(repr(n) for n in late)} "
        f"{'has' if len(late) == 1 else 'have'} daily returns from {latest} "
        f"({', '.join(others)}): compare fewer books"
    )


def _returns(rows: list[trading_repo.BookSnapshotRecord]) -> pd.Series:
    pairs = time_weighted_returns([snapshot_view(r) for r in rows])
    return pd.Series(
        [r for _, r in pairs],
        index=pd.DatetimeIndex([pd.Timestamp(d) for d, _ in pairs]),
        dtype="float64",
    )
