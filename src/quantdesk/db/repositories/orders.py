"""Stored orders, their append-only event log and executions (fills).

An order is stored as created (its NEW value) plus its events; :func:`load_orders` replays them
(:func:`quantdesk.execution.replay`), so the state after a restart is exactly the state the log
describes. The cached ``status`` / ``filled_quantity`` columns serve listings only. Executions are
unique per (account, execution id): :func:`insert_executions` skips ids already stored, so
adopting a re-delivered fill is a no-op.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from quantdesk.core.enums import Side
from quantdesk.db.repositories._executemany import executemany
from quantdesk.db.repositories._utc import utc
from quantdesk.db.tables import Execution, OrderEventRow, TradingOrder
from quantdesk.execution import (
    Fill,
    Order,
    OrderAccepted,
    OrderCancelled,
    OrderCancelRejected,
    OrderCancelRequested,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderModifyRejected,
    OrderModifyRequested,
    OrderRejected,
    OrderReplaced,
    OrderSubmitted,
    OrderType,
    TimeInForce,
    replay,
)
from quantdesk.execution.attribution import split_fill

_EVENT_TYPES: dict[str, type[Any]] = {
    str(cls.kind): cls
    for cls in (
        OrderSubmitted,
        OrderAccepted,
        OrderRejected,
        OrderFilled,
        OrderCancelRequested,
        OrderCancelRejected,
        OrderCancelled,
        OrderExpired,
        OrderModifyRequested,
        OrderModifyRejected,
        OrderReplaced,
    )
}
_DECIMAL_FIELDS = frozenset({"quantity", "limit_price", "stop_price", "price", "commission"})
_FIXED = frozenset({"client_order_id", "at", "kind"})


@dataclass(frozen=True, slots=True)
class NewOrder:
    """An order to store (NEW) with the prices transaction-cost analysis measures against."""

    order: Order
    decision_price: Decimal | None = None
    decided_at: datetime | None = None
    arrival_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class StoredOrder:
    """An order replayed from its log, with its portfolio, batch and TCA prices."""

    id: int
    portfolio_id: int
    batch_id: str | None
    order: Order
    events: tuple[OrderEvent, ...]
    decision_price: Decimal | None
    decided_at: datetime | None
    arrival_price: Decimal | None
    created: Order | None = None  # the order as created (NEW), before its events


# -- event (de)serialisation -------------------------------------------------------------------
def event_payload(event: OrderEvent) -> dict[str, object]:
    """The JSON-safe fields of ``event`` beyond its order, time and kind."""
    kind: type = type(event)
    return {name: _encode(getattr(event, name)) for name in _payload_fields(kind)}


@cache
def _payload_fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls) if f.name not in _FIXED)


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def decode_event(
    kind: str, client_order_id: str, at: datetime, payload: Mapping[str, Any]
) -> OrderEvent:
    cls = _EVENT_TYPES[kind]
    values: dict[str, Any] = {}
    for name, raw in payload.items():
        if name == "fill":
            values[name] = _decode_fill(raw)
        elif name in _DECIMAL_FIELDS:
            values[name] = None if raw is None else Decimal(raw)
        else:
            values[name] = raw
    event: OrderEvent = cls(client_order_id=client_order_id, at=at, **values)
    return event


def _encode(value: object) -> object:
    if isinstance(value, Fill):
        return {name: _encode(getattr(value, name)) for name in _field_names(Fill)}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return utc(value).isoformat()
    return value


def _decode_fill(raw: Mapping[str, Any]) -> Fill:
    return Fill(
        fill_id=raw["fill_id"],
        client_order_id=raw["client_order_id"],
        symbol=raw["symbol"],
        side=Side(raw["side"]),
        quantity=Decimal(raw["quantity"]),
        price=Decimal(raw["price"]),
        commission=Decimal(raw["commission"]),
        filled_at=utc(datetime.fromisoformat(raw["filled_at"])),
        account=raw.get("account", ""),
        strategy=raw.get("strategy", ""),
    )


# -- writes ------------------------------------------------------------------------------------
def insert_orders(
    connection: Connection,
    portfolio_id: int,
    orders: Sequence[NewOrder],
    batch_id: str | None = None,
) -> dict[str, int]:
    """Store NEW orders; returns their row ids by client order id."""
    if not orders:
        return {}
    rows = []
    for new in orders:
        o = new.order
        rows.append(
            {
                "account_id": o.account,
                "client_order_id": o.client_order_id,
                "portfolio_id": portfolio_id,
                "batch_id": batch_id,
                "strategy": o.strategy,
                "symbol": o.symbol,
                "side": str(o.side),
                "quantity": o.quantity,
                "order_type": str(o.order_type),
                "time_in_force": str(o.time_in_force),
                "limit_price": o.limit_price,
                "stop_price": o.stop_price,
                "tag": o.tag,
                "created_at": utc(o.created_at),
                "decision_price": new.decision_price,
                "decided_at": utc(new.decided_at),
                "arrival_price": new.arrival_price,
                "status": str(o.status),
                "filled_quantity": o.filled_quantity,
                "average_fill_price": o.average_fill_price,
                "venue_order_id": o.venue_order_id,
            }
        )
    executemany(connection, insert(TradingOrder), rows)
    account = orders[0].order.account
    return _order_ids(connection, account, [new.order.client_order_id for new in orders])


def append_events(
    connection: Connection,
    account_id: str,
    events: Sequence[OrderEvent],
    states: Mapping[str, Order],
) -> int:
    """Append ``events`` (in order) to their orders' logs and cache each order's ``states``.

    Returns the number of events written. Orders must be stored already.
    """
    if not events:
        return 0
    client_ids = sorted({str(e.client_order_id) for e in events} | set(states))
    order_ids = _order_ids(connection, account_id, client_ids)
    next_seq = dict(
        connection.execute(
            select(OrderEventRow.order_id, func.max(OrderEventRow.seq) + 1)
            .where(OrderEventRow.order_id.in_(list(order_ids.values())))
            .group_by(OrderEventRow.order_id)
        ).all()
    )
    rows = []
    for event in events:
        order_id = order_ids[str(event.client_order_id)]
        seq = next_seq.get(order_id, 0)
        next_seq[order_id] = seq + 1
        rows.append(
            {
                "order_id": order_id,
                "seq": seq,
                "kind": str(event.kind),
                "at": utc(event.at),
                "payload": event_payload(event),
            }
        )
    executemany(connection, insert(OrderEventRow), rows)
    if states:
        executemany(
            connection,
            update(TradingOrder)
            .where(TradingOrder.id == bindparam("row_id"))
            .values(
                status=bindparam("new_status"),
                filled_quantity=bindparam("new_filled"),
                average_fill_price=bindparam("new_average"),
                venue_order_id=bindparam("new_venue"),
            ),
            [
                {
                    "row_id": order_ids[client_id],
                    "new_status": str(order.status),
                    "new_filled": order.filled_quantity,
                    "new_average": order.average_fill_price,
                    "new_venue": order.venue_order_id,
                }
                for client_id, order in states.items()
            ],
        )
    return len(rows)


def insert_executions(
    connection: Connection, account_id: str, portfolio_id: int, fills: Iterable[Fill]
) -> list[Fill]:
    """Store the fills whose execution id the account has not stored yet; returns those."""
    fills = list(fills)
    if not fills:
        return []
    known = set(
        connection.execute(
            select(Execution.execution_id).where(
                Execution.account_id == account_id,
                Execution.execution_id.in_([str(f.fill_id) for f in fills]),
            )
        ).scalars()
    )
    order_ids = _order_ids(connection, account_id, sorted({str(f.client_order_id) for f in fills}))
    new: list[Fill] = []
    for fill in fills:
        if str(fill.fill_id) in known:
            continue
        known.add(str(fill.fill_id))
        new.append(fill)
    if new:
        executemany(
            connection,
            insert(Execution),
            [
                {
                    "account_id": account_id,
                    "execution_id": str(f.fill_id),
                    "order_id": order_ids[str(f.client_order_id)],
                    "portfolio_id": portfolio_id,
                    "strategy": f.strategy,
                    "symbol": f.symbol,
                    "side": str(f.side),
                    "quantity": f.quantity,
                    "price": f.price,
                    "commission": f.commission,
                    "filled_at": utc(f.filled_at),
                }
                for f in new
            ],
        )
    return new


# -- reads -------------------------------------------------------------------------------------
def load_orders(
    connection: Connection,
    account_id: str,
    portfolio_id: int | None = None,
    client_order_ids: Sequence[str] | None = None,
) -> list[StoredOrder]:
    """Orders of the account (optionally one portfolio's) rebuilt by replaying their logs."""
    query = select(TradingOrder).where(TradingOrder.account_id == account_id)
    if portfolio_id is not None:
        query = query.where(TradingOrder.portfolio_id == portfolio_id)
    if client_order_ids is not None:
        query = query.where(TradingOrder.client_order_id.in_(list(client_order_ids)))
    rows = connection.execute(query.order_by(TradingOrder.id)).all()
    if not rows:
        return []
    events: dict[int, list[OrderEvent]] = {row.id: [] for row in rows}
    by_id = {row.id: row for row in rows}
    event_rows = connection.execute(
        select(OrderEventRow)
        .where(OrderEventRow.order_id.in_(list(events)))
        .order_by(OrderEventRow.order_id, OrderEventRow.seq)
    ).all()
    for e in event_rows:
        events[e.order_id].append(
            decode_event(e.kind, by_id[e.order_id].client_order_id, utc(e.at), e.payload)
        )
    out = []
    for row in rows:
        created = Order(
            client_order_id=row.client_order_id,
            symbol=row.symbol,
            side=Side(row.side),
            quantity=row.quantity,
            order_type=OrderType(row.order_type),
            time_in_force=TimeInForce(row.time_in_force),
            limit_price=row.limit_price,
            stop_price=row.stop_price,
            strategy=row.strategy,
            tag=row.tag,
            created_at=utc(row.created_at),
            account=row.account_id,
        )
        log = tuple(events[row.id])
        out.append(
            StoredOrder(
                id=row.id,
                portfolio_id=row.portfolio_id,
                batch_id=row.batch_id,
                order=replay(created, log),
                events=log,
                decision_price=row.decision_price,
                decided_at=utc(row.decided_at),
                arrival_price=row.arrival_price,
                created=created,
            )
        )
    return out


def cached_status(connection: Connection, account_id: str) -> dict[str, str]:
    """The status column of every order of the account (for checks against a replay)."""
    return dict(
        connection.execute(
            select(TradingOrder.client_order_id, TradingOrder.status).where(
                TradingOrder.account_id == account_id
            )
        ).all()
    )


def broker_executions(
    connection: Connection, account_id: str, portfolio_id: int | None = None
) -> list[Fill]:
    """Stored fills exactly as the broker reported them, oldest first (a netted order's fill
    carries the order's own strategy here, see :func:`executions`)."""
    query = (
        select(
            Execution.execution_id,
            Execution.symbol,
            Execution.side,
            Execution.quantity,
            Execution.price,
            Execution.commission,
            Execution.filled_at,
            Execution.strategy,
            TradingOrder.client_order_id,
        )
        .join(TradingOrder, TradingOrder.id == Execution.order_id)
        .where(Execution.account_id == account_id)
    )
    if portfolio_id is not None:
        query = query.where(Execution.portfolio_id == portfolio_id)
    rows = connection.execute(query.order_by(Execution.id)).all()
    return [
        Fill(
            fill_id=r.execution_id,
            client_order_id=r.client_order_id,
            symbol=r.symbol,
            side=Side(r.side),
            quantity=r.quantity,
            price=r.price,
            commission=r.commission,
            filled_at=utc(r.filled_at),
            account=account_id,
            strategy=r.strategy,
        )
        for r in rows
    ]


def executions(
    connection: Connection, account_id: str, portfolio_id: int | None = None
) -> list[Fill]:
    """Stored fills, oldest first, each booked to its strategy: what the ledger replays.

    A netted broker order's fills are split between the strategies of its allocation
    (:func:`quantdesk.execution.attribution.split_fill`, so the parts are those booked when the
    fill arrived), and the internal crosses are merged in by time, then by the sequence of the
    order or cross id (the order a batch booked them in: a symbol's cross before its net order).
    """
    from quantdesk.db.repositories import trading_netting

    raw = broker_executions(connection, account_id, portfolio_id)
    crossed = trading_netting.crosses(connection, account_id, portfolio_id)
    if not crossed and not raw:
        return []
    allocated = trading_netting.allocations(connection, account_id) if raw else {}
    booked: list[tuple[datetime, int, int, Fill]] = [
        (f.filled_at, _sequence(str(f.client_order_id)), k, f) for k, f in enumerate(crossed)
    ]
    for k, fill in enumerate(raw, start=len(crossed)):
        allocation = allocated.get(str(fill.client_order_id))
        parts = [fill] if allocation is None else split_fill(fill, allocation)
        seq = _sequence(str(fill.client_order_id))
        booked.extend((fill.filled_at, seq, k, part) for part in parts)
    booked.sort(key=lambda item: (item[0], item[1], item[2]))
    return [fill for _, _, _, fill in booked]


def _sequence(client_order_id: str) -> int:
    """The sequence number in ``f"{account}-{seq}"`` (or a cross's ``…-{seq}-cross``)."""
    tail = client_order_id.removesuffix("-cross").rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _order_ids(
    connection: Connection, account_id: str, client_ids: Sequence[str]
) -> dict[str, int]:
    found = dict(
        connection.execute(
            select(TradingOrder.client_order_id, TradingOrder.id).where(
                TradingOrder.account_id == account_id,
                TradingOrder.client_order_id.in_(list(client_ids)),
            )
        ).all()
    )
    missing = sorted(set(client_ids) - set(found))
    if missing:
        raise KeyError(f"account {account_id!r} has no stored order(s) {missing[:5]}")
    return {str(k): int(v) for k, v in found.items()}
