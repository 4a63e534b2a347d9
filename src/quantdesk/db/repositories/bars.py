"""Bar storage: bulk writes and panel reads through :mod:`quantdesk.db.bulk`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection, func, select

from quantdesk.core.enums import Timeframe
from quantdesk.core.errors import NotFoundError
from quantdesk.data.panel import Panel
from quantdesk.db.bar_reads import read_bar_columns
from quantdesk.db.bulk import VALUE_COLUMNS, BarArrays, WriteCounts, write_bars
from quantdesk.db.repositories.instruments import instrument_ids
from quantdesk.db.tables import Bar, Instrument


def write_bar_frame(
    connection: Connection, frame: pd.DataFrame, ids: dict[str, int], timeframe: Timeframe
) -> WriteCounts:
    """Upsert a validated bars frame (see :mod:`quantdesk.data.ports`)."""
    symbol_codes, uniques = pd.factorize(frame["symbol"])
    id_lookup = np.array([ids[s] for s in uniques], dtype=np.int64)
    values = {
        c: frame[c].to_numpy(dtype=np.float64, na_value=np.nan)
        if c in frame
        else np.full(len(frame), np.nan)
        for c in VALUE_COLUMNS
    }
    arrays = BarArrays(
        instrument_id=id_lookup[symbol_codes],
        timeframe=timeframe.value,
        ts=to_epoch_seconds(frame["ts"]),
        values=values,
    )
    return write_bars(connection, arrays)


def to_epoch_seconds(ts: pd.Series) -> np.ndarray:
    values = pd.DatetimeIndex(ts)
    if values.tz is None:
        raise ValueError("bar timestamps must be timezone-aware (UTC)")
    return values.tz_convert("UTC").as_unit("s").asi8.astype(np.int64)


def _epoch(moment: date | datetime | None) -> int | None:
    if moment is None:
        return None
    stamp = pd.Timestamp(moment)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return int(stamp.timestamp())


def _end_epoch(moment: date | datetime | None) -> int | None:
    """An end date includes its whole day; an end datetime is taken as it is."""
    if moment is None:
        return None
    if isinstance(moment, datetime):
        return _epoch(moment)
    return int(_epoch(moment) or 0) + 86400 - 1


def load_panel(
    connection: Connection,
    symbols: list[str] | None,
    fields: tuple[str, ...] = ("close",),
    timeframe: Timeframe = Timeframe.D1,
    start: date | datetime | None = None,
    end: date | datetime | None = None,
) -> Panel:
    """Dates × symbols arrays for ``fields`` in one query. ``symbols=None`` loads every symbol."""
    if symbols is None:
        ids = _all_ids(connection)
    else:
        ids = instrument_ids(connection, symbols)
        missing = [s for s in symbols if s not in ids]
        if missing:
            raise NotFoundError(f"unknown symbol(s): {', '.join(missing[:10])}")
    order = sorted(ids)
    id_array = np.array([ids[s] for s in order], dtype=np.int64)
    inst, ts, values = read_bar_columns(
        connection,
        id_array.tolist(),
        timeframe.value,
        fields,
        _epoch(start),
        _end_epoch(end),
        committed_only=True,  # callers read panels outside write transactions
    )
    stamps, row = _rows_of(ts)
    position = np.full(int(id_array.max(initial=0)) + 1, -1, dtype=np.int64)
    position[id_array] = np.arange(len(id_array))
    del ts
    cell = row * len(order) + position[inst]  # each bar's place in a row-major T×N grid
    del row, inst
    arrays = {}
    for f in dict.fromkeys(fields):  # a field asked for twice is one array
        grid = np.full(len(stamps) * len(order), np.nan)
        grid[cell] = values.pop(f)  # the long column is freed as soon as it is placed
        arrays[f] = grid.reshape(len(stamps), len(order))
    return Panel((stamps * 1_000_000_000).astype("datetime64[ns]"), tuple(order), arrays)


def _rows_of(ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct timestamps and each bar's row among them (``np.unique`` with
    ``return_inverse``). Daily bars all sit at midnight, so a flag per calendar day finds the
    rows in linear time instead of sorting millions of timestamps."""
    if len(ts) == 0:
        return ts.astype(np.int64), np.zeros(0, dtype=np.int64)
    day, seconds = np.divmod(ts, 86_400)
    first = int(day.min())
    span = int(day.max()) - first + 1
    if seconds.any() or span > 4 * len(ts) + 100_000:  # intraday, or a few far-apart days
        stamps, row = np.unique(ts, return_inverse=True)
        return stamps, row.reshape(-1)
    offset = day - first
    present = np.zeros(span, dtype=bool)
    present[offset] = True
    row_of_day = np.cumsum(present) - 1
    return (np.flatnonzero(present) + first) * 86_400, row_of_day[offset]


