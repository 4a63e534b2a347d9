"""Bar reads into numpy columns, with a columnar fast path per backend.

A panel of 500 symbols × 20 years is 2.3 M rows × 8 columns: as Python tuples that is seconds and
hundreds of MB, so each backend hands the rows over as whole columns instead.

- SQLite file, read-only caller: a second, read-only ADBC connection returns Arrow columns.
- PostgreSQL, read-only caller: ADBC's PostgreSQL driver (binary ``COPY`` parsed in C into Arrow).
- Otherwise (an in-memory SQLite database, a caller inside a write transaction that must see its
  own rows, a driver that is missing or refuses the URL): the caller's own connection — binary
  ``COPY`` parsed with numpy on PostgreSQL, a cursor streamed into one float array on SQLite.

Every path returns the same arrays: ``(instrument_id, ts, {field: values})`` with int64 ids and
Unix-second timestamps and float64 values that are NaN where the stored value is NULL.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import Connection

from quantdesk.core.enums import Timeframe
from quantdesk.db import sqlite_guard
from quantdesk.db.bulk import VALUE_COLUMNS

BarColumns = tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]
# NULL on SQLite arrives as +inf (9e999 overflows to it), so Arrow sees one REAL column type and
# numpy one float array; validation keeps real infinities out of the table.
_SQLITE_MISSING = "9e999"
# Binary COPY framing (PostgreSQL protocol docs, "COPY … File Formats").
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_COPY_TRAILER_BYTES = 2
# ADBC statement options (driver docs): rows per Arrow batch, resp. its size in bytes. A result in
# one batch turns into numpy arrays without copies; many batches would be concatenated first.
_SQLITE_BATCH_ROWS = "adbc.sqlite.query.batch_rows"
_ONE_BATCH_ROWS = 1 << 30  # the driver takes a positive C int
_POSTGRES_BATCH_BYTES = "adbc.postgresql.batch_size_hint_bytes"
_ONE_BATCH_BYTES = 1 << 40


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

    ``committed_only`` (read-only callers): the rows may come through a second connection (ADBC)
    that sees committed data only and delivers Arrow columns, several times faster than rows
    through the caller's connection.
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
    id_list = ", ".join(str(int(i)) for i in instrument_ids)
    where.append(f"instrument_id IN ({id_list})" if instrument_ids else "1 = 0")
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        # NULL → NaN on the server: every row is then fixed-width in binary COPY, and Arrow
        # columns have no validity bitmap, so numpy takes them without a copy
        columns = ", ".join(f"coalesce({f}, 'NaN'::float8)" for f in fields)
    else:
        columns = ", ".join(f"ifnull(CAST({f} AS REAL), {_SQLITE_MISSING})" for f in fields)
    select = f"SELECT instrument_id, ts, {columns} FROM bars WHERE {' AND '.join(where)}"
    if committed_only:
        arrow = (_read_postgres_arrow if postgres else _read_sqlite_arrow)(connection, select)
        if arrow is not None:
            return _from_arrow(arrow, fields)
    if postgres:
        return _read_postgres_copy(connection, select, fields)
    return _read_generic(connection, select, fields)


def _read_sqlite_arrow(connection: Connection, select: str) -> pa.Table | None:
    """The rows as an Arrow table through ADBC's SQLite driver; None where it cannot serve."""
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
            with adbc.connect(sqlite_guard.arrow_uri(path)) as reader, reader.cursor() as cursor:
                # one batch: its columns become numpy arrays without a concatenating copy
                cursor.adbc_statement.set_options(**{_SQLITE_BATCH_ROWS: str(_ONE_BATCH_ROWS)})
                cursor.execute(select)
                return cursor.fetch_arrow_table()
        except (adbc.Error, pa.ArrowException, OSError):
            # the driver reports a type it cannot unify as OSError: read row-wise then
            return None


def _read_postgres_arrow(connection: Connection, select: str) -> pa.Table | None:
    """The rows as an Arrow table through ADBC's PostgreSQL driver (libpq, binary COPY parsed in
    C); None where the driver is missing or cannot connect with the engine's URL."""
    try:
        import adbc_driver_postgresql.dbapi as adbc
    except ImportError:
        return None
    # libpq takes the same URL (user, password, host, port, database, options) without the
    # SQLAlchemy driver suffix
    uri = connection.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with adbc.connect(uri) as reader, reader.cursor() as cursor:
            cursor.adbc_statement.set_options(**{_POSTGRES_BATCH_BYTES: str(_ONE_BATCH_BYTES)})
            cursor.execute(select)
            return cursor.fetch_arrow_table()
    except (adbc.Error, pa.ArrowException, OSError):
        return None


def _from_arrow(table: pa.Table, fields: tuple[str, ...]) -> BarColumns:
    columns = [table.column(k) for k in range(table.num_columns)]
    del table  # each column's buffers now live only as long as its array below
    values = {}
    for k, name in enumerate(fields):
        column = np.asarray(columns[2 + k].to_numpy(), dtype=np.float64)
        if np.isinf(column).any():  # SQLite's NULL marker; a copy only where a field has gaps
            column = np.where(np.isinf(column), np.nan, column)
        values[name] = column
    return (
        columns[0].to_numpy().astype(np.int64, copy=False),
        columns[1].to_numpy().astype(np.int64, copy=False),
        values,
    )


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


def _read_postgres_copy(connection: Connection, select: str, fields: tuple[str, ...]) -> BarColumns:
    """Binary ``COPY`` on the caller's connection, parsed as one structured numpy array.

    With NULLs turned into NaN by the query every row has the same layout: a field count, then a
    length and a value per column (int4 id, int8 ts, float8 values), all big-endian.
    """
    raw: Any = connection.connection.driver_connection
    buffer = bytearray()
    with raw.cursor() as cursor, cursor.copy(f"COPY ({select}) TO STDOUT (FORMAT binary)") as copy:
        for block in copy:
            buffer += block
    layout: list[tuple[str, str]] = [
        ("count", ">i2"),
        ("id_len", ">i4"),
        ("id", ">i4"),
        ("ts_len", ">i4"),
        ("ts", ">i8"),
    ]
    for k in range(len(fields)):
        layout += [(f"len{k}", ">i4"), (f"v{k}", ">f8")]
    row = np.dtype(layout)
    if not buffer.startswith(_COPY_SIGNATURE):
        raise ValueError("PostgreSQL sent no binary COPY header")
    extension = int.from_bytes(buffer[15:19], "big")
    offset = len(_COPY_SIGNATURE) + 8 + extension
    count, rest = divmod(len(buffer) - offset - _COPY_TRAILER_BYTES, row.itemsize)
    if rest:
        raise ValueError("binary COPY rows are not the fixed width expected")
    rows = np.frombuffer(buffer, dtype=row, count=count, offset=offset)
    values = {f: rows[f"v{k}"].astype(np.float64) for k, f in enumerate(fields)}
    return rows["id"].astype(np.int64), rows["ts"].astype(np.int64), values
