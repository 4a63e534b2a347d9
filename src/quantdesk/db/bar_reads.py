"""Bar reads into numpy columns, with a columnar fast path per backend.

A panel of 500 symbols × 20 years is 2.3 M rows × 8 columns: as Python tuples that is seconds and
hundreds of MB, so each backend hands the rows over as whole columns instead.

- SQLite file, read-only caller: a second, read-only ADBC connection returns Arrow columns.
- PostgreSQL: the server packs each instrument's bars into one row of ``bytea`` columns (8-byte
  values back to back), sent by binary ``COPY`` and taken by numpy without a per-bar step; a
  read-only caller's selection is split over a few connections of its own reading one snapshot.
- Otherwise (an in-memory SQLite database, a caller inside a write transaction that must see its
  own rows, a driver that is missing or refuses the URL): the caller's own connection — a
  cursor streamed into one float array on SQLite.

Every path returns the same arrays: ``(instrument_id, ts, {field: values})`` with int64 ids and
Unix-second timestamps and float64 values that are NaN where the stored value is NULL.
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import Connection

from quantdesk.core.enums import Timeframe
from quantdesk.db import sqlite_guard
from quantdesk.db.bulk import VALUE_COLUMNS

BarColumns = tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]
# Read row-wise on SQLite, NULL arrives as +inf (9e999 overflows to it), so the rows fill one float
# array; validation keeps real infinities out of the table.
_SQLITE_MISSING = "9e999"
# Binary COPY framing (PostgreSQL protocol docs, "COPY … File Formats").
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
# ADBC statement options (driver docs): rows per Arrow batch, resp. its size in bytes. A result in
# one batch turns into numpy arrays without copies; many batches would be concatenated first.
_SQLITE_BATCH_ROWS = "adbc.sqlite.query.batch_rows"
_ONE_BATCH_ROWS = 1 << 30  # the driver takes a positive C int
# From this many instruments on, a committed PostgreSQL read splits over _READERS connections.
# The server's packing (~2 s of CPU for 500 × 20 y) is the read's floor; two readers use both
# cores of a quiet 2-core machine, four also keep their share of a loaded one (500 × 20 y at load
# ≈ 3.5: two readers 1.7–1.95 s, four 1.3–1.5 s; each reader costs one connection).
_PARALLEL_MIN_IDS = 32
_READERS = 4
# A committed SQLite read of as many instruments splits over this many ADBC connections, each in
# a thread of its own: the driver's stepping and Arrow building (≈ 1.5 s of CPU for 500 × 20 y)
# runs without the GIL, so two readers use both cores of a 2-core machine (one core: one reader).
_SQLITE_READERS = min(2, os.cpu_count() or 1)


def read_bar_columns(
    connection: Connection,
    instrument_ids: list[int],
    timeframe: str,
    fields: tuple[str, ...],
    start_ts: int | None,
    end_ts: int | None,
    *,
    committed_only: bool = False,
) -> BarColumns:
    """(instrument_id, ts, {field: values}) for the selection, as numpy arrays, no ORM objects.

    ``committed_only`` (read-only callers): the rows may come through other connections that see
    committed data only (ADBC's Arrow columns on SQLite, a few connections sharing one
    snapshot on PostgreSQL), several times faster than rows through the caller's connection.
    """
    unknown = set(fields) - set(VALUE_COLUMNS)
    if unknown:
        raise ValueError(f"unknown bar field(s) {sorted(unknown)}; choose from {VALUE_COLUMNS}")
    # Every value below is validated (an enum value or ints), so inlining it is safe, and one
    # literal statement serves the DB-API cursor, COPY and ADBC alike.
    where = [f"timeframe = '{Timeframe(timeframe).value}'"]
    if start_ts is not None:
        where.append(f"ts >= {int(start_ts)}")
    if end_ts is not None:
        where.append(f"ts <= {int(end_ts)}")
    if connection.dialect.name == "postgresql":
        ids = [int(i) for i in instrument_ids]
        if committed_only and len(ids) >= _PARALLEL_MIN_IDS:
            parallel = _read_postgres_parallel(connection, where, ids, fields)
            if parallel is not None:
                return parallel
        return _read_postgres_here(connection, where, ids, fields)

    def select(ids: list[int], columns: str) -> str:
        id_list = ", ".join(str(int(i)) for i in ids)
        clause = " AND ".join([*where, f"instrument_id IN ({id_list})" if ids else "1 = 0"])
        return f"SELECT instrument_id, ts, {columns} FROM bars WHERE {clause}"

    if committed_only:
        # the stored columns as they are: Arrow marks NULL itself, and the REAL columns need no
        # cast (≈ 10 % of the read's CPU for 2.4 M bars)
        plain = ", ".join(fields)
        parts = [instrument_ids]
        if len(instrument_ids) >= _PARALLEL_MIN_IDS:
            step = -(-len(instrument_ids) // _SQLITE_READERS)
            parts = [instrument_ids[k : k + step] for k in range(0, len(instrument_ids), step)]
        arrow = _read_sqlite_arrow(
            connection, [select(part, plain) for part in parts], select(instrument_ids, plain)
        )
        if arrow is not None:
            return _from_arrow(arrow, fields)
    columns = ", ".join(f"ifnull(CAST({f} AS REAL), {_SQLITE_MISSING})" for f in fields)
    return _read_generic(connection, select(instrument_ids, columns), fields)


def _read_sqlite_arrow(
    connection: Connection, parts: list[str], whole: str
) -> list[pa.Table] | None:
    """The rows of the selects ``parts`` (together: ``whole``) as Arrow tables through ADBC's
    SQLite driver, one connection and thread per part; None where it cannot serve.

    Each connection reads in one transaction, whose snapshot its first statement fixes: all
    parts see the same bars when they saw the same newest fetch-log id (every bar write logs
    one in its transaction, see :func:`quantdesk.db.repositories.fetch_log.data_version`). When
    an import committed between their starts, the first connection reads ``whole`` alone.
    """
    path = connection.engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    try:
        import adbc_driver_sqlite.dbapi as adbc
    except ImportError:
        return None
    # ADBC carries its own copy of SQLite: sqlite_guard keeps the two from breaking each
    # other's locks and WAL index
    with sqlite_guard.arrow_read(connection.engine) as permitted:
        if not permitted:
            return None
        try:
            with ExitStack() as stack:
                cursors = []
                for _ in parts:
                    reader = stack.enter_context(adbc.connect(sqlite_guard.arrow_uri(path)))
                    cursors.append(stack.enter_context(reader.cursor()))
                return _read_parts(cursors, parts, whole)
        except (adbc.Error, pa.ArrowException, OSError):
            # the driver reports a type it cannot unify as OSError: read row-wise then
            return None


def _read_parts(cursors: list[Any], parts: list[str], whole: str) -> list[pa.Table]:
    """Each part through its cursor, in threads; ``whole`` through the first one when the
    cursors' snapshots differ (see :func:`_read_sqlite_arrow`)."""
    if len(cursors) == 1:
        return [_fetch_arrow(cursors[0], parts[0])]
    versions = set()
    for cursor in cursors:
        cursor.execute("SELECT max(id) FROM fetch_log")
        versions.add(cursor.fetchone())
    if len(versions) > 1:
        return [_fetch_arrow(cursors[0], whole)]
    with ThreadPoolExecutor(len(cursors)) as pool:
        return list(pool.map(_fetch_arrow, cursors, parts))