def _all_ids(connection: Connection) -> dict[str, int]:
    rows = connection.execute(select(Instrument.symbol, Instrument.id))
    return {symbol: int(id_) for symbol, id_ in rows}


@dataclass(frozen=True)
class SymbolBars:
    """Bars as columns sorted by symbol, then ts: ``names[codes[k]]`` is bar k's symbol (names
    in order), ``ts`` Unix seconds, ``values`` every stored field (NaN where NULL)."""

    names: tuple[str, ...]
    codes: np.ndarray
    ts: np.ndarray
    values: dict[str, np.ndarray]


def load_bar_arrays(
    connection: Connection,
    symbols: list[str] | None,
    timeframe: Timeframe = Timeframe.D1,
    start: date | datetime | None = None,
    end: date | datetime | None = None,
    *,
    committed_only: bool = False,
) -> SymbolBars:
    """Bars as :class:`SymbolBars` (no frame: ``data check`` works on the arrays themselves).

    ``committed_only``: a read-only caller may get the rows through faster connections (see
    :func:`quantdesk.db.bar_reads.read_bar_columns`).
    """
    ids = _all_ids(connection) if symbols is None else instrument_ids(connection, symbols)
    by_symbol = sorted(ids)
    inst, ts, values = read_bar_columns(
        connection,
        sorted(ids.values()),
        timeframe.value,
        VALUE_COLUMNS,
        _epoch(start),
        _end_epoch(end),
        committed_only=committed_only,
    )
    # each bar's symbol as its place in name order: sorting integers, not millions of strings
    code_of_id = np.zeros(max(ids.values(), default=0) + 1, dtype=np.int64)
    code_of_id[[ids[s] for s in by_symbol]] = np.arange(len(by_symbol))
    codes = code_of_id[inst]
    del inst
    ordered = len(codes) < 2 or bool(
        np.all((codes[1:] > codes[:-1]) | ((codes[1:] == codes[:-1]) & (ts[1:] > ts[:-1])))
    )  # rows arrive in key order, which is name order when ids were given in name order
    if not ordered:
        order = np.lexsort((ts, codes))
        codes, ts = codes[order], ts[order]
        values = {name: column[order] for name, column in values.items()}
    return SymbolBars(tuple(by_symbol), codes, ts, values)


def load_bar_frame(
    connection: Connection,
    symbols: list[str] | None,
    timeframe: Timeframe = Timeframe.D1,
    start: date | datetime | None = None,
    end: date | datetime | None = None,
    *,
    committed_only: bool = False,
) -> pd.DataFrame:
    """Bars in the long frame format of :mod:`quantdesk.data.ports`, sorted by symbol and ts.

    ``committed_only``: see :func:`load_bar_arrays`.
    """
    bars = load_bar_arrays(
        connection, symbols, timeframe, start, end, committed_only=committed_only
    )
    return pd.DataFrame(
        {
            "symbol": _symbol_column(list(bars.names), bars.codes),
            "ts": _utc_column(bars.ts),
            **bars.values,
        }
    )


def _symbol_column(names: list[str], codes: np.ndarray) -> pd.Series:
    """``names[codes]`` as the string column pandas would build from Python strings.

    pandas 3 stores strings in Arrow: converting millions of Python strings costs most of a
    second, where taking them from a dictionary of a few hundred names is a C loop.
    """
    dtype = pd.Series(["x"]).dtype  # what this pandas infers for strings
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        import pyarrow as pa

        taken = pa.array(names, type=pa.large_string()).take(pa.array(codes))
        return pd.Series(taken.to_pandas(types_mapper={taken.type: dtype}.get), dtype=dtype)
    return pd.Series(np.asarray(names, dtype=object)[codes], dtype=dtype)


def _utc_column(seconds: np.ndarray) -> pd.Series:
    """Unix seconds as the UTC column ``pd.to_datetime(seconds, unit="s", utc=True)`` builds,
    without its per-value checks (a cast, then a time zone on the whole column)."""
    unit = pd.to_datetime(seconds[:1], unit="s", utc=True).unit
    naive = seconds.astype("datetime64[s]").astype(f"datetime64[{unit}]")
    return pd.Series(pd.DatetimeIndex(naive).tz_localize("UTC"))


