"""Index membership history (survivorship-free universes)."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, delete, insert, select

from quantdesk.db.repositories._values import optional_date, optional_text
from quantdesk.db.tables import IndexMembership


def replace_membership(connection: Connection, index_name: str, frame: pd.DataFrame) -> int:
    """Replace the whole history of ``index_name`` with ``frame``'s rows
    (columns symbol, name, start_date, end_date)."""
    connection.execute(delete(IndexMembership).where(IndexMembership.index_name == index_name))
    rows = [
        {
            "index_name": index_name,
            "symbol": str(r.symbol),
            "name": optional_text(r.name),
            "start_date": optional_date(r.start_date),
            "end_date": optional_date(r.end_date),
        }
        for r in frame.itertuples(index=False)
    ]
    if rows:
        connection.execute(insert(IndexMembership), rows)
    return len(rows)


def load_membership(connection: Connection, index_name: str) -> pd.DataFrame:
    table = IndexMembership.__table__
    query = select(table.c.symbol, table.c.name, table.c.start_date, table.c.end_date).where(
        table.c.index_name == index_name
    )
    frame = pd.DataFrame(
        connection.execute(query).all(), columns=["symbol", "name", "start_date", "end_date"]
    )
    for column in ("start_date", "end_date"):
        frame[column] = pd.to_datetime(frame[column])
    return frame


def index_names(connection: Connection) -> list[str]:
    table = IndexMembership.__table__
    return list(connection.execute(select(table.c.index_name).distinct()).scalars())
