"""One strategy object driven bar by bar through the paper broker: the runner behind
``quantdesk trade run``, on replayed history and on the live clock.

The runner is the event backtest's loop with the trading stack underneath: the same strategy
object (a signal strategy, or an allocation strategy through the backtest's
:class:`~quantdesk.backtest.event_allocation.AllocationAdapter`), the same panel, the same price
field, cost model and share rounding, but orders go through the portfolio's
:class:`~quantdesk.execution.OrderManager` to its paper venue and are booked in its Decimal
ledger and stored. On each bar ``i``:

1. the clock moves to the bar (daily bars: 21:00 UTC of the session, after the New York close);
2. resting limit/stop orders are matched against bar ``i`` (open/high/low scaled to the price
   field, as the backtest does);
3. ``strategy.on_bar(context)`` decides; its market orders are queued, so it sees the book as
   it was before the bar's trades (as in the backtest);
4. the queue goes to the venue in the order sent and fills at bar ``i``'s price ± slippage. The
   backtest's rules are applied before sending, so the venue never has to refuse: a buy the cash
   cannot pay is trimmed to what it affords (whole shares when not fractional), a sell is capped
   at the holding. Quantities are exact Decimals of the float shares, cut to the money scale
   (1e-10);
5. the day's value is recorded as a snapshot.

The strategy trades one strategy book of the portfolio (``trade run`` gives it the book named
after the strategy) and sees the panel's symbols only; snapshots value the whole portfolio, and
each strategy book apart. Orders decided on the last bar of a replay are not sent (the backtest
has no later bar to fill them on, and the two must agree). Fills at the decision bar's close are
all the runner does: next-open timing and volume participation are backtest-only for now.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from quantdesk.backtest.event_allocation import AllocationAdapter
from quantdesk.core.clock import Clock, SimulatedClock
from quantdesk.core.enums import Side
from quantdesk.core.errors import NotFoundError
from quantdesk.data.panel import Panel
from quantdesk.db.repositories import trading as trading_repo
from quantdesk.execution import CostModel, OrderRequest, TimeInForce
from quantdesk.execution.brokers.paper import MONEY_TICK, Bar
from quantdesk.services import trading_book
from quantdesk.services.data import DataService
from quantdesk.services.trading_session import PortfolioSession, PriceBook, TcaPrices
from quantdesk.services.trading_types import TradingError
from quantdesk.strategies.base import AllocationStrategy, SignalStrategy

ZERO = Decimal(0)
SESSION_CLOSE_UTC = time(21, 0)  # after the New York close all year round


class PanelPrices(PriceBook):
    """The replayed panel's valuation prices (forward-filled) at the runner's current row, as
    Decimals (``None`` before a symbol's first price); a symbol outside the panel (held from
    earlier trading) has the stored latest close on the clock's date, as elsewhere."""

    def __init__(self, data: DataService, clock: Clock, symbols: Sequence[str]) -> None:
        super().__init__(data, clock)
        self.columns = {symbol: j for j, symbol in enumerate(symbols)}
        self.row: np.ndarray = np.empty(0)

    def known(self, symbol: str) -> bool:
        return symbol in self.columns or super().known(symbol)

    def preload(self, symbols: Sequence[str]) -> None:
        super().preload([s for s in symbols if s not in self.columns])

    def __call__(self, symbol: str) -> Decimal | None:
        j = self.columns.get(symbol)
        if j is None:
            return super().__call__(symbol)
        value = float(self.row[j])
        return Decimal(repr(value)) if value > 0.0 else None


@dataclass(frozen=True, slots=True)
class _Queued:
    side: Side
    symbol: str
    quantity: float
    limit_price: float | None
    stop_price: float | None
    time_in_force: TimeInForce
    tag: str


class _Venue:
    """What the allocation adapter reads of the venue: the panel's symbols."""

    def __init__(self, symbols: tuple[str, ...]) -> None:
        self.symbols = symbols