@dataclass(frozen=True, slots=True)
class SymbolCoverage:
    symbol: str
    bars: int
    first: datetime
    last: datetime


def coverage(
    connection: Connection, timeframe: Timeframe = Timeframe.D1, symbol: str | None = None
) -> list[SymbolCoverage]:
    """Bar count and first/last timestamp per symbol (one grouped query)."""
    query = (
        select(Instrument.symbol, func.count(), func.min(Bar.ts), func.max(Bar.ts))
        .join(Instrument, Instrument.id == Bar.instrument_id)
        .where(Bar.timeframe == timeframe.value)
        .group_by(Instrument.symbol)
        .order_by(Instrument.symbol)
    )
    if symbol is not None:
        query = query.where(Instrument.symbol == symbol)
    return [
        SymbolCoverage(s, int(n), _from_epoch(lo), _from_epoch(hi))
        for s, n, lo, hi in connection.execute(query)
    ]


def coverage_by_timeframe(connection: Connection) -> dict[Timeframe, list[SymbolCoverage]]:
    """:func:`coverage` of every timeframe in one grouped pass over the bars (a filter on the
    timeframe alone is no index range, so one query per timeframe would scan the table each time).
    """
    query = (
        select(Bar.timeframe, Instrument.symbol, func.count(), func.min(Bar.ts), func.max(Bar.ts))
        .join(Instrument, Instrument.id == Bar.instrument_id)
        .group_by(Bar.timeframe, Instrument.symbol)
        .order_by(Bar.timeframe, Instrument.symbol)
    )
    out: dict[Timeframe, list[SymbolCoverage]] = {}
    for timeframe, symbol, n, lo, hi in connection.execute(query):
        out.setdefault(Timeframe(timeframe), []).append(
            SymbolCoverage(symbol, int(n), _from_epoch(lo), _from_epoch(hi))
        )
    return out


def date_range(
    connection: Connection, timeframe: Timeframe = Timeframe.D1, symbol: str | None = None
) -> tuple[datetime, datetime] | None:
    """First and last bar timestamp (of ``symbol``, else of every symbol); None without bars.

    Two primary-key seeks per instrument (``(instrument_id, timeframe, ts)`` is the key), never
    a scan of the bars: milliseconds on millions of bars, where :func:`coverage` counts them.
    """
    bars, instruments = Bar.__table__, Instrument.__table__
    edges = []
    for order in (bars.c.ts.asc(), bars.c.ts.desc()):
        # ORDER BY … LIMIT 1 is an index seek on both backends (a correlated min() is not)
        seek = (
            select(bars.c.ts)
            .where(bars.c.instrument_id == instruments.c.id, bars.c.timeframe == timeframe.value)
            .order_by(order)
            .limit(1)
            .correlate(instruments)
            .scalar_subquery()
        )
        edges.append(seek)
    per_instrument = select(edges[0].label("lo"), edges[1].label("hi")).select_from(instruments)
    if symbol is not None:
        per_instrument = per_instrument.where(instruments.c.symbol == symbol)
    spans = per_instrument.subquery()
    lo, hi = connection.execute(select(func.min(spans.c.lo), func.max(spans.c.hi))).one()
    if lo is None or hi is None:
        return None
    return _from_epoch(int(lo)), _from_epoch(int(hi))


def _from_epoch(seconds: int) -> datetime:
    return pd.Timestamp(int(seconds), unit="s", tz="UTC").to_pydatetime()


def latest_bar(
    connection: Connection, symbol: str, timeframe: Timeframe = Timeframe.D1
) -> dict[str, object]:
    ids = instrument_ids(connection, [symbol])
    if symbol not in ids:
        raise NotFoundError(f"unknown symbol {symbol!r}")
    table = Bar.__table__
    row = (
        connection.execute(
            select(table)
            .where(table.c.instrument_id == ids[symbol], table.c.timeframe == timeframe.value)
            .order_by(table.c.ts.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFoundError(f"no {timeframe.value} bars for {symbol!r}")
    out: dict[str, object] = {"symbol": symbol, "ts": _from_epoch(row["ts"])}
    out.update({c: row[c] for c in VALUE_COLUMNS})
    return out