def _fetch_arrow(cursor: Any, select: str) -> pa.Table:
    # one batch: its columns become numpy arrays without a concatenating copy
    cursor.adbc_statement.set_options(**{_SQLITE_BATCH_ROWS: str(_ONE_BATCH_ROWS)})
    cursor.execute(select)
    return cursor.fetch_arrow_table()


def _from_arrow(tables: list[pa.Table], fields: tuple[str, ...]) -> BarColumns:
    width = 2 + len(fields)
    parts = [[table.column(k) for k in range(width)] for table in tables]
    del tables  # each column's buffers now live only as long as its array below

    def column(k: int, dtype: type) -> np.ndarray:
        # NULL arrives as NaN (a copy only where a field has gaps; a column of NULLs only comes
        # typed int64 and turns into NaN floats alike); several parts are joined in one copy
        pieces: list[np.ndarray] = [np.asarray(p[k].to_numpy(), dtype=dtype) for p in parts]
        return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)

    values = {}
    for k, name in enumerate(fields):
        values[name] = column(2 + k, np.float64)
        if np.isinf(values[name]).any():  # kept out by validation: missing, as row-wise
            values[name] = np.where(np.isinf(values[name]), np.nan, values[name])
    return column(0, np.int64), column(1, np.int64), values


def _read_generic(connection: Connection, select: str, fields: tuple[str, ...]) -> BarColumns:
    raw = connection.connection.driver_connection
    assert raw is not None
    cursor = raw.cursor()
    cursor.arraysize = 65_536
    try:
        cursor.execute(select)
        # rows stream from the cursor into one float array: no list of millions of tuples, so
        # memory stays near the arrays' own size
        flat = np.fromiter(itertools.chain.from_iterable(cursor), dtype=np.float64)
    finally:
        cursor.close()
    width = 2 + len(fields)
    flat = flat.reshape(-1, width)
    values = {}
    for i, f in enumerate(fields):
        column = flat[:, 2 + i].copy()
        column[np.isinf(column)] = np.nan
        values[f] = column
    return flat[:, 0].astype(np.int64), flat[:, 1].astype(np.int64), values


