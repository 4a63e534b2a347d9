"""The trading service: portfolios, orders, rebalancing, reconciliation, journal and TCA.

The only entry for the CLI and the REST API. Every call that trades opens a
:class:`~quantdesk.services.trading_session.PortfolioSession` (state rebuilt from the database),
reconciles it with the broker first, does its work through the order manager and the broker port,
and saves (broker's book first, then our records). A batch is validated and risk-checked whole
before anything is sent: one bad order and nothing is recorded.

The work is split by topic: :mod:`.trading_orders` (order entry, rebalance),
:mod:`.trading_book` (value, snapshots, history, journal, TCA), :mod:`.trading_replay`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Connection

from quantdesk.analytics.tca import TcaGrouping, TcaReport
from quantdesk.core.clock import Clock
from quantdesk.core.errors import NotFoundError, QuantdeskError
from quantdesk.db.database import Database
from quantdesk.db.repositories import trading as trading_repo
from quantdesk.execution import CostModel
from quantdesk.services import trading_alerts, trading_book, trading_netting, trading_orders
from quantdesk.services.data import DataService
from quantdesk.services.portfolio_admin import (
    StrategyDisabledError,
    disabled_message,
    disabled_strategies,
    ensure_enabled,
)
from quantdesk.services.trading_reconcile import reconcile
from quantdesk.services.trading_session import PortfolioSession, PriceBook
from quantdesk.services.trading_types import (
    BookPerformance,
    BooksRebalanceResult,
    JournalView,
    OrderSpec,
    OrderView,
    PortfolioChangedError,
    PortfolioHistory,
    PortfolioValue,
    PortfolioView,
    PositionView,
    RebalanceResult,
    ReconcileReport,
    ReplayResult,
    SnapshotView,
    TradingError,
    TransferResult,
    book_name,
)

if TYPE_CHECKING:
    from quantdesk.services.alerts import AlertService
    from quantdesk.services.backtest import BacktestService
    from quantdesk.services.reference_data import ReferenceDataService
    from quantdesk.services.research import ResearchService
    from quantdesk.services.trading_live import LiveStep

T = TypeVar("T")
CURRENT_BOOK_TRIES = 3
"""How often a cash flow or transfer is tried on freshly loaded books when other writers keep
changing them underneath it."""

PAPER_COSTS = CostModel(commission_per_order=1.0, slippage_bps=5.0)
"""The paper broker's defaults: $1 per order, 5 bp slippage against the side."""

__all__ = ["PAPER_COSTS", "TradingError", "TradingService"]


