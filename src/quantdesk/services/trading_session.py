"""One portfolio's trading state rebuilt from the database, and the way it is saved back.

A :class:`PortfolioSession` replays the stored cash flows and executions into a
:class:`~quantdesk.execution.Ledger`, restores the stored orders (replayed from their event log)
into an :class:`~quantdesk.execution.OrderManager`, and restores the paper venue
(:class:`~quantdesk.execution.brokers.paper.PaperBroker`) from its own stored book: a small state
document and its append-only executions.

Saving is two transactions, in this order: first the venue's book (what the venue did), then
our records (orders, events, executions, positions, the id sequence). A crash between the two
leaves the broker ahead of us, never behind; :mod:`.trading_reconcile` adopts what it did.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import numpy as np
from sqlalchemy import Connection

from quantdesk.core.clock import Clock
from quantdesk.core.ids import ClientOrderIds
from quantdesk.db.database import Database
from quantdesk.db.engine import serialise
from quantdesk.db.repositories import orders as orders_repo
from quantdesk.db.repositories import paper as paper_repo
from quantdesk.db.repositories import trading as trading_repo
from quantdesk.db.repositories._utc import utc
from quantdesk.execution import (
    CostModel,
    Fill,
    Ledger,
    Order,
    OrderFilled,
    OrderManager,
    OrderStatus,
)
from quantdesk.execution.brokers.paper import Bar, PaperBroker
from quantdesk.services.data import DataService
from quantdesk.services.trading_types import PortfolioChangedError

ZERO = Decimal(0)


class PriceBook:
    """Latest close on or before the clock's date, per symbol (``None`` when unknown), and the
    session it closed (:meth:`session_of`)."""

    def __init__(self, data: DataService, clock: Clock) -> None:
        self._data = data
        self._clock = clock
        self._known: set[str] | None = None
        self._cache: dict[tuple[str, date], Decimal | None] = {}
        self._sessions: dict[tuple[str, date], date] = {}

    def known(self, symbol: str) -> bool:
        if self._known is None:
            self._known = {info.symbol for info in self._data.get_symbols()}
        return symbol in self._known

    def preload(self, symbols: Sequence[str]) -> None:
        """Load many symbols' latest closes in one query."""
        day = self._clock.now().date()
        wanted = sorted({s for s in symbols if (s, day) not in self._cache and self.known(s)})
        if not wanted:
            return
        panel = self._data.load_panel(wanted, ("close",), start=day - timedelta(days=14), end=day)
        closes = panel["close"]
        for column, symbol in enumerate(panel.symbols):
            rows = np.flatnonzero(np.isfinite(closes[:, column]))
            if not len(rows):
                self._cache[(symbol, day)] = None
                continue
            self._cache[(symbol, day)] = Decimal(repr(float(closes[rows[-1], column])))
            stamp = np.datetime_as_string(panel.dates[rows[-1]], unit="D")
            self._sessions[(symbol, day)] = date.fromisoformat(str(stamp))
        for symbol in wanted:
            if self._cache.get((symbol, day)) is None:
                self._cache[(symbol, day)] = self._last_close(symbol, day)

    def _last_close(self, symbol: str, day: date) -> Decimal | None:
        # the clock is past the stored history (a live clock on a paper portfolio): the latest
        # close there is, when it is not after the clock's date
        bar = self._data.get_latest_bar(symbol)
        stamp = bar["ts"]
        close = bar.get("close")
        if not isinstance(stamp, datetime) or stamp.date() > day or close is None:
            return None
        value = float(close)
        if not np.isfinite(value):
            return None
        self._sessions[(symbol, day)] = stamp.date()
        return Decimal(repr(value))

    def session_of(self, symbol: str) -> date | None:
        """The session whose close :meth:`__call__` gives for ``symbol`` (``None``: no price)."""
        day = self._clock.now().date()
        if self(symbol) is None:
            return None
        return self._sessions.get((symbol, day))

    def latest_session(self) -> date:
        """The session of the newest daily bars on or before the clock's date: the database's
        last date, or the exchange's (XNYS) latest session on or before the clock's date when
        the bars go further (a simulated clock) or there are none."""
        from quantdesk.core.errors import NotFoundError
        from quantdesk.data.calendar import TradingCalendar

        day = self._clock.now().date()
        try:
            _, last = self._data.get_date_range()
        except NotFoundError:
            last = None
        if last is not None and last.date() < day:
            return last.date()
        calendar = TradingCalendar("XNYS", start=day - timedelta(days=30))
        return day if calendar.is_session(day) else calendar.previous_session(day)

    def __call__(self, symbol: str) -> Decimal | None:
        day = self._clock.now().date()
        if (symbol, day) not in self._cache:
            self.preload([symbol])
        return self._cache.get((symbol, day))


