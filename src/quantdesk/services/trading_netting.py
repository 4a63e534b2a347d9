"""Several strategy books of one portfolio rebalanced as one netted batch.

Each strategy book plans its own trade list against its own cash and positions (the shared
targets → trades rule of :func:`quantdesk.services.trading_orders.rebalance`). The trades become
intents for the :class:`~quantdesk.execution.netting.NettingDesk`: per symbol, opposite intents
cross internally (booked to both books, never sent), the net goes to the broker as one order
whose fills the ledger splits back to the books that wanted them.

Saving, in this order: (1) our intent — the allocations of the net orders, the internal crosses
and the client-order-id sequence — in one transaction, *before* the broker's book is saved; then
(2) the broker's book and (3) our orders, events and executions
(:meth:`~quantdesk.services.trading_session.PortfolioSession.save`). A crash after (2) leaves
the broker ahead of us: reconciliation adopts the missed fills, and because the allocation was
stored first the ledger attributes them to the right books. A crash between (1) and (2) leaves
crosses booked and a net order the broker never saw: each book is then partly rebalanced, the
books still sum to the account, and the next rebalance finishes the job.
"""

from __future__ import annotations

from collections.abc import Mapping

from quantdesk.core.enums import Side
from quantdesk.db.repositories import trading as trading_repo
from quantdesk.db.repositories import trading_netting as netting_repo
from quantdesk.execution import CostModel, OrderError
from quantdesk.execution.netting import Intent, NettingDesk
from quantdesk.services import trading_orders
from quantdesk.services.trading_session import PortfolioSession, PriceBook, TcaPrices
from quantdesk.services.trading_types import (
    BooksRebalanceResult,
    CrossView,
    RebalanceResult,
    TradingError,
)


def attach(session: PortfolioSession) -> None:
    """Teach the session's ledger the stored allocations of netted orders, so fills adopted by
    reconciliation are attributed like those booked live."""
    with session.db.read() as connection:
        stored = netting_repo.allocations(connection, session.account)
    for allocation in stored.values():
        session.ledger.allocate(session.account, allocation)


def rebalance_books(
    session: PortfolioSession,
    targets: Mapping[str, Mapping[str, float]],
    source: str,
    threshold: float,
    execute: bool,
    costs: CostModel,
) -> BooksRebalanceResult:
    """Plan every book's trades to its ``targets`` (book → symbol → weight, fractions of that
    book's equity); with ``execute``, send them netted as one batch (see module doc)."""
    if not targets:
        raise TradingError("give the target weights of at least one strategy book")
    for book in targets:
        if book != book.strip() or any(c.isspace() for c in book):
            raise TradingError(f"strategy book names are one word, got {book!r}")
    from quantdesk.services.trading_replay import ensure_funded

    for book, weights in targets.items():  # a book to buy into needs something to spend
        if any(weight > 0 for weight in weights.values()):
            ensure_funded(session, book)
    prices = session.prices
    if isinstance(prices, PriceBook):
        prices.preload(sorted({s for weights in targets.values() for s in weights}))
    plans: list[RebalanceResult] = [
        trading_orders.rebalance(session, weights, source, threshold, False, costs, strategy=book)
        for book, weights in targets.items()
    ]
    result = BooksRebalanceResult(
        portfolio=session.portfolio.name,
        source=source,
        as_of=session.clock.now().date(),
        books=tuple(plans),
        executed=False,
    )
    intents = [
        Intent(book, trade.symbol, trade.side, trade.quantity)
        for book, plan in zip(targets, plans, strict=True)
        for trade in plan.trades
    ]
    if not execute or not intents:
        return result
    intents.sort(key=lambda intent: intent.side is Side.BUY)  # sells first, stable otherwise
    desk = NettingDesk(session.manager, session.clock, prices=prices, costs=costs)
    try:
        batch = desk.submit(intents)
    except OrderError as error:
        text = str(error)
        raise TradingError(
            text if "nothing was sent" in text else f"{text}; nothing was sent"
        ) from None
    now = session.clock.now()
    decisions = {t.symbol: t.price for plan in plans for t in plan.trades}
    for order in batch.orders:
        price = decisions.get(order.symbol)
        session.tca[order.client_order_id] = TcaPrices(price, now, price)
    for book, plan in zip(targets, plans, strict=True):
        # the positions cache lists every symbol a book has traded
        session.traded.setdefault(book, set()).update(t.symbol for t in plan.trades)
    for fill in batch.crosses:
        session.traded.setdefault(fill.strategy, set()).add(fill.symbol)
    with session.db.transaction() as connection:
        for book in targets:
            trading_repo.ensure_strategy(connection, session.portfolio.id, book, now)
        netting_repo.insert_allocations(connection, session.account, batch.allocations)
        netting_repo.insert_crosses(
            connection, session.account, session.portfolio.id, batch.crosses
        )
        last = max(
            session.manager.ids.last, trading_repo.last_order_seq(connection, session.account)
        )
        trading_repo.set_last_order_seq(connection, session.account, last)
    session.save()
    orders = trading_orders.order_views(session, batch.orders)
    crosses = tuple(
        CrossView(str(f.client_order_id), f.strategy, f.symbol, str(f.side), f.quantity, f.price)
        for f in batch.crosses
    )
    return BooksRebalanceResult(
        portfolio=result.portfolio,
        source=source,
        as_of=result.as_of,
        books=result.books,
        executed=True,
        crosses=crosses,
        orders=tuple(orders),
    )
