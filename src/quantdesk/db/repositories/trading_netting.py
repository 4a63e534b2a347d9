"""Stored netting of strategy books: allocations of netted broker orders and internal crosses.

An allocation says which strategies wanted how many shares of a netted broker order; the stored
executions of that order stay exactly as the broker reported them and are split when read
(:func:`quantdesk.db.repositories.orders.executions`). Internal crosses are fills between two
strategy books of one account that never reached the broker. Every function takes an open
:class:`~sqlalchemy.Connection`; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import Connection, insert, select

from quantdesk.core.enums import Side
from quantdesk.db.repositories._executemany import executemany
from quantdesk.db.repositories._utc import utc
from quantdesk.db.tables import InternalCross, OrderAllocation
from quantdesk.execution import Fill
from quantdesk.execution.attribution import Allocation


def insert_allocations(
    connection: Connection, account_id: str, allocations: Sequence[Allocation]
) -> None:
    rows = [
        {
            "account_id": account_id,
            "client_order_id": allocation.client_order_id,
            "seq": seq,
            "strategy": strategy,
            "quantity": quantity,
        }
        for allocation in allocations
        for seq, (strategy, quantity) in enumerate(allocation.wants)
    ]
    if rows:
        executemany(connection, insert(OrderAllocation), rows)


def allocations(connection: Connection, account_id: str) -> dict[str, Allocation]:
    """Every allocation of the account, by client order id."""
    wants: dict[str, list[tuple[str, Decimal]]] = {}
    for row in connection.execute(
        select(OrderAllocation.client_order_id, OrderAllocation.strategy, OrderAllocation.quantity)
        .where(OrderAllocation.account_id == account_id)
        .order_by(OrderAllocation.client_order_id, OrderAllocation.seq)
    ).all():
        wants.setdefault(row.client_order_id, []).append((row.strategy, row.quantity))
    return {cid: Allocation(cid, tuple(w)) for cid, w in wants.items()}


def insert_crosses(
    connection: Connection, account_id: str, portfolio_id: int, crosses: Sequence[Fill]
) -> None:
    rows = [
        {
            "account_id": account_id,
            "execution_id": str(f.fill_id),
            "cross_id": str(f.client_order_id),
            "portfolio_id": portfolio_id,
            "strategy": f.strategy,
            "symbol": f.symbol,
            "side": str(f.side),
            "quantity": f.quantity,
            "price": f.price,
            "filled_at": utc(f.filled_at),
        }
        for f in crosses
    ]
    if rows:
        executemany(connection, insert(InternalCross), rows)


def crosses(connection: Connection, account_id: str, portfolio_id: int | None = None) -> list[Fill]:
    """Internal cross fills (no commission), oldest first."""
    query = select(InternalCross).where(InternalCross.account_id == account_id)
    if portfolio_id is not None:
        query = query.where(InternalCross.portfolio_id == portfolio_id)
    return [
        Fill(
            fill_id=r.execution_id,
            client_order_id=r.cross_id,
            symbol=r.symbol,
            side=Side(r.side),
            quantity=r.quantity,
            price=r.price,
            commission=Decimal(0),
            filled_at=utc(r.filled_at),
            account=account_id,
            strategy=r.strategy,
        )
        for r in connection.execute(query.order_by(InternalCross.id)).all()
    ]