class SessionBroker(PaperBroker):
    """The paper venue fed with the session's latest prices: an order is priced when it is sent,
    and :meth:`on_prices` matches resting orders against the latest price (a bar that opens,
    peaks and closes there: daily closes are all the trading service knows of a day).

    The market counts as always open: the service trades at the prices of the clock's day.
    """

    def __init__(
        self,
        account: str,
        clock: Clock,
        prices: Callable[[str], Decimal | None],
        costs: CostModel,
    ) -> None:
        super().__init__(account, clock, costs=costs)
        self._latest = prices

    def submit(self, order: Order) -> None:
        price = self._latest(order.symbol)
        if price is not None:
            self.on_price(order.symbol, price)
        super().submit(order)

    def on_prices(self) -> None:
        """Match every resting order against its symbol's latest price."""
        for symbol in sorted({o.symbol for o in self.open_orders()}):
            price = self._latest(symbol)
            if price is not None:
                self.on_bar(symbol, Bar(price, price, price, price))


@dataclass(frozen=True, slots=True)
class TcaPrices:
    decision_price: Decimal | None
    decided_at: datetime | None
    arrival_price: Decimal | None


class PortfolioSession:
    """Ledger, order manager and paper broker of one portfolio, loaded from the database."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        portfolio: trading_repo.PortfolioRecord,
        prices: Callable[[str], Decimal | None],
        costs: CostModel,
        *,
        with_orders: bool = True,
    ) -> None:
        """``with_orders=False`` skips replaying the order log: enough to read value and
        positions (the ledger comes from cash flows and executions), not to trade."""
        self.db = database
        self.clock = clock
        self.portfolio = portfolio
        self.account = portfolio.account_id
        self.prices = prices
        with database.read() as connection:
            # first: a write committed while the rest is read makes the mark older than what
            # was read, so :meth:`hold` refuses (never the other way round)
            self.mark = trading_repo.ledger_mark(connection, portfolio.id)
            stored = (
                orders_repo.load_orders(connection, self.account, portfolio.id)
                if with_orders
                else []
            )
            fills = orders_repo.executions(connection, self.account, portfolio.id)
            flows = trading_repo.cash_flows(connection, portfolio.id)
            last = trading_repo.last_order_seq(connection, self.account)
            broker_state, venue_fills = paper_repo.load(connection, self.account)
        self.stored_ids = {s.order.client_order_id for s in stored}
        self.stored = {s.order.client_order_id: s for s in stored}
        self.ledger = _ledger(self.account, flows, fills)
        self.broker = SessionBroker(self.account, clock, prices, costs)
        if broker_state is not None:
            self.broker.restore(broker_state, venue_fills)
        self.manager = OrderManager(
            self.broker,
            self.ledger,
            clock,
            prices=prices,
            ids=ClientOrderIds(self.account, last),
        )
        self.manager.restore(s.order for s in stored)
        self.traded: dict[str, set[str]] = {}
        for fill in fills:
            self.traded.setdefault(fill.strategy, set()).add(fill.symbol)
        self.tca: dict[str, TcaPrices] = {}
        self.batch_id: str | None = None
        self._saved_events = 0

    def prices_known(self, symbol: str) -> bool:
        """Whether ``symbol`` is a stored instrument with a price today."""
        return self.prices(symbol) is not None

    # -- saving --------------------------------------------------------------------------------
    def hold(self, connection: Connection) -> None:
        """In a write transaction, before a write checked against the loaded books (a
        withdrawal or transfer against their cash or shares): take the portfolio's lock and
        raise :class:`PortfolioChangedError` if another writer changed the books since they were
        loaded (or since this session's last :meth:`remark`), so two such writes never both
        pass their checks against the same cash. Then :meth:`remark` after the write."""
        serialise(connection, f"portfolio:{self.portfolio.id}")
        if trading_repo.ledger_mark(connection, self.portfolio.id) != self.mark:
            raise PortfolioChangedError(
                f"portfolio {self.portfolio.name!r} changed while this request ran (another "
                "process or request wrote to it); nothing was written"
            )

    def remark(self, connection: Connection) -> None:
        """Take this session's own writes in ``connection`` as the books it knows."""
        self.mark = trading_repo.ledger_mark(connection, self.portfolio.id)

    def save(self) -> None:
        """Persist the broker's book, then every event since the last save (see module doc)."""
        with self.db.transaction() as connection:
            self.save_venue(connection)
        self.save_records()

    def save_venue(self, connection: Connection) -> None:
        """Write the venue's state and append its new executions in ``connection``'s
        transaction."""
        paper_repo.save(
            connection,
            self.account,
            self.broker.state(),
            self.broker.unsaved_executions(),
            self.clock.now(),
        )
        self.broker.mark_saved()

    def save_records(self) -> None:
        events = self.manager.events[self._saved_events :]
        orders = self.manager.orders
        new = [
            orders_repo.NewOrder(
                _created(orders[cid]),
                *self._tca_values(cid),
            )
            for cid in dict.fromkeys(str(e.client_order_id) for e in events)
            if cid not in self.stored_ids
        ]
        touched = {str(e.client_order_id) for e in events}
        fills = [
            _attributed(e.fill, orders[str(e.client_order_id)].strategy, self.account)
            for e in events
            if isinstance(e, OrderFilled)
        ]
        for fill in fills:
            self.traded.setdefault(fill.strategy, set()).add(fill.symbol)
        with self.db.transaction() as connection:
            orders_repo.insert_orders(connection, self.portfolio.id, new, self.batch_id)
            orders_repo.append_events(
                connection, self.account, events, {cid: orders[cid] for cid in touched}
            )
            orders_repo.insert_executions(
                connection,
                self.account,
                self.portfolio.id,
                fills,
            )
            trading_repo.replace_positions(connection, self.portfolio.id, self.stored_positions())
            last = max(self.manager.ids.last, trading_repo.last_order_seq(connection, self.account))
            trading_repo.set_last_order_seq(connection, self.account, last)
        self.stored_ids.update(new_order.order.client_order_id for new_order in new)
        self._saved_events = len(self.manager.events)

    def _tca_values(self, cid: str) -> tuple[Decimal | None, datetime | None, Decimal | None]:
        prices = self.tca.get(cid)
        if prices is None:
            return (None, None, None)
        return (prices.decision_price, prices.decided_at, prices.arrival_price)

    # -- reads ---------------------------------------------------------------------------------
    def stored_positions(self) -> list[trading_repo.StoredPosition]:
        out = []
        for strategy in self.ledger.strategies(self.account):
            for symbol in sorted(self.traded.get(strategy, ())):
                p = self.ledger.position(self.account, strategy, symbol)
                out.append(
                    trading_repo.StoredPosition(
                        strategy,
                        symbol,
                        p.quantity,
                        p.average_cost,
                        p.realised_pnl,
                        tuple(trading_repo.StoredLot(lot.quantity, lot.price) for lot in p.lots),
                    )
                )
        return out


def _ledger(
    account: str, flows: Sequence[trading_repo.CashFlowRecord], fills: Sequence[Fill]
) -> Ledger:
    """Replay cash flows and fills in time order (flows first on a tie)."""
    ledger = Ledger()
    items: list[tuple[datetime, int, int, object]] = [
        (utc(f.at), 0, i, f) for i, f in enumerate(flows)
    ] + [(utc(f.filled_at), 1, i, f) for i, f in enumerate(fills)]
    for _, _, _, item in sorted(items, key=lambda t: (t[0], t[1], t[2])):
        if isinstance(item, trading_repo.CashFlowRecord):
            if item.amount > ZERO:
                ledger.deposit(account, item.amount, item.strategy)
            elif item.amount < ZERO:
                ledger.withdraw(account, -item.amount, item.strategy)
        else:
            assert isinstance(item, Fill)
            ledger.book(item)
    return ledger


def _created(order: Order) -> Order:
    """The NEW value of an order (its stored creation row); state comes from the events."""
    return replace(
        order,
        status=OrderStatus.NEW,
        filled_quantity=ZERO,
        average_fill_price=None,
        fill_ids=(),
        status_reason="",
        venue_order_id="",
    )


def _attributed(fill: Fill, strategy: str, account: str) -> Fill:
    if fill.strategy == strategy and fill.account == account:
        return fill
    return replace(fill, strategy=strategy, account=account)
