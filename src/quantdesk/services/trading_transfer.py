"""Cash and holdings moved between two strategy books of one portfolio.

A transfer changes who owns what inside the account, never the account: nothing reaches the
broker, and the portfolio's cash, positions, equity and time-weighted return stay as they were.
For the books it is a flow: ``value`` leaves the source book's returns and enters the target's,
as a withdrawal and a deposit do, so neither book's return counts it.

Stored with what the tables already express, in one transaction:

* **cash**: two cash flows of the portfolio, ``−amount`` on the source book and ``+amount`` on
  the target (their sum, the portfolio's flow, is zero);
* **holdings**: an internal cross at the latest close known at the transfer (the source book
  sells, the target buys; no commission, no slippage, as the netting desk crosses two books'
  opposite trades: :func:`quantdesk.execution.netting.cross_fill`), plus the two cash flows of
  its value, so the target pays nothing and the source is paid nothing: the shares move in
  kind. The source realises its P&L on them at that close and the target's cost is that close.

The flows are stamped a microsecond after the cross: the ledger replays flows before fills of
the same moment, and the source's withdrawal of a holding's value needs the cross's proceeds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, ROUND_UP, Decimal

from sqlalchemy import Connection

from quantdesk.core.enums import Side
from quantdesk.core.errors import NotFoundError, QuantdeskError
from quantdesk.db.repositories import trading as trading_repo
from quantdesk.db.repositories import trading_netting as netting_repo
from quantdesk.execution import Fill, Order
from quantdesk.execution.netting import cross_fill
from quantdesk.services.trading_session import PortfolioSession, PriceBook
from quantdesk.services.trading_types import TradingError, TransferResult, book_label

ZERO = Decimal(0)
STORED_PLACES = Decimal("1e-10")  # money and shares are stored to ten decimal places
FLOW_DELAY = timedelta(microseconds=1)
NewBook = Callable[[str], bool]


def transfer_cash(
    session: PortfolioSession, source: str, target: str, amount: Decimal, opens: NewBook
) -> TransferResult:
    """Move ``amount`` (> 0, currency) of cash from book ``source`` to book ``target``
    (``opens(name)``: whether a book the portfolio does not have yet may be opened)."""
    _check_books(session, source, target, opens)
    if not amount > ZERO or amount != amount.quantize(STORED_PLACES):
        raise TradingError(f"a transfer of cash must be > 0 with at most 10 decimals, got {amount}")
    now = session.clock.now()
    with session.db.transaction() as connection:
        session.hold(connection)
        check_cash_out(connection, session, source, amount, "transfer")
        _store_flows(connection, session, source, target, amount, _flow_time(now))
    return TransferResult(session.portfolio.name, source, target, now, amount)


def transfer_holding(
    session: PortfolioSession,
    source: str,
    target: str,
    symbol: str,
    quantity: Decimal | None,
    opens: NewBook,
) -> TransferResult:
    """Move ``quantity`` shares of ``symbol`` (all of them: ``None``) from book ``source`` to
    book ``target`` at the latest close known at the transfer (see module doc)."""
    _check_books(session, source, target, opens)
    account, name = session.account, session.portfolio.name
    held = session.ledger.position(account, source, symbol).quantity
    if held <= ZERO:
        raise TradingError(f"{book_label(source)} of portfolio {name!r} holds no {symbol}")
    shares = held if quantity is None else quantity
    if not shares > ZERO or shares != shares.quantize(STORED_PLACES):
        raise TradingError(
            f"a transfer of shares must be > 0 with at most 10 decimals, got {quantity}"
        )
    selling = _open_sells(session, source, symbol)
    if shares > held - selling:
        also = f" ({selling} of them wanted by its open sell orders)" if selling else ""
        raise TradingError(
            f"{book_label(source)} of portfolio {name!r} holds {held} {symbol}{also}; "
            f"cannot transfer {shares}"
        )
    prices = session.prices
    assert isinstance(prices, PriceBook)
    close = prices(symbol)
    day = prices.session_of(symbol)
    if close is None or day is None:
        raise TradingError(f"no close of {symbol!r} on or before {session.clock.now().date()}")
    price = close if close == close.quantize(STORED_PLACES) else close.quantize(STORED_PLACES)
    value = _flow_amount(session, source, shares * price)
    now = session.clock.now()
    cross_id = f"{session.manager.ids.next()}-cross"
    fills = (
        cross_fill(cross_id, account, source, symbol, Side.SELL, shares, price, now),
        cross_fill(cross_id, account, target, symbol, Side.BUY, shares, price, now),
    )
    _book(session, fills, source, target, value)
    with session.db.transaction() as connection:
        session.hold(connection)
        netting_repo.insert_crosses(connection, account, session.portfolio.id, fills)
        _store_flows(connection, session, source, target, value, _flow_time(now))
        trading_repo.replace_positions(connection, session.portfolio.id, session.stored_positions())
        last = max(session.manager.ids.last, trading_repo.last_order_seq(connection, account))
        trading_repo.set_last_order_seq(connection, account, last)
    return TransferResult(name, source, target, now, value, symbol, shares, price, day, cross_id)


def check_cash_out(
    connection: Connection, session: PortfolioSession, book: str, amount: Decimal, verb: str
) -> None:
    """Refuse taking ``amount`` of cash out of ``book`` (to ``verb``: withdraw, transfer) beyond
    its free cash: its cash less what its open buy orders hold back, as a broker's withdrawable
    cash does (an order resting at the broker may still fill)."""
    cash = session.ledger.cash(session.account, book)
    held_back = reserved_cash(session, book)
    if amount <= cash - held_back:
        return
    currency = trading_repo.account_currency(connection, session.account)
    reserved = f" ({held_back:,.2f} of it reserved by open buy orders)" if held_back else ""
    raise TradingError(
        f"{book_label(book)} of portfolio {session.portfolio.name!r} has {cash:,.2f} "
        f"{currency} cash{reserved}; cannot {verb} {amount:,.2f}"
    )


def reserved_cash(session: PortfolioSession, book: str) -> Decimal:
    """Cash that ``book``'s open buy orders hold back: their unfilled shares at the limit (or
    stop) price, else at the latest close, as the order manager's buying power counts them."""
    held = ZERO
    for order, shares in _open_wants(session, book, Side.BUY):
        price = order.limit_price or order.stop_price or session.prices(order.symbol) or ZERO
        held += shares * price
    return held