def _packed_select(where: str, fields: tuple[str, ...]) -> str:
    """One row per instrument: its id, then ts and every field packed as big-endian 8-byte
    values in one ``bytea`` each (``int8send``/``float8send`` glued by ``string_agg``).

    PostgreSQL spends most of a row-per-bar ``COPY`` on per-row framing, and a client parses
    millions of rows; 500 packed rows cost the server less and the client almost nothing. All
    aggregates of a group consume its rows in the same order, so the columns stay aligned (the
    order itself does not matter: every value travels with its ts). NULL turns into NaN first
    (``string_agg`` would skip it).
    """
    packed = ", ".join(
        f"string_agg(float8send(coalesce({f}, 'NaN'::float8)), ''::bytea)" for f in fields
    )
    return (
        f"SELECT instrument_id, string_agg(int8send(ts), ''::bytea), {packed} "
        f"FROM bars WHERE {where} GROUP BY instrument_id"
    )


def _postgres_where(base: list[str], ids: list[int]) -> str:
    id_list = ", ".join(str(int(i)) for i in ids)
    return " AND ".join([*base, f"instrument_id IN ({id_list})" if ids else "1 = 0"])


def _read_postgres_here(
    connection: Connection, base: list[str], ids: list[int], fields: tuple[str, ...]
) -> BarColumns:
    """The packed rows on the caller's own connection (it sees its uncommitted writes)."""
    raw: Any = connection.connection.driver_connection
    return _joined([_copy_packed(raw, _packed_select(_postgres_where(base, ids), fields))], fields)


