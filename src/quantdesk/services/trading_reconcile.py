"""Reconciliation: make our records agree with the broker's, boringly.

Run at the start of every trading session and on demand. Against the broker's executions, open
orders, positions and cash:

1. an execution we have not stored is adopted: its order's events (accepted, filled) are appended
   and the fill booked — by execution id, so adopting twice changes nothing;
2. an order the broker knows and we do not (we crashed after the broker acted) is adopted with
   its fills, when the account trades for this portfolio alone; otherwise it is flagged;
3. an order we think is working that the broker no longer works and never filled further is
   closed (expired at the broker);
4. positions and cash that still differ after that are flagged, never silently overwritten.

The id sequence moves past every id the broker has seen, so no id is ever reused.
"""

from __future__ import annotations

from decimal import Decimal

from quantdesk.core.enums import Side
from quantdesk.db.repositories import trading as trading_repo
from quantdesk.execution import (
    Fill,
    Order,
    OrderAccepted,
    OrderExpired,
    OrderFilled,
    OrderStatus,
    OrderSubmitted,
    OrderType,
    TimeInForce,
)
from quantdesk.services.trading_session import PortfolioSession
from quantdesk.services.trading_types import Discrepancy, ReconcileReport

ZERO = Decimal(0)


def reconcile(session: PortfolioSession) -> ReconcileReport:
    """Bring ``session`` in line with its broker and save what changed (see module doc)."""
    manager, broker, account = session.manager, session.broker, session.account
    with session.db.read() as connection:
        sharing = len(trading_repo.portfolios_of_account(connection, account)) > 1
    fills_by_order: dict[str, list[Fill]] = {}
    for fill in broker.executions_since(None):
        fills_by_order.setdefault(str(fill.client_order_id), []).append(fill)
    broker_open = {o.client_order_id: o for o in broker.open_orders()}
    adopted_orders: list[str] = []
    adopted_fills: list[str] = []
    discrepancies: list[Discrepancy] = []
    now = session.clock.now()
    events_before, last_before = len(manager.events), manager.ids.last

    for cid in sorted(set(fills_by_order) | set(broker_open), key=_sequence):
        fills = fills_by_order.get(cid, [])
        order = manager.orders.get(cid)
        if order is None:
            if sharing:
                discrepancies.append(
                    Discrepancy(
                        "order_unknown_to_us", cid, "none", _describe(broker_open, fills, cid)
                    )
                )
                continue
            created = broker_open.get(cid) or _order_from_fills(cid, fills, account)
            manager.restore([_new(created)])
            manager.on_event(OrderSubmitted(cid, created.created_at or now))
            adopted_orders.append(cid)
            order = manager.orders[cid]
        if order.status is OrderStatus.SUBMITTED:
            venue = broker_open[cid].venue_order_id if cid in broker_open else f"P{cid}"
            manager.on_event(OrderAccepted(cid, now, venue))
        for fill in fills:
            if str(fill.fill_id) not in manager.orders[cid].fill_ids:
                manager.on_event(OrderFilled(cid, fill.filled_at, fill))
                adopted_fills.append(str(fill.fill_id))

    closed: list[str] = []
    for cid, order in list(manager.orders.items()):
        if order.status.is_working and cid not in broker_open:
            manager.on_event(OrderExpired(cid, now, "no longer working at the broker"))
            closed.append(cid)

    last = max((_sequence(cid) for cid in set(fills_by_order) | set(broker_open)), default=0)
    if last > manager.ids.last:
        manager.ids = type(manager.ids)(manager.ids.prefix, last)

    if not sharing:
        discrepancies.extend(_compare_books(session))
    if len(manager.events) > events_before or manager.ids.last != last_before:
        session.save_records()  # otherwise nothing was adopted or closed: nothing to write
    return ReconcileReport(
        account=account,
        adopted_orders=tuple(adopted_orders),
        adopted_fills=tuple(adopted_fills),
        closed_orders=tuple(closed),
        discrepancies=tuple(discrepancies),
    )


def _compare_books(session: PortfolioSession) -> list[Discrepancy]:
    out: list[Discrepancy] = []
    ours = session.ledger.positions(session.account)
    theirs = dict(session.broker.positions())
    for symbol in sorted(set(ours) | set(theirs)):
        mine, broker = ours.get(symbol, ZERO), theirs.get(symbol, ZERO)
        if mine != broker:
            out.append(Discrepancy("position", symbol, str(mine), str(broker)))
    cash, broker_cash = session.ledger.cash(session.account), session.broker.cash
    if cash != broker_cash:
        out.append(Discrepancy("cash", session.account, str(cash), str(broker_cash)))
    return out


def _sequence(client_order_id: str) -> int:
    tail = client_order_id.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _new(order: Order) -> Order:
    from dataclasses import replace

    return replace(
        order,
        status=OrderStatus.NEW,
        filled_quantity=ZERO,
        average_fill_price=None,
        fill_ids=(),
        venue_order_id="",
    )


def _order_from_fills(cid: str, fills: list[Fill], account: str) -> Order:
    first = fills[0]
    return Order(
        client_order_id=cid,
        symbol=first.symbol,
        side=Side(first.side),
        quantity=sum((f.quantity for f in fills), ZERO),
        order_type=OrderType.MARKET,
        time_in_force=TimeInForce.DAY,
        strategy=first.strategy,
        created_at=first.filled_at,
        account=account,
    )


def _describe(open_orders: dict[str, Order], fills: list[Fill], cid: str) -> str:
    if cid in open_orders:
        o = open_orders[cid]
        return f"working {o.side} {o.quantity} {o.symbol}"
    shares = sum((f.quantity for f in fills), ZERO)
    return f"filled {fills[0].side} {shares} {fills[0].symbol}"
