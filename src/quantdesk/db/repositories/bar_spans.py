"""How much bar data is stored, from primary-key seeks and the fetch log: what ``data status``
reads. Kept apart from :mod:`.bars` (panels, frames) so a status needs neither pandas nor the
panel code."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, func, select

from quantdesk.core.enums import Timeframe
from quantdesk.db.tables import Bar, FetchLog, Instrument


def bar_spans(
    connection: Connection, timeframe: Timeframe = Timeframe.D1
) -> dict[str, tuple[datetime, datetime]]:
    """First and last bar timestamp per symbol with bars in ``timeframe``, by primary-key seeks
    (``ORDER BY ts LIMIT 1`` per instrument): milliseconds where a grouped min/max reads every
    bar."""
    bars, instruments = Bar.__table__, Instrument.__table__
    edges = [
        select(bars.c.ts)
        .where(bars.c.instrument_id == instruments.c.id, bars.c.timeframe == timeframe.value)
        .order_by(order)
        .limit(1)
        .correlate(instruments)
        .scalar_subquery()
        for order in (bars.c.ts.asc(), bars.c.ts.desc())
    ]
    query = select(instruments.c.symbol, edges[0], edges[1]).order_by(instruments.c.symbol)
    return {
        symbol: (from_epoch(int(lo)), from_epoch(int(hi)))
        for symbol, lo, hi in connection.execute(query)
        if lo is not None and hi is not None
    }


def bar_counts(connection: Connection, timeframes: list[Timeframe]) -> dict[Timeframe, int]:
    """How many bars each of ``timeframes`` (those that have bars) holds.

    Every bar is written by the import path, which logs the rows it inserted (exact counts, see
    :func:`quantdesk.db.bulk.write_bars`), so with one timeframe the fetch log answers without
    reading the bars; only several timeframes need one grouped count to split the total.
    """
    if not timeframes:
        return {}
    if len(timeframes) == 1:
        logged = connection.execute(select(func.coalesce(func.sum(FetchLog.rows_inserted), 0)))
        return {timeframes[0]: int(logged.scalar_one())}
    query = select(Bar.timeframe, func.count()).group_by(Bar.timeframe)
    counted = {Timeframe(tf): int(n) for tf, n in connection.execute(query)}
    return {tf: counted.get(tf, 0) for tf in timeframes}


def from_epoch(seconds: int) -> datetime:
    """Unix seconds as a UTC datetime (how ``bars.ts`` is stored)."""
    return datetime.fromtimestamp(int(seconds), tz=UTC)