class PaperRunner:
    """Runs ``strategy`` over ``panel`` on ``session`` (see module doc).

    Implements the ``StrategyContext`` protocol for signal strategies and the order intake of
    the allocation adapter (``ledger``/``broker``/``costs``/``submit``). Quantities are shares,
    prices and cash currency, targets fractions of equity.
    """

    def __init__(
        self,
        session: PortfolioSession,
        panel: Panel,
        strategy: AllocationStrategy | SignalStrategy,
        prices: PanelPrices,
        costs: CostModel,
        *,
        fractional: bool = True,
        book: str = "",
        price_field: str | None = None,
    ) -> None:
        """``price_field``: ``None`` values and fills at the backtest's field (the adjusted
        close where the panel has it), ``"close"`` at the raw close (what was traded then)."""
        self.session = session
        self.panel = panel
        self.costs = costs
        self.fractional = fractional
        self.book = book
        self.price_field, raw = _valuation(panel, price_field)
        self.marks = pd.DataFrame(raw).ffill().to_numpy()
        self.prices = prices
        self._symbols = panel.symbols
        self._columns = {symbol: j for j, symbol in enumerate(panel.symbols)}
        self.broker = _Venue(panel.symbols)
        self.ledger = self  # the adapter reads positions/marks/entry from ``ledger``
        held = session.ledger.positions(session.account, book)
        self.positions = [float(held.get(s, ZERO)) for s in panel.symbols]
        self.entry = np.full(len(panel.symbols), np.nan)
        for j, symbol in enumerate(panel.symbols):
            if self.positions[j] > 0.0:
                cost = session.ledger.position(session.account, book, symbol).average_cost
                self.entry[j] = float(cost) if cost is not None else np.nan
        self._cash = float(session.ledger.cash(session.account, book))
        self._trades = 0  # fills so far: keys the cached float equity and the book summary
        self._equity_key = (-1, -1)
        self._equity = self._cash
        self._held: dict[str, tuple[Decimal, Decimal]] = {}  # shares, cost of the open lots
        # per book: cash, realised P&L, its own shares and open-lot cost by symbol
        self._books: dict[str, tuple[Decimal, Decimal, dict[str, tuple[Decimal, Decimal]]]] = {}
        self._held_at = -1
        self._account_cash = ZERO
        self._realised = ZERO
        self._queue: list[_Queued | None] = []
        self.i = 0
        self.last = len(panel.dates) - 1
        self.orders_sent = 0
        self.decision_rows: list[int] = []
        self._snapshots: list[trading_repo.SnapshotRecord] = []
        with session.db.read() as connection:
            flows = trading_repo.cash_flows(connection, session.portfolio.id)
        self._flows = trading_book.flows_by_day(flows)
        # the flows counted by the snapshots before the current one's day (read from the stored
        # ones on the first snapshot), and the current day's latest snapshot's own
        self._counted: trading_book.CountedFlows | None = None
        self._counted_day: date | None = None
        self._day_flows = trading_book.CountedFlows()
        if isinstance(strategy, AllocationStrategy):
            adapter = AllocationAdapter(strategy)
            adapter.attach(self, fractional=fractional)
            self.strategy: SignalStrategy = adapter
        else:
            self.strategy = strategy
        self.source = strategy
        self._times = _bar_times(panel.dates)

    # ---- the loop ------------------------------------------------------------------------------
    def bar_time(self, i: int) -> datetime:
        """The moment of bar ``i`` (daily bars: 21:00 UTC of their session)."""
        return self._times[i]

    def start(self) -> None:
        """Let the strategy precompute over the panel (causal: row ``t`` from rows ``≤ t``)."""
        self.strategy.init(self.panel)

    def step(self, i: int, *, final: bool) -> int:
        """Bar ``i``: match, decide, send, record; returns the orders sent. On the ``final``
        bar of a replay nothing is sent (see module doc)."""
        self.i = i
        clock = self.session.clock
        if isinstance(clock, SimulatedClock) and clock.now() < self._times[i]:
            clock.advance_to(self._times[i])  # a live clock moves by itself
        self.prices.row = self.marks[i]
        if self.session.manager.open_orders(self.book):
            self._match_resting(i)
        self.strategy.on_bar(self)
        sent = 0
        if self._queue:
            if final:
                self._queue.clear()
            else:
                sent = self._flush()
        if sent:
            self.decision_rows.append(i)
        self._snapshots.append(self._snapshot())
        return sent

    def run(
        self,
        rows: range,
        *,
        replay: bool,
        progress: Callable[[int, int], None] | None = None,
        first_sent: bool = False,
    ) -> None:
        """Steps over ``rows``; ``replay``: the last row sends nothing. ``first_sent``: the
        first row's batch already reached the venue (a resumed replay): it is not sent again.
        Saves as it goes."""
        self.start()
        count = len(rows)
        for n, i in enumerate(rows, start=1):
            hold = (replay and i == self.last) or (first_sent and n == 1)
            sent = self.step(i, final=hold)
            if sent:
                self.save()
            if progress is not None:
                progress(n, count)
        self.save()

    def current_targets(self) -> dict[str, float] | None:
        """An allocation strategy's target weights (fractions of the book's equity) in force at
        the current bar, by symbol; ``None`` for a signal strategy or before its first
        rebalance."""
        if not isinstance(self.strategy, AllocationAdapter):
            return None
        weights = self.strategy.targets_at(self.i)
        if weights is None:
            return None
        return {s: float(w) for s, w in zip(self._symbols, weights, strict=True) if w > 0.0}

    def session_equity(self) -> Decimal:
        """The portfolio's equity (currency) at the current bar's prices."""
        return trading_book.value(self.session, self.prices).equity

    def save(self) -> None:
        """The snapshots of the sessions before the current one, the venue's book, our
        records, then the current session's snapshot; each snapshot with the book's mark
        that its session is done (in the snapshot's transaction).

        Why this order: every session before a batch has its snapshot stored before the batch
        reaches the venue's stored book, and a session's own snapshot only after its batch, so
        the last stored snapshot tells a resumed replay which sessions are done and which one
        may be in flight (:mod:`.trading_resume`), and the book's mark tells a live step the
        same (:mod:`.trading_live`)."""
        earlier, current = self._snapshots[:-1], self._snapshots[-1:]
        self._store_snapshots(earlier)
        self.session.save()
        self._store_snapshots(current)
        self._snapshots.clear()

    def _store_snapshots(self, records: list[trading_repo.SnapshotRecord]) -> None:
        if records:
            portfolio, now = self.session.portfolio.id, self.session.clock.now()
            with self.session.db.transaction() as connection:
                trading_repo.upsert_snapshots(connection, portfolio, records)
                last = max(r.date for r in records)
                trading_repo.mark_session(connection, portfolio, self.book, last, now)

    # ---- StrategyContext -----------------------------------------------------------------------
    @property
    def index(self) -> int:
        return self.i

    @property
    def time(self) -> datetime:
        return self.session.clock.now()

    @property
    def symbols(self) -> tuple[str, ...]:
        return self._symbols

    @property
    def is_last_bar(self) -> bool:
        return self.i == self.last

    @property
    def cash(self) -> float:
        return self._cash

    @property
    def equity(self) -> float:
        """Cash plus positions at the bar's prices (the backtest's float arithmetic)."""
        key = (self.i, self._trades)
        if key != self._equity_key:
            row = self.marks[self.i]
            held = sum(q * row[j] for j, q in enumerate(self.positions) if q != 0.0)
            self._equity_key, self._equity = key, float(self._cash + held)
        return self._equity

    def history(self, field: str = "close", bars: int | None = None) -> np.ndarray:
        values = self.panel[field]
        start = 0 if bars is None else max(0, self.i + 1 - bars)
        return values[start : self.i + 1]

    def price(self, symbol: str) -> float:
        return float(self.marks[self.i, self._column(symbol)])

    def position(self, symbol: str) -> float:
        return self.positions[self._column(symbol)]

    def average_cost(self, symbol: str) -> float:
        return float(self.entry[self._column(symbol)])

    def buy(
        self,
        symbol: str,
        quantity: float,
        *,
        limit_price: float | None = None,
        stop_price: float | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        tag: str = "",
    ) -> str:
        return self._enqueue(
            Side.BUY, symbol, quantity, limit_price, stop_price, time_in_force, tag
        )

    def sell(
        self,
        symbol: str,
        quantity: float,
        *,
        limit_price: float | None = None,
        stop_price: float | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        tag: str = "",
    ) -> str:
        return self._enqueue(
            Side.SELL, symbol, quantity, limit_price, stop_price, time_in_force, tag
        )

    def submit(self, side: Side, symbol: str, quantity: float, *, tag: str = "") -> str:
        """The allocation adapter's order intake: a market order."""
        return self._enqueue(side, symbol, quantity, None, None, TimeInForce.GTC, tag)

    def order_target_percent(self, symbol: str, target: float) -> str | None:
        j = self._column(symbol)
        price = float(self.marks[self.i, j])
        if not price > 0.0:
            return None
        delta = target * self.equity / price - self.positions[j]
        if delta == 0.0:
            return None
        if target != 0.0 and self.costs.is_below_threshold(delta * price, self.equity):
            return None
        return self.submit(Side.BUY if delta > 0 else Side.SELL, symbol, abs(delta))

    def close_position(self, symbol: str) -> str | None:
        held = self.positions[self._column(symbol)]
        if held == 0.0:
            return None
        return self.submit(Side.SELL if held > 0 else Side.BUY, symbol, abs(held))

    def cancel(self, client_order_id: str) -> bool:
        """Cancel a queued or working order; False if it is unknown or done."""
        manager = self.session.manager
        base = manager.ids.last
        for k, item in enumerate(self._queue):
            if item is not None and f"{manager.ids.prefix}-{base + k + 1}" == client_order_id:
                self._queue[k] = None  # its id stays reserved, so later ids do not move
                return True
        order = manager.orders.get(client_order_id)
        if order is None or not order.status.is_working:
            return False
        manager.cancel(client_order_id)
        return True

    # ---- internals -----------------------------------------------------------------------------
    def _column(self, symbol: str) -> int:
        try:
            return self._columns[symbol]
        except KeyError:
            raise NotFoundError(f"symbol {symbol!r} is not in the strategy's panel") from None

    def _enqueue(
        self,
        side: Side,
        symbol: str,
        quantity: float,
        limit_price: float | None,
        stop_price: float | None,
        time_in_force: TimeInForce,
        tag: str,
    ) -> str:
        self._column(symbol)
        self._queue.append(
            _Queued(side, symbol, float(quantity), limit_price, stop_price, time_in_force, tag)
        )
        # the id the manager will give it: nothing else issues ids before the queue is sent
        ids = self.session.manager.ids
        return f"{ids.prefix}-{ids.last + len(self._queue)}"

    def _flush(self) -> int:
        queue, self._queue = self._queue, []
        manager = self.session.manager
        sent = 0
        for item in queue:
            quantity = None if item is None else self._sendable(item)
            if item is None or quantity is None:
                manager.ids.next()  # the id promised to this order is used up
                continue
            order = manager.submit(
                OrderRequest(
                    item.symbol,
                    item.side,
                    quantity,
                    limit_price=_exact(item.limit_price),
                    stop_price=_exact(item.stop_price),
                    time_in_force=item.time_in_force,
                    strategy=self.book,
                    tag=item.tag,
                )
            )
            # for transaction-cost analysis: the strategy decided on this bar's price and the
            # order reached the venue at it
            mark = float(self.marks[self.i, self._columns[item.symbol]])
            price = _exact(mark) if mark > 0.0 else None
            self.session.tca[order.client_order_id] = TcaPrices(
                price, self.session.clock.now(), price
            )
            sent += 1
            self._sync(item.symbol)
        self.orders_sent += sent
        return sent

    def _sendable(self, item: _Queued) -> Decimal | None:
        """The shares to send: the backtest's cash trim and holding cap, made exact."""
        if item.limit_price is not None or item.stop_price is not None:
            return _shares(item.quantity)
        j = self._columns[item.symbol]
        raw = float(self.marks[self.i, j])
        if not raw > 0.0:
            return None
        costs = self.costs
        quantity = item.quantity
        held = self.session.ledger.position(self.session.account, self.book, item.symbol)
        if item.side is Side.BUY:
            price = costs.fill_price(item.side, raw)
            if quantity * price + costs.commission(quantity, price) > self._cash:
                quantity = costs.affordable_shares(self._cash, price)
                quantity = quantity if self.fractional else float(np.floor(quantity))
            shares = _shares(quantity)
            return None if shares is None else self._affordable(shares, raw)
        shares = _shares(min(quantity, max(float(held.quantity), 0.0)))
        if shares is None:
            return None
        shares = min(shares, held.quantity)
        price = costs.fill_price(item.side, raw)
        if self._cash + (float(shares) * price - costs.commission(float(shares), price)) < 0.0:
            return None  # the flat fee would exceed both the proceeds and the cash
        return shares

    def _affordable(self, shares: Decimal, raw: float) -> Decimal | None:
        """``shares`` cut (by the least steps) until the venue's exact cost fits the cash."""
        costs, tick = self.costs, self.session.broker.tick
        price = costs.decimal_fill_price(Side.BUY, Decimal(repr(raw))).quantize(tick)
        cash = self.session.ledger.cash(self.session.account, self.book)
        step = SHARE_STEP if self.fractional else Decimal(1)

        def cost(quantity: Decimal) -> Decimal:
            return quantity * price + costs.decimal_commission(quantity, price).quantize(tick)

        if cost(shares) > cash:
            # the float trim rounded up by a hair: the exact trim, then step down until it fits
            one, two = (costs.decimal_commission(Decimal(q), price) for q in (1, 2))
            per_share, fee = two - one, 2 * one - two  # commission = fee + per_share × q
            shares = ((cash - fee) / (price + per_share)).quantize(step, ROUND_DOWN)
            while shares > ZERO and cost(shares) > cash:
                shares -= step
        return shares if shares > ZERO else None

    def _sync(self, symbol: str) -> None:
        """Float views of the Decimal book after a fill (what the strategy reads)."""
        session = self.session
        self._trades += 1
        j = self._columns[symbol]
        before = self.positions[j]
        position = session.ledger.position(session.account, self.book, symbol)
        self.positions[j] = float(position.quantity)
        self._cash = float(session.ledger.cash(session.account, self.book))
        after = self.positions[j]
        if not after > 0.0:
            self.entry[j] = np.nan
        elif not before > 0.0 or after > before:
            cost = position.average_cost
            self.entry[j] = float(cost) if cost is not None else np.nan

    def _match_resting(self, i: int) -> None:
        broker, panel = self.session.broker, self.panel
        adjust = self.price_field == "adj_close" and "close" in panel.fields
        symbols = {o.symbol for o in self.session.manager.open_orders(self.book)}
        for symbol in sorted(symbols):
            j = self._columns.get(symbol)
            if j is None:
                continue
            mark = float(self.marks[i, j])
            levels = []
            for name in ("open", "high", "low"):
                values = panel.fields.get(name)
                value = np.nan if values is None else float(values[i, j])
                if adjust and np.isfinite(value):
                    value = value * float(panel["adj_close"][i, j]) / float(panel["close"][i, j])
                levels.append(value if value > 0.0 else mark)
            if not mark > 0.0:
                continue
            o, h, lo = (Decimal(repr(v)) for v in levels)
            events = len(self.session.manager.events)
            broker.on_bar(symbol, Bar(o, h, lo, Decimal(repr(mark))))
            if len(self.session.manager.events) != events:  # filled, or expired
                self._sync(symbol)

    def _snapshot(self) -> trading_repo.SnapshotRecord:
        """The day's value, as :func:`.trading_book.value` computes it, from a summary of the
        account's books kept until the next fill (only the marks change between trades); with
        each book's own value, which sum to it. Dated the bar's session (the session of the
        prices valued: a live step after midnight UTC values the day before), with the flows no
        snapshot before it counted, up to the clock's date, as :func:`.trading_book.snapshot`
        does (:func:`.trading_book.flows_due`)."""
        session = self.session
        day = self._times[self.i].date()
        now = session.clock.now().date()
        if self._held_at != self._trades:
            self._summarise_book()
        marks: dict[str, Decimal] = {}
        for symbol in sorted({s for _, _, own in self._books.values() for s in own}):
            mark = self.prices(symbol)
            if mark is None:
                raise TradingError(f"no price for held symbol {symbol!r} on {day}")
            marks[symbol] = mark
        due = trading_book.flows_due(self._flows, now, self._counted_before(day))
        self._day_flows = due
        marked = {s: str(m) for s, m in marks.items()}
        market_value = open_cost = ZERO
        for symbol, (quantity, cost) in self._held.items():
            market_value += quantity * marks[symbol]
            open_cost += cost
        positions = {s: [str(q), marked[s]] for s, (q, _) in self._held.items()}
        whole = (market_value, open_cost, positions)
        books = []
        for strategy, (cash, realised, held) in self._books.items():
            # a book holding the whole account's positions (one book trading) has its figures
            own = whole if held == self._held else _marked(held, marks, marked)
            books.append(
                trading_repo.BookSnapshotRecord(
                    strategy=strategy,
                    date=day,
                    cash=cash,
                    market_value=own[0],
                    equity=cash + own[0],
                    net_flows=due.books.get(strategy, ZERO),
                    realised_pnl=realised,
                    unrealised_pnl=own[0] - own[1],
                    positions=own[2],
                )
            )
        return trading_repo.SnapshotRecord(
            date=day,
            cash=self._account_cash,
            market_value=market_value,
            equity=self._account_cash + market_value,
            net_flows=due.portfolio,
            realised_pnl=self._realised,
            unrealised_pnl=market_value - open_cost,
            positions=positions,
            books=tuple(books),
        )

    def _counted_before(self, day: date) -> trading_book.CountedFlows:
        """The flows the snapshots dated before ``day`` counted: the stored ones before the
        runner's first snapshot, then the runner's own (the last of a day replaces the others,
        as stored)."""
        if self._counted is None:
            with self.session.db.read() as connection:
                stored = trading_repo.flows_counted_before(
                    connection, self.session.portfolio.id, day
                )
            self._counted = trading_book.CountedFlows(*stored)
        elif day != self._counted_day:  # a new day: the previous day's snapshot is before it
            self._counted = self._counted.plus(self._day_flows)
        self._counted_day = day
        return self._counted

    def _summarise_book(self) -> None:
        ledger, account = self.session.ledger, self.session.account
        held: dict[str, tuple[Decimal, Decimal]] = {}
        books: dict[str, tuple[Decimal, Decimal, dict[str, tuple[Decimal, Decimal]]]] = {}
        for strategy in ledger.strategies(account):
            own: dict[str, tuple[Decimal, Decimal]] = {}
            for symbol in ledger.positions(account, strategy):
                position = ledger.position(account, strategy, symbol)
                cost = sum((lot.quantity * lot.price for lot in position.lots), ZERO)
                own[symbol] = (position.quantity, cost)
                quantity, previous = held.get(symbol, (ZERO, ZERO))
                held[symbol] = (quantity + position.quantity, previous + cost)
            books[strategy] = (
                ledger.cash(account, strategy),
                ledger.realised_pnl(account, strategy),
                dict(sorted(own.items())),
            )
        self._held = {s: v for s, v in sorted(held.items()) if v[0] != ZERO}
        self._books = books
        self._account_cash = ledger.cash(account)
        self._realised = ledger.realised_pnl(account)
        self._held_at = self._trades