def _read_postgres_parallel(
    connection: Connection, base: list[str], ids: list[int], fields: tuple[str, ...]
) -> BarColumns | None:
    """Committed bars through up to ``_READERS`` connections of their own at once (as many
    server processes share the packing), all reading the snapshot the first one exports, so the
    result is one consistent view. The connections come from the engine's URL, not its pool: a
    pool lent out to many concurrent readers can never deadlock on them. None where the server
    refuses them (too many connections); the caller then reads on its own connection."""
    import psycopg

    dialect = connection.engine.dialect
    args, options = dialect.create_connect_args(connection.engine.url)
    step = -(-len(ids) // _READERS)  # ceil: at most _READERS parts, none empty
    parts = [ids[k : k + step] for k in range(0, len(ids), step)]
    raws: list[Any] = []
    try:
        snapshot = ""
        for _ in parts:
            raw: Any = dialect.connect(*args, **options)
            raws.append(raw)
            raw.autocommit = True  # the transaction below is the only one
            with raw.cursor() as cursor:
                cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                if not snapshot:
                    cursor.execute("SELECT pg_export_snapshot()")
                    snapshot = str(cursor.fetchone()[0])
                else:
                    cursor.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
        with ThreadPoolExecutor(len(raws)) as pool:
            buffers = list(
                pool.map(
                    lambda raw, part: _copy_packed(
                        raw, _packed_select(_postgres_where(base, part), fields)
                    ),
                    raws,
                    parts,
                )
            )
    except psycopg.OperationalError:
        return None  # e.g. too many connections: read on the caller's connection instead
    finally:
        for raw in raws:
            raw.close()
    return _joined(buffers, fields)


def _copy_packed(raw: Any, select: str) -> bytearray:
    """The binary ``COPY`` stream of ``select`` (see :func:`_packed_select`) as one buffer.

    One growing buffer, not an array per instrument: its memory goes back to the system the
    moment it is freed, where thousands of small arrays allocated in a reader thread would
    stay in that thread's malloc arena (RSS +80 MB after every panel).
    """
    buffer = bytearray()
    with raw.cursor() as cursor, cursor.copy(f"COPY ({select}) TO STDOUT (FORMAT binary)") as copy:
        for block in copy:
            buffer += block
    return buffer


def _packed_rows(buffer: bytearray) -> list[tuple[int, list[tuple[int, int]]]]:
    """(instrument id, [(offset, bytes) of ts and of each field]) per row of a packed stream."""
    if not buffer.startswith(_COPY_SIGNATURE) or len(buffer) < len(_COPY_SIGNATURE) + 8:
        raise ValueError("PostgreSQL sent no binary COPY header")
    extension = int.from_bytes(buffer[15:19], "big")
    at = len(_COPY_SIGNATURE) + 8 + extension
    rows: list[tuple[int, list[tuple[int, int]]]] = []
    while True:
        if len(buffer) - at < 2:
            raise ValueError("the binary COPY stream ended without its trailer")
        count = int.from_bytes(buffer[at : at + 2], "big", signed=True)
        at += 2
        if count < 0:  # the trailer
            return rows
        spans = []
        for _ in range(count):
            length = int.from_bytes(buffer[at : at + 4], "big", signed=True)
            at += 4
            if length < 0:
                raise ValueError("a packed bar column arrived as NULL")
            if length > len(buffer) - at:
                raise ValueError("the binary COPY stream ended inside a row")
            spans.append((at, length))
            at += length
        (id_at, _), *columns = spans
        rows.append((int.from_bytes(buffer[id_at : id_at + 4], "big", signed=True), columns))


def _joined(buffers: list[bytearray], fields: tuple[str, ...]) -> BarColumns:
    """The packed streams as (instrument_id, ts, {field: values}) in native byte order, each
    column written once into its final array."""
    parsed = [(buffer, _packed_rows(buffer)) for buffer in buffers]
    lengths = [spans[0][1] // 8 for _, rows in parsed for _, spans in rows]
    total = sum(lengths)
    instruments = [instrument for _, rows in parsed for instrument, _ in rows]
    ids = np.repeat(np.asarray(instruments, dtype=np.int64), np.asarray(lengths, dtype=np.int64))
    ts = np.empty(total, dtype=np.int64)
    values = {f: np.empty(total, dtype=np.float64) for f in fields}
    targets = [(ts, ">i8"), *((values[f], ">f8") for f in fields)]
    start = 0
    for buffer, rows in parsed:
        for _, spans in rows:
            stop = start + spans[0][1] // 8
            for (target, dtype), (offset, length) in zip(targets, spans, strict=True):
                target[start:stop] = np.frombuffer(buffer, dtype, length // 8, offset)
            start = stop
    return ids, ts, values
