"""The reports service: the only entry for reports (CLI, REST and the scheduler call it).

It builds one :class:`~quantdesk.reports.Report` per request — a backtest run, a portfolio
(or one strategy's sub-ledger of it), or a comparison of runs, over a period — from the other
services' results, and renders it to PDF, Excel, CSV or HTML (:mod:`quantdesk.reports`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from quantdesk.core.clock import Clock
from quantdesk.db.database import Database
from quantdesk.reports import (
    Report,
    ReportError,
    ReportFormat,
    ReportPeriod,
    parse_format,
    parse_period,
    render,
)
from quantdesk.services.backtest import BacktestService
from quantdesk.services.data import DataService
from quantdesk.services.research import ResearchService
from quantdesk.services.trading import TradingService

__all__ = ["ReportError", "ReportsService"]


class ReportsService:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        data: DataService,
        backtest: BacktestService,
        trading: TradingService,
        research: ResearchService,
    ) -> None:
        self._db = database
        self._clock = clock
        self._data = data
        self._backtest = backtest
        self._trading = trading
        self._research = research

    # -- models ----------------------------------------------------------------------------
    def backtest_report(self, run_id: str, period: ReportPeriod | str | None = None) -> Report:
        """The report of stored run ``run_id`` (or a unique prefix) over ``period``
        (``2021-03``, ``2021-Q1``, ``2021``, ``START:END`` or ``all``, the default)."""
        from quantdesk.services.reports_backtest import backtest_report

        run = self._backtest.get_run(run_id)
        return backtest_report(run, _period(period), self._data, self._research, self._clock.now())

    def portfolio_report(
        self, name: str, period: ReportPeriod | str | None = None, strategy: str | None = None
    ) -> Report:
        """The report of portfolio ``name`` over ``period`` from its daily snapshots, orders,
        fills and journal; with ``strategy``, of that strategy's sub-ledger: returns,
        drawdown, metrics, positions and attribution from the book's own snapshots and fills,
        trades, costs and commentary from its orders."""
        from quantdesk.services.reports_portfolio import portfolio_report

        return portfolio_report(
            self._db,
            self._trading,
            self._data,
            name,
            _period(period),
            strategy,
            self._clock.now(),
            self._research,
        )

    def comparison_report(
        self, run_ids: Sequence[str], period: ReportPeriod | str | None = None
    ) -> Report:
        """Several stored runs side by side: metrics, equity curves (growth of 100) and the
        correlation of their daily returns over ``period`` (their common dates)."""
        from quantdesk.services.reports_compare import comparison_report

        if len(run_ids) < 2:
            raise ReportError(f"a comparison needs at least two run ids, got {len(run_ids)}")
        runs = [self._backtest.get_run(r) for r in run_ids]
        return comparison_report(runs, _period(period), self._clock.now())

    def books_comparison_report(
        self,
        name: str,
        strategies: Sequence[str] = (),
        period: ReportPeriod | str | None = None,
    ) -> Report:
        """Strategy books of portfolio ``name`` side by side (all its books when
        ``strategies`` is empty): metrics, equity curves (growth of 100) and the correlation
        of their daily time-weighted returns from the book snapshots over ``period``."""
        from quantdesk.services.reports_books import books_comparison_report

        return books_comparison_report(
            self._db, self._trading, name, strategies, _period(period), self._clock.now()
        )

    # -- output ----------------------------------------------------------------------------
    def write(self, report: Report, kind: ReportFormat | str, out: str | Path) -> list[Path]:
        """Render ``report`` as ``kind`` (pdf, xlsx, csv, html) at ``out`` (a directory for
        CSV); returns the files written."""
        fmt = kind if isinstance(kind, ReportFormat) else parse_format(kind)
        return render(report, fmt, Path(out))


def _period(period: ReportPeriod | str | None) -> ReportPeriod:
    return period if isinstance(period, ReportPeriod) else parse_period(period)