def _open_sells(session: PortfolioSession, book: str, symbol: str) -> Decimal:
    """Shares of ``symbol`` that ``book``'s open sell orders still want."""
    return sum((shares for _, shares in _open_wants(session, book, Side.SELL, symbol)), ZERO)


def _open_wants(
    session: PortfolioSession, book: str, side: Side, symbol: str | None = None
) -> Iterator[tuple[Order, Decimal]]:
    """Each open ``side`` order (of ``symbol``, or of any) with the unfilled shares of it that
    are ``book``'s: all of its own orders', its part of netted ones (pro rata to its
    allocation)."""
    ledger, account = session.ledger, session.account
    for order in session.manager.open_orders():
        if order.side is not side or symbol not in (None, order.symbol):
            continue
        left = order.quantity - order.filled_quantity
        allocation = ledger.allocation(account, order.client_order_id)
        if allocation is None:
            if order.strategy == book:
                yield order, left
        elif allocation.total > ZERO:
            mine = sum((q for s, q in allocation.wants if s == book), ZERO)
            if mine:
                yield order, left * mine / allocation.total


def _check_books(session: PortfolioSession, source: str, target: str, opens: NewBook) -> None:
    """Two different books; the source one the portfolio has, the target one it has or a
    registered strategy's (a new book, as a deposit opens one)."""
    if source == target:
        raise TradingError(f"a transfer needs two different books, got {book_label(source)} twice")
    with session.db.read() as connection:
        known = set(trading_repo.strategies(connection, session.portfolio.id))
    known |= set(session.ledger.strategies(session.account)) | {""}
    if source in known and (target in known or opens(target)):
        return
    missing = source if source not in known else target
    books = ", ".join(sorted(b or "unallocated" for b in known))
    raise NotFoundError(
        f"portfolio {session.portfolio.name!r} has no book {missing!r} (its books: {books})"
        + ("" if missing == source else " and no strategy is registered under that name")
    )


def _flow_amount(session: PortfolioSession, source: str, value: Decimal) -> Decimal:
    """``value`` to ten places: rounded up (the target keeps a crumb rather than owing one)
    unless the source's cash cannot give the crumb."""
    if value == value.quantize(STORED_PLACES):
        return value
    up = value.quantize(STORED_PLACES, rounding=ROUND_UP)
    if session.ledger.cash(session.account, source) >= up - value:
        return up
    return value.quantize(STORED_PLACES, rounding=ROUND_DOWN)


def _flow_time(now: datetime) -> datetime:
    """A microsecond after ``now`` (see module doc), unless that is the next UTC day."""
    later = now + FLOW_DELAY
    return later if later.date() == now.date() else now


def _book(
    session: PortfolioSession,
    fills: tuple[Fill, Fill],
    source: str,
    target: str,
    value: Decimal,
) -> None:
    """The cross and its flows in the session's ledger, in the order the replay books them
    (the positions cache is written from it)."""
    ledger, account = session.ledger, session.account
    for fill in fills:
        ledger.book(fill)
        session.traded.setdefault(fill.strategy, set()).add(fill.symbol)
    try:
        ledger.withdraw(account, value, source)
        ledger.deposit(account, value, target)
    except QuantdeskError as error:  # cannot happen after the checks: say so, write nothing
        raise TradingError(f"the transfer does not balance: {error}") from None


def _store_flows(
    connection: Connection,
    session: PortfolioSession,
    source: str,
    target: str,
    amount: Decimal,
    at: datetime,
) -> None:
    portfolio = session.portfolio.id
    trading_repo.ensure_strategy(connection, portfolio, target, at)
    trading_repo.insert_cash_flow(
        connection, portfolio, -amount, at, source, note=f"transfer to {book_label(target)}"
    )
    trading_repo.insert_cash_flow(
        connection, portfolio, amount, at, target, note=f"transfer from {book_label(source)}"
    )
