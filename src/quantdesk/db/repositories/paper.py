"""The paper venue's persisted book: its small state document and its append-only executions.

Every function takes an open :class:`~sqlalchemy.Connection`; the caller owns the transaction
(the state and the executions it describes are written in one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import Connection, insert, select

from quantdesk.core.enums import Side
from quantdesk.db.repositories._executemany import executemany
from quantdesk.db.repositories._utc import utc
from quantdesk.db.repositories.trading import load_broker_state, save_broker_state
from quantdesk.db.tables import PaperExecution
from quantdesk.execution import Fill


def save(
    connection: Connection,
    account_id: str,
    state: Mapping[str, object],
    executions: Sequence[Fill],
    at: datetime,
) -> None:
    """Write the venue's state document and append its new ``executions``."""
    save_broker_state(connection, account_id, state, at)
    if executions:
        executemany(
            connection,
            insert(PaperExecution),
            [
                {
                    "account_id": account_id,
                    "execution_id": str(f.fill_id),
                    "client_order_id": str(f.client_order_id),
                    "strategy": f.strategy,
                    "symbol": f.symbol,
                    "side": str(f.side),
                    "quantity": f.quantity,
                    "price": f.price,
                    "commission": f.commission,
                    "filled_at": utc(f.filled_at),
                }
                for f in executions
            ],
        )


def load(connection: Connection, account_id: str) -> tuple[dict[str, object] | None, list[Fill]]:
    """The venue's state document (``None`` before its first save) and every execution,
    oldest first."""
    rows = connection.execute(
        select(
            PaperExecution.execution_id,
            PaperExecution.client_order_id,
            PaperExecution.symbol,
            PaperExecution.side,
            PaperExecution.quantity,
            PaperExecution.price,
            PaperExecution.commission,
            PaperExecution.filled_at,
            PaperExecution.strategy,
        )
        .where(PaperExecution.account_id == account_id)
        .order_by(PaperExecution.id)
    ).all()
    fills = [
        Fill(
            fill_id=row.execution_id,
            client_order_id=row.client_order_id,
            symbol=row.symbol,
            side=Side(row.side),
            quantity=row.quantity,
            price=row.price,
            commission=row.commission,
            filled_at=utc(row.filled_at),
            account=account_id,
            strategy=row.strategy,
        )
        for row in rows
    ]
    return load_broker_state(connection, account_id), fills


__all__ = ["load", "save"]
