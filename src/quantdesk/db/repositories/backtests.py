"""Stored backtest runs (run, daily series, fills, round trips, rebalance weights) and
optimisation sweeps with their trials.

Every function takes an open :class:`~sqlalchemy.Connection`; the caller owns the transaction.
Frames go in and come out with plain columns (dates as ``datetime64[ns]``, missing as NaN).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, delete, insert, select, update

from quantdesk.backtest import result as result_columns
from quantdesk.db.tables import (
    BacktestFill,
    BacktestRun,
    BacktestSeries,
    BacktestTrade,
    BacktestWeight,
    OptimizationSweep,
    OptimizationTrial,
)

SERIES_COLUMNS = ("equity", "returns", "cash", "benchmark", "turnover")
FILL_COLUMNS = ("date", "symbol", "side", "quantity", "price", "commission", "reason")
# the engines' round-trip columns; whether a trip is still open is derived (no exit date)
TRADE_COLUMNS = tuple(c for c in result_columns.TRADE_COLUMNS if c != "is_open")
RUN_COLUMNS = tuple(c.name for c in BacktestRun.__table__.columns)


# -- runs --------------------------------------------------------------------------------------
def insert_run(connection: Connection, run: dict[str, Any]) -> None:
    """Insert one ``backtest_runs`` row (keys: the table's columns)."""
    unknown = set(run) - set(RUN_COLUMNS)
    if unknown:
        raise ValueError(f"unknown backtest_runs column(s): {sorted(unknown)}")
    connection.execute(insert(BacktestRun), [run])


def write_series(connection: Connection, run_id: str, series: pd.DataFrame) -> int:
    """Daily rows of a run: ``series`` is indexed by date with any of :data:`SERIES_COLUMNS`."""
    n = len(series)
    columns: dict[str, list[Any]] = {
        "run_id": [run_id] * n,
        "date": _date_values(connection, series.index),
    }
    for c in SERIES_COLUMNS:
        columns[c] = _nullable(series[c].to_numpy(dtype=np.float64)) if c in series else [None] * n
    return _insert_columns(connection, BacktestSeries, columns)


def write_fills(connection: Connection, run_id: str, fills: pd.DataFrame) -> int:
    """Fills in their order (``seq`` 0, 1, …); columns :data:`FILL_COLUMNS`."""
    n = len(fills)
    reasons: list[Any] = [None] * n
    if "reason" in fills:
        # missing found column-wise (pd.isna per value was most of this function's time)
        column = fills["reason"]
        missing = column.isna().tolist()
        reasons = [None if m else str(r) for r, m in zip(column.tolist(), missing, strict=True)]
    columns: dict[str, list[Any]] = {
        "run_id": [run_id] * n,
        "seq": list(range(n)),
        "date": _date_values(connection, fills["date"]),
        "symbol": fills["symbol"].astype(str).tolist(),
        "side": fills["side"].astype(str).tolist(),
        "quantity": fills["quantity"].to_numpy(dtype=np.float64).tolist(),
        "price": fills["price"].to_numpy(dtype=np.float64).tolist(),
        "commission": fills["commission"].to_numpy(dtype=np.float64).tolist(),
        "reason": reasons,
    }
    return _insert_columns(connection, BacktestFill, columns)


def write_trades(connection: Connection, run_id: str, trades: pd.DataFrame) -> int:
    """Round trips (columns :data:`TRADE_COLUMNS`); an open trip has no ``exit_date``."""
    n = len(trades)
    columns: dict[str, list[Any]] = {
        "run_id": [run_id] * n,
        "seq": list(range(n)),
        "symbol": trades["symbol"].astype(str).tolist(),
        "entry_date": _date_values(connection, trades["entry_date"]),
        "exit_date": _date_values(connection, trades["exit_date"]),
        "quantity": trades["quantity"].to_numpy(dtype=np.float64).tolist(),
        "entry_price": trades["entry_price"].to_numpy(dtype=np.float64).tolist(),
        "exit_price": _nullable(trades["exit_price"].to_numpy(dtype=np.float64)),
        "pnl": _nullable(trades["pnl"].to_numpy(dtype=np.float64)),
        "return": _nullable(trades["return"].to_numpy(dtype=np.float64)),
    }
    return _insert_columns(connection, BacktestTrade, columns)


def write_weights(connection: Connection, run_id: str, weights: pd.DataFrame) -> int:
    """Weight changes in long form (columns ``date``, ``symbol``, ``weight``)."""
    n = len(weights)
    columns: dict[str, list[Any]] = {
        "run_id": [run_id] * n,
        "date": _date_values(connection, weights["date"]),
        "symbol": weights["symbol"].astype(str).tolist(),
        "weight": weights["weight"].to_numpy(dtype=np.float64).tolist(),
    }
    return _insert_columns(connection, BacktestWeight, columns)


def delete_run(connection: Connection, run_id: str) -> None:
    """Delete a run and its series, fills, round trips and weights (children first, so it
    does not depend on the backend enforcing ``ON DELETE CASCADE``)."""
    for table in (BacktestWeight, BacktestTrade, BacktestFill, BacktestSeries):
        connection.execute(delete(table).where(table.run_id == run_id))
    connection.execute(delete(BacktestRun).where(BacktestRun.id == run_id))


def list_runs(connection: Connection, limit: int | None = None) -> list[dict[str, Any]]:
    """Runs, newest first, without their series."""
    table = BacktestRun.__table__
    query = select(table).order_by(table.c.created_at.desc(), table.c.id)
    if limit is not None:
        query = query.limit(limit)
    return [dict(row) for row in connection.execute(query).mappings()]


def run_ids(connection: Connection) -> list[str]:
    table = BacktestRun.__table__
    return [str(v) for v in connection.execute(select(table.c.id)).scalars()]


def load_run(connection: Connection, run_id: str) -> dict[str, Any] | None:
    table = BacktestRun.__table__
    row = connection.execute(select(table).where(table.c.id == run_id)).mappings().first()
    return None if row is None else dict(row)


def load_series(connection: Connection, run_id: str) -> pd.DataFrame:
    """The daily series indexed by ``date`` (``datetime64[ns]``), columns :data:`SERIES_COLUMNS`."""
    frame = _select(connection, "backtest_series", ("date", *SERIES_COLUMNS), run_id, "date")
    frame["date"] = _datetimes(frame["date"])
    for column in SERIES_COLUMNS:
        frame[column] = frame[column].astype(np.float64)
    return frame.set_index("date")


def load_fills(connection: Connection, run_id: str) -> pd.DataFrame:
    frame = _select(connection, "backtest_fills", FILL_COLUMNS, run_id, "seq")
    frame["date"] = _datetimes(frame["date"])
    return frame.astype({"quantity": "float64", "price": "float64", "commission": "float64"})


def load_trades(connection: Connection, run_id: str) -> pd.DataFrame:
    frame = _select(connection, "backtest_trades", TRADE_COLUMNS, run_id, "seq")
    for column in ("entry_date", "exit_date"):
        frame[column] = _datetimes(frame[column])
    floats = ("quantity", "entry_price", "exit_price", "pnl", "return")
    frame = frame.astype(dict.fromkeys(floats, "float64"))
    frame["is_open"] = frame["exit_date"].isna()
    return frame


def load_weights(connection: Connection, run_id: str) -> pd.DataFrame:
    frame = _select(
        connection, "backtest_weights", ("date", "symbol", "weight"), run_id, "date, symbol"
    )
    frame["date"] = _datetimes(frame["date"])
    return frame.astype({"weight": "float64"})


def _select(
    connection: Connection, table: str, columns: tuple[str, ...], run_id: str, order: str
) -> pd.DataFrame:
    """A run's rows straight from the driver (no per-value type processing): dates come as
    ISO strings (SQLite) or ``date`` objects and are converted column-wise by the caller."""
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f"SELECT {names} FROM {table} WHERE run_id = {mark} ORDER BY {order}"
    cursor = connection.connection.cursor()  # plain tuples: SQLAlchemy rows cost ~50 µs each
    try:
        cursor.execute(sql, (run_id,))
        rows = cursor.fetchall()
    finally:
        cursor.close()
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.DataFrame(dict(zip(columns, (list(v) for v in zip(*rows, strict=True)), strict=True)))


def _datetimes(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).astype("datetime64[ns]")


# -- sweeps ------------------------------------------------------------------------------------
def insert_sweep(connection: Connection, sweep: dict[str, Any]) -> None:
    connection.execute(insert(OptimizationSweep), [sweep])


def insert_trial(connection: Connection, trial: dict[str, Any]) -> None:
    connection.execute(insert(OptimizationTrial), [trial])


def finish_sweep(
    connection: Connection,
    sweep_id: str,
    *,
    status: str,
    best_params: dict[str, Any] | None,
    summary: dict[str, Any] | None,
    finished_at: datetime,
) -> None:
    connection.execute(
        update(OptimizationSweep)
        .where(OptimizationSweep.id == sweep_id)
        .values(status=status, best_params=best_params, summary=summary, finished_at=finished_at)
    )


def load_sweep(connection: Connection, sweep_id: str) -> dict[str, Any] | None:
    table = OptimizationSweep.__table__
    row = connection.execute(select(table).where(table.c.id == sweep_id)).mappings().first()
    return None if row is None else dict(row)


def load_trials(connection: Connection, sweep_id: str) -> list[dict[str, Any]]:
    table = OptimizationTrial.__table__
    query = select(table).where(table.c.sweep_id == sweep_id).order_by(table.c.number)
    return [dict(row) for row in connection.execute(query).mappings()]


def list_sweeps(connection: Connection) -> list[dict[str, Any]]:
    table = OptimizationSweep.__table__
    query = select(table).order_by(table.c.created_at.desc())
    return [dict(row) for row in connection.execute(query).mappings()]


# -- helpers -----------------------------------------------------------------------------------
def _insert_columns(connection: Connection, table: Any, columns: dict[str, list[Any]]) -> int:
    """Bulk insert column lists through the driver's ``executemany``: values are converted
    column by column (numpy, not per row), and rows are only zipped at the end."""
    names = list(columns)
    n = len(columns[names[0]]) if names else 0
    if n == 0:
        return 0
    quoted = ", ".join(f'"{table.__table__.columns[name].name}"' for name in names)
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    marks = ", ".join(mark for _ in names)
    sql = f"INSERT INTO {table.__tablename__} ({quoted}) VALUES ({marks})"
    connection.exec_driver_sql(sql, list(zip(*(columns[name] for name in names), strict=True)))
    return n


def _date_values(connection: Connection, values: Any) -> list[Any]:
    """Dates for the driver, vectorised: ISO strings on SQLite (what SQLAlchemy's Date type
    stores there), ``date`` objects elsewhere; NaT → None. Each distinct day is converted once
    (a run's fills fall on a few hundred rebalance days)."""
    index = pd.DatetimeIndex(values)
    if index.tz is not None:
        index = index.tz_convert(None)
    missing = np.asarray(index.isna())
    codes, days = pd.factorize(index.to_numpy(dtype="datetime64[D]"))
    if connection.dialect.name == "sqlite":
        converted = np.datetime_as_string(days, unit="D").astype(object)
    else:
        converted = np.asarray(days).astype(object)
    if not len(converted):
        return [None] * len(index)
    out: list[Any] = converted[codes].tolist()
    if missing.any():
        for i in np.flatnonzero(missing).tolist():
            out[i] = None
    return out


def _nullable(values: np.ndarray) -> list[float | None]:
    out = values.astype(object)
    out[~np.isfinite(values)] = None
    result: list[float | None] = out.tolist()
    return result
