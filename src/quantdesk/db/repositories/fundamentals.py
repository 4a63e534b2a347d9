"""Quarterly earnings rows (point-in-time by ``report_date``)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Connection, select, text

from quantdesk.data.ports import EARNINGS_COLUMNS
from quantdesk.db.repositories._values import optional_date, optional_float, optional_text
from quantdesk.db.tables import Fundamental, Instrument

_REFRESHED = ("fiscal_period_end", "release_time", "eps", "eps_estimate", "source")


def upsert_earnings(
    connection: Connection, frame: pd.DataFrame, ids: dict[str, int], source: str
) -> int:
    """Insert or refresh earnings rows keyed by (symbol, report_date); returns the rows really
    written (inserted, or updated because a value differs), never a driver's -1."""
    if frame.empty:
        return 0
    rows = [
        {
            "instrument_id": ids[str(r.symbol)],
            "fiscal_period_end": optional_date(r.fiscal_period_end),
            "report_date": optional_date(r.report_date),
            "release_time": optional_text(r.release_time),
            "eps": optional_float(r.eps),
            "eps_estimate": optional_float(r.eps_estimate),
            "source": source,
        }
        for r in frame.itertuples(index=False)
    ]
    changed = " OR ".join(
        f"fundamentals.{c} IS DISTINCT FROM excluded.{c}"
        if connection.dialect.name == "postgresql"
        else f"fundamentals.{c} IS NOT excluded.{c}"
        for c in _REFRESHED
    )
    statement = text(
        f"INSERT INTO fundamentals (instrument_id, {', '.join(_REFRESHED)}, report_date) "
        f"VALUES (:instrument_id, {', '.join(':' + c for c in _REFRESHED)}, :report_date) "
        "ON CONFLICT (instrument_id, report_date) DO UPDATE SET "
        f"{', '.join(f'{c} = excluded.{c}' for c in _REFRESHED)} WHERE {changed}"
    )
    if connection.dialect.name == "postgresql":
        return max(int(connection.execute(statement, rows).rowcount), 0)
    # pysqlite reports no row count for executemany of an upsert; its change counter is exact
    raw: Any = connection.connection.driver_connection
    before = raw.total_changes
    connection.execute(statement, rows)
    return int(raw.total_changes - before)


def load_earnings(connection: Connection, symbols: list[str] | None = None) -> pd.DataFrame:
    """Earnings frame (see :mod:`quantdesk.data.ports`) sorted by symbol and report date."""
    table = Fundamental.__table__
    query = select(
        Instrument.symbol,
        table.c.fiscal_period_end,
        table.c.report_date,
        table.c.release_time,
        table.c.eps,
        table.c.eps_estimate,
    ).join(Instrument, Instrument.id == table.c.instrument_id)
    if symbols is not None:
        query = query.where(Instrument.symbol.in_(symbols))
    frame = pd.DataFrame(connection.execute(query).all(), columns=list(EARNINGS_COLUMNS))
    for column in ("fiscal_period_end", "report_date"):
        frame[column] = pd.to_datetime(frame[column])
    for column in ("eps", "eps_estimate"):
        frame[column] = frame[column].astype("float64")
    return frame.sort_values(["symbol", "report_date"], ignore_index=True)