def _marked(
    held: dict[str, tuple[Decimal, Decimal]], marks: dict[str, Decimal], marked: dict[str, str]
) -> tuple[Decimal, Decimal, dict[str, object]]:
    """Market value, open-lot cost and ``{symbol: [shares, mark]}`` of one book's holdings."""
    market_value = sum((q * marks[s] for s, (q, _) in held.items()), ZERO)
    open_cost = sum((cost for _, cost in held.values()), ZERO)
    return market_value, open_cost, {s: [str(q), marked[s]] for s, (q, _) in held.items()}


def _valuation(panel: Panel, price_field: str | None) -> tuple[str, np.ndarray]:
    if price_field is None:
        return panel.prices()
    if price_field == "close" and "close" in panel.fields:
        return "close", panel["close"]
    raise TradingError(f"price field must be the backtest's or close, got {price_field!r}")


SHARE_STEP = MONEY_TICK
"""Fractional quantities are cut to this many shares (the money scale they are stored at)."""


def _shares(quantity: float) -> Decimal | None:
    if not quantity > 0.0:
        return None
    shares = Decimal(repr(float(quantity))).quantize(SHARE_STEP, ROUND_DOWN)
    return shares if shares > ZERO else None


def _exact(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(repr(float(value)))


def _bar_times(dates: np.ndarray) -> list[datetime]:
    """Each bar's moment: daily bars at 21:00 UTC of their session, intraday bars as stamped."""
    index = pd.DatetimeIndex(dates)
    daily = bool((index == index.normalize()).all())
    if daily:
        index = index + timedelta(hours=SESSION_CLOSE_UTC.hour)
    return [moment.to_pydatetime() for moment in index.tz_localize(UTC)]


__all__ = ["PanelPrices", "PaperRunner"]

if TYPE_CHECKING:  # mypy proves the runner is a whole StrategyContext
    from quantdesk.strategies.base import StrategyContext

    _RUNNER_IS_A_STRATEGY_CONTEXT: type[StrategyContext] = PaperRunner