class TradingService:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        data: DataService,
        *,
        research: ResearchService | None = None,
        reference: ReferenceDataService | None = None,
        backtest: BacktestService | None = None,
        costs: CostModel = PAPER_COSTS,
        alerts: AlertService | None = None,
    ) -> None:
        self._db = database
        self._alerts = alerts  # apisvc: rejected orders, reconcile differences, drift
        self._clock = clock
        self._data = data
        self._research = research
        self._reference = reference
        self._backtest = backtest
        self.costs = costs

    # -- portfolios ----------------------------------------------------------------------------
    def create_portfolio(
        self,
        name: str,
        cash: Decimal | int | str,
        *,
        mode: str = "paper",
        benchmark: str | None = None,
        account: str | None = None,
        strategy: str = "",
    ) -> PortfolioView:
        """A new portfolio with ``cash`` deposited (currency) into ``strategy``'s book (``""``:
        the unallocated book). Paper portfolios get their own paper account (``paper-NAME``)
        unless ``account`` names one."""
        name = name.strip()
        if not name or any(c.isspace() for c in name):
            raise TradingError(f"portfolio name must be one word, got {name!r}")
        if mode not in ("paper", "live"):
            raise TradingError(f"mode must be paper or live, got {mode!r}")
        amount = trading_orders.to_money(cash, "cash")
        if amount < 0:
            raise TradingError(f"initial cash must be >= 0, got {cash}")
        account_id = account or f"{mode}-{name}"
        now = self._clock.now()
        with self._db.transaction() as connection:
            if trading_repo.get_portfolio(connection, name) is not None:
                raise TradingError(f"portfolio {name!r} exists already")
            # apisvc: an archived portfolio keeps its name (its ledger is kept for audit)
            if trading_repo.get_portfolio(connection, name, archived=True) is not None:
                raise TradingError(
                    f"portfolio {name!r} was archived and its name stays taken (its ledger is "
                    "kept for audit): choose another name"
                )
            trading_repo.ensure_account(connection, account_id, mode, now)
            record = trading_repo.insert_portfolio(
                connection, name, account_id, mode, benchmark, now
            )
            trading_repo.ensure_strategy(connection, record.id, "", now)
            trading_repo.ensure_strategy(connection, record.id, strategy, now)
            if amount > 0:
                trading_repo.insert_cash_flow(
                    connection, record.id, amount, now, strategy, note="initial"
                )
                self._fund_venue(connection, account_id, amount)
        return _view(record)

    def deposit(self, name: str, amount: Decimal | int | str, strategy: str = "") -> PortfolioValue:
        """Move cash in (> 0) or out (< 0) of a portfolio's strategy book; a cash flow, so
        time-weighted returns ignore it. A withdrawal never exceeds the book's cash (the book's
        own, not the portfolio's: another book's cash is not this book's to take)."""
        from quantdesk.services.trading_transfer import check_cash_out

        value = trading_orders.to_money(amount, "amount")
        if value == 0:
            raise TradingError("a cash flow must not be zero")

        def flow() -> None:
            session = self._session(name)
            now = self._clock.now()
            with self._db.transaction() as connection:
                session.hold(connection)
                if value < 0:
                    check_cash_out(connection, session, strategy, -value, "withdraw")
                trading_repo.ensure_strategy(connection, session.portfolio.id, strategy, now)
                trading_repo.insert_cash_flow(
                    connection, session.portfolio.id, value, now, strategy
                )
                session.broker.deposit(value)
                session.save_venue(connection)

        _on_current_books(flow)
        return self.value(name)

    def transfer(
        self,
        name: str,
        source: str,
        target: str,
        *,
        cash: Decimal | int | str | None = None,
        symbol: str | None = None,
        quantity: Decimal | int | str | None = None,
    ) -> TransferResult:
        """Move ``cash`` (currency), or ``quantity`` shares of ``symbol`` (default: all the
        source holds), from book ``source`` to book ``target`` of portfolio ``name`` (a strategy,
        or ``unallocated``/``""``): inside the account, at the latest close for shares; a flow
        out of one book and into the other, never a deposit or withdrawal of the portfolio
        (:mod:`.trading_transfer`). One transaction; nothing reaches the broker."""
        from quantdesk.services import trading_transfer

        if (cash is None) == (symbol is None):
            raise TradingError("give exactly one of cash or symbol to transfer")
        if quantity is not None and symbol is None:
            raise TradingError("a quantity goes with a symbol (shares of it to transfer)")
        source, target = book_name(source), book_name(target)
        amount = None if cash is None else trading_orders.to_money(cash, "cash")
        shares = None if quantity is None else trading_orders.to_money(quantity, "quantity")

        def move() -> TransferResult:
            session = self._session(name)
            if amount is not None:
                return trading_transfer.transfer_cash(session, source, target, amount, self._opens)
            assert symbol is not None
            return trading_transfer.transfer_holding(
                session, source, target, symbol, shares, self._opens
            )

        done = _on_current_books(move)
        books = {b.strategy: b for b in self.value(name).books}
        return dataclasses.replace(done, books=(books[source], books[target]))

    def _opens(self, book: str) -> bool:
        """Whether ``book`` may be opened by a transfer: a strategy ``trade run`` can drive."""
        try:
            self.check_runnable(book)
        except QuantdeskError:
            return False
        return True

    def list_portfolios(self) -> list[PortfolioView]:
        with self._db.read() as connection:
            return [_view(r) for r in trading_repo.list_portfolios(connection)]

    def get_portfolio(self, name: str) -> PortfolioView:
        return _view(self._record(name))

    # -- holdings and value --------------------------------------------------------------------
    def value(self, name: str) -> PortfolioValue:
        session = self._session(name, reconcile_first=False, with_orders=False)
        return trading_book.value(session, self._prices(session))

    def positions(self, name: str) -> list[PositionView]:
        return list(self.value(name).positions)

    def snapshot(self, name: str) -> SnapshotView:
        """Store today's end-of-day value (replacing one taken earlier today)."""
        session = self._session(name, reconcile_first=False, with_orders=False)
        return trading_book.snapshot(session, self._prices(session))

    def book_performance(self, name: str) -> tuple[BookPerformance, ...]:
        """Each strategy book's time-weighted return since its first book snapshot and its
        drawdowns (fractions), from the per-book snapshots."""
        return trading_book.book_performance(self._db, self._record(name))

    def history(
        self, name: str, start: date | None = None, end: date | None = None
    ) -> PortfolioHistory:
        return trading_book.history(self._db, self._record(name), start, end)

    # -- orders --------------------------------------------------------------------------------
    def submit_orders(
        self, name: str, specs: Sequence[OrderSpec], *, tag: str = "manual"
    ) -> list[OrderView]:
        """Validate and risk-check every order, then send them all (sells first)."""
        session = self._session(name)
        placed = trading_orders.submit_batch(session, specs, self.costs, tag)
        trading_alerts.orders_placed(self._alerts, name, placed)  # apisvc
        return placed

    def cancel_order(self, name: str, client_order_id: str) -> OrderView:
        session = self._session(name)
        return trading_orders.cancel(session, client_order_id)

    def modify_order(
        self,
        name: str,
        client_order_id: str,
        *,
        quantity: Decimal | str | None = None,
        limit_price: Decimal | str | None = None,
    ) -> OrderView:
        session = self._session(name)
        return trading_orders.modify(session, client_order_id, quantity, limit_price)

    def list_orders(self, name: str, *, open_only: bool = False) -> list[OrderView]:
        return trading_orders.list_orders(self._db, self._record(name), open_only)

    def import_trades(self, name: str, path: Path) -> list[OrderView]:
        """Record trades done elsewhere from a CSV file
        (``date,symbol,side,quantity,price[,strategy]``): every row is checked first (file, row,
        field named on error) and nothing is written
        unless all are valid."""
        session = self._session(name)
        return trading_orders.import_trades(session, path, self._calendar_check)

    # -- rebalancing ---------------------------------------------------------------------------
    def drift(self, name: str, targets: Mapping[str, float]) -> RebalanceResult:
        return self.rebalance(name, targets=targets, execute=False, source="targets")

    def rebalance(
        self,
        name: str,
        *,
        targets: Mapping[str, float] | None = None,
        strategy: str | None = None,
        signal: str | None = None,
        threshold: float = 0.0,
        execute: bool = False,
        source: str | None = None,
        alert_drift: bool = False,
    ) -> RebalanceResult:
        """The trade list from current to target weights (fractions); with ``execute`` one batch.

        Targets come from ``targets``, a registered ``strategy``'s latest targets, or a stored
        ``signal`` (``sector-momentum``: the 12-1 sector signal; ``composite``: the top stored
        composite scores). ``threshold``: trades whose weight change is below it are skipped.
        ``alert_drift``: this is a rebalance check someone asked for (``POST …/rebalance``,
        ``quantdesk trade rebalance``), which raises a ``drift`` alert above the portfolio's
        threshold; a read of the drift (``GET …/drift``, the page) leaves it ``False`` and
        writes nothing.

        A ``strategy`` rebalances its own book (its cash and positions, weights as fractions of
        its equity), as ``trade run`` and :meth:`rebalance_books` do; an empty book is refused.
        Hand-given ``targets`` and a ``signal`` rebalance the unallocated book.
        """
        if strategy is not None:  # apisvc: a disabled strategy book does not trade
            ensure_enabled(self._db, self._record(name).id, name, strategy)
        weights, label = self._targets(targets, strategy, signal)
        session = self._session(name)
        book = strategy or ""
        if book:
            from quantdesk.services.trading_replay import ensure_funded

            ensure_funded(session, book)
        result = trading_orders.rebalance(
            session,
            weights,
            label if source is None else source,
            threshold,
            execute,
            self.costs,
            strategy=book,
        )
        if execute:
            trading_alerts.orders_placed(self._alerts, name, result.orders)
        elif alert_drift:  # a check acts on what it finds; a read never writes
            trading_alerts.drift_checked(self._alerts, self._db, session.portfolio.id, result)
        return result

    def rebalance_books(
        self,
        name: str,
        *,
        targets: Mapping[str, Mapping[str, float]] | None = None,
        strategies: Sequence[str] | None = None,
        threshold: float = 0.0,
        execute: bool = False,
    ) -> BooksRebalanceResult:
        """Rebalance several strategy books of one portfolio as one netted batch.

        Each book (named after its strategy) trades to its own targets against its own cash and
        positions: ``targets`` maps book → symbol → weight, or ``strategies`` names registered
        strategies whose latest targets drive the book of the same name. Per symbol, opposite
        trades of two books cross internally; only the net reaches the broker, and its fills are
        attributed back to the books that wanted them.
        """
        if (targets is None) == (strategies is None):
            raise TradingError("give exactly one of per-book targets or strategies")
        if strategies is not None:
            if len(set(strategies)) != len(strategies):
                raise TradingError(f"a strategy is named twice in {list(strategies)}")
            # apisvc: disabled strategy books are skipped (their positions stay as they are)
            off = disabled_strategies(self._db, self._record(name).id)
            if strategies and all(s in off for s in strategies):
                raise StrategyDisabledError(
                    "; ".join(disabled_message(name, s) for s in strategies)
                )
            skipped = tuple(s for s in strategies if s in off)
            strategies = [s for s in strategies if s not in off]
            targets = {s: self._targets(None, s, None)[0] for s in strategies}
            source = "strategies:" + ",".join(strategies)
        else:
            targets = {book: checked_targets(t, book) for book, t in (targets or {}).items()}
            source = "targets"
            skipped = ()
        assert targets is not None
        session = self._session(name)
        result = trading_netting.rebalance_books(
            session, targets, source, threshold, execute, self.costs
        )
        trading_alerts.orders_placed(self._alerts, name, result.orders)  # apisvc
        return dataclasses.replace(result, skipped=skipped)

    # -- reconciliation ------------------------------------------------------------------------
    def reconcile(self, name: str) -> ReconcileReport:
        session = self._session(name, reconcile_first=False)
        report = reconcile(session)
        trading_alerts.reconciled(self._alerts, name, report)  # apisvc
        return report

    # -- replay --------------------------------------------------------------------------------
    def run_strategy(
        self,
        name: str,
        strategy: str,
        start: date,
        end: date,
        params: Mapping[str, object] | None = None,
        universe: str | None = None,
        *,
        costs: CostModel | None = None,
        fractional: bool = True,
        price_field: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> ReplayResult:
        """Drive a registered strategy (allocation or signal, or ``sector-momentum``) on the
        portfolio over replayed history, bar by bar through the paper broker, as the event
        backtest runs it; a snapshot is stored every session. ``costs`` default to the paper
        broker's; the backtest's (:meth:`backtest_costs`) with ``fractional`` shares reproduce
        the event backtest of the same run; ``price_field="close"`` trades at the raw close
        instead of the backtest's adjusted close. ``progress(done, total)`` after each bar."""
        from quantdesk.services.trading_replay import replay

        ensure_enabled(self._db, self._record(name).id, name, strategy)  # apisvc
        return replay(
            self,
            name,
            strategy,
            start,
            end,
            dict(params or {}),
            universe,
            costs=costs,
            fractional=fractional,
            price_field=price_field,
            progress=progress,
        )

    def strategy_step(
        self,
        name: str,
        strategy: str,
        params: Mapping[str, object] | None = None,
        universe: str | None = None,
        *,
        costs: CostModel | None = None,
        fractional: bool = True,
    ) -> LiveStep:
        """One live decision of ``strategy`` on the portfolio: on the latest session whose
        decision time (21:00 UTC) the clock has passed, once per session and strategy book
        (:mod:`.trading_live`). The result says when the next one is due."""
        from quantdesk.services.trading_live import live_step

        return live_step(
            self,
            name,
            strategy,
            dict(params or {}),
            universe,
            costs=costs,
            fractional=fractional,
        )

    def backtest_costs(self, strategy: str) -> CostModel:
        """The cost model the backtest runs ``strategy`` with by default."""
        if self._backtest is None:
            raise TradingError("the backtest cost model needs the backtest service")
        return self._backtest.default_costs(strategy)

    def resume_strategy(
        self,
        name: str,
        strategy: str,
        start: date,
        end: date,
        params: Mapping[str, object] | None = None,
        universe: str | None = None,
    ) -> ReplayResult:
        """Like :meth:`run_strategy`, but a window already partly replayed on the portfolio (an
        interrupted run) continues after its last processed session instead of trading again."""
        from quantdesk.services.trading_resume import resume_replay

        ensure_enabled(self._db, self._record(name).id, name, strategy)  # apisvc
        return resume_replay(self, name, strategy, start, end, dict(params or {}), universe)

    # -- journal -------------------------------------------------------------------------------
    def journal_add(
        self, name: str, texts: Mapping[str, str | None], client_order_id: str | None = None
    ) -> JournalView:
        return trading_book.journal_add(
            self._db, self._clock, self._record(name), texts, client_order_id
        )

    def journal_edit(self, entry_id: int, texts: Mapping[str, str | None]) -> JournalView:
        return trading_book.journal_edit(self._db, self._clock, entry_id, texts)

    def journal_list(self, name: str, client_order_id: str | None = None) -> list[JournalView]:
        return trading_book.journal_list(self._db, self._record(name), client_order_id)

    # -- transaction-cost analysis -------------------------------------------------------------
    def tca(self, name: str | None = None, by: TcaGrouping | None = None) -> TcaReport:
        """Slippage of filled orders (one portfolio or all), optionally grouped."""
        records = [self._record(name)] if name else self._all_records()
        return trading_book.tca(self._db, records, by)

    def measured_costs(self, name: str, base: CostModel) -> CostModel:
        """``base`` with its slippage replaced by the portfolio's measured mean slippage (bp,
        fill vs arrival, never below 0): the cost model a backtest uses with
        ``--slippage-from``."""
        from dataclasses import replace

        report = self.tca(name)
        if report.overall.measured == 0:
            raise TradingError(f"portfolio {name!r} has no filled orders to measure slippage on")
        return replace(base, slippage_bps=max(0.0, report.overall.mean_bp))

    # -- internals -----------------------------------------------------------------------------
    def _record(self, name: str) -> trading_repo.PortfolioRecord:
        with self._db.read() as connection:
            record = trading_repo.get_portfolio(connection, name)
            if record is None:
                known = [p.name for p in trading_repo.list_portfolios(connection)]
        if record is None:
            hint = (
                f"; known: {', '.join(known)}" if known else "; create one with 'portfolio create'"
            )
            raise NotFoundError(f"unknown portfolio {name!r}{hint}")
        return record

    def _all_records(self) -> list[trading_repo.PortfolioRecord]:
        with self._db.read() as connection:
            return trading_repo.list_portfolios(connection)

    def _prices(self, session: PortfolioSession) -> PriceBook:
        assert isinstance(session.prices, PriceBook)
        return session.prices

    def _session(
        self, name: str, *, reconcile_first: bool = True, with_orders: bool = True
    ) -> PortfolioSession:
        record = self._record(name)
        session = PortfolioSession(
            self._db,
            self._clock,
            record,
            PriceBook(self._data, self._clock),
            self.costs,
            with_orders=with_orders,
        )
        if with_orders:
            trading_netting.attach(session)
        if reconcile_first:
            reconcile(session)
        return session

    def _fund_venue(self, connection: Connection, account: str, amount: Decimal) -> None:
        """Deposit ``amount`` at the paper venue of ``account`` (its state rewritten; its
        executions untouched)."""
        from quantdesk.db.repositories import paper as paper_repo
        from quantdesk.execution.brokers.paper import PaperBroker

        state, fills = paper_repo.load(connection, account)
        venue = PaperBroker(account, self._clock, costs=self.costs)
        if state is not None:
            venue.restore(state, fills)
        venue.deposit(amount)
        paper_repo.save(connection, account, venue.state(), [], self._clock.now())

    def _calendar_check(self, day: date) -> bool:
        from quantdesk.data.calendar import TradingCalendar

        return TradingCalendar("XNYS", start=min(day, date(2000, 1, 1))).is_session(day)

    def check_runnable(self, strategy: str) -> None:
        """Raise unless ``trade run`` can drive ``strategy``: a registered strategy or the
        sector-momentum signal."""
        from quantdesk.services.trading_replay import SECTOR_SIGNAL

        if strategy != SECTOR_SIGNAL:
            from quantdesk.services.backtest_run import strategy_class

            strategy_class(strategy)

    def _targets(
        self,
        targets: Mapping[str, float] | None,
        strategy: str | None,
        signal: str | None,
    ) -> tuple[dict[str, float], str]:
        chosen = [x for x in (targets, strategy, signal) if x is not None]
        if len(chosen) != 1:
            raise TradingError("give exactly one of targets, --strategy or --signal")
        if targets is not None:
            return checked_targets(targets), "targets"
        today = self._clock.now().date()
        if signal is not None:
            if self._research is None:
                raise TradingError("signals need the research service")
            if signal == "sector-momentum":
                result = self._research.sector_momentum_signal(today)
                return dict(result.target_weights), "signal:sector-momentum"
            if signal == "composite":
                recommendation = self._research.recommend(date=today)
                frame = recommendation.weights
                weights = dict(
                    zip(frame["symbol"].astype(str), frame["weight"].astype(float), strict=True)
                )
                return weights, "signal:composite"
            raise TradingError(f"unknown signal {signal!r}; use sector-momentum or composite")
        assert strategy is not None
        from quantdesk.services.trading_replay import latest_targets

        return latest_targets(self, strategy, today), f"strategy:{strategy}"


def checked_targets(targets: Mapping[str, float], book: str | None = None) -> dict[str, float]:
    """Hand-given target weights (fractions of equity): each finite and in [0, 1], together
    at most 1 (no leverage, no shorting). A weight of 2 is refused rather than trimmed to cash,
    since it is more likely a percent typed as a fraction."""
    where = f" of book {book!r}" if book else ""
    out: dict[str, float] = {}
    for symbol, weight in targets.items():
        value = float(weight)
        if not (math.isfinite(value) and 0.0 <= value <= 1.0):
            raise TradingError(
                f"target weight{where} for {symbol}: {weight} is not a fraction in [0, 1]"
            )
        out[str(symbol)] = value
    if sum(out.values()) > 1.0 + 1e-9:
        raise TradingError(f"target weights{where} add up to {sum(out.values()):.6g}, above 1")
    return out


def _on_current_books(work: Callable[[], T]) -> T:
    """``work()``, which loads a portfolio's books, checks a write against them and writes under
    :meth:`PortfolioSession.hold`; run again on the books as they are now when another writer
    changed them in between (see :class:`PortfolioChangedError`)."""
    for attempt in range(1, CURRENT_BOOK_TRIES + 1):
        try:
            return work()
        except PortfolioChangedError as changed:
            if attempt == CURRENT_BOOK_TRIES:
                raise PortfolioChangedError(
                    f"{changed}; tried {attempt} times, other writers kept changing it: try again"
                ) from None
    raise AssertionError("unreachable")


def _view(record: trading_repo.PortfolioRecord) -> PortfolioView:
    return PortfolioView(
        record.name, record.account_id, record.mode, record.benchmark, record.created_at
    )
