"""Stored backtest runs (run, daily series, fills, round trips, rebalance weights) and
optimisation sweeps with their trials.

Every function takes an open :class:`~sqlalchemy.Connection`; the caller owns the transaction.
Frames go in and come out with plain columns (dates as ``datetime64[ns]``, missing as NaN).
"""

from __future__ import annotations

from datetime import date, datetime
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
    days = _dates(series.index)
    columns = {
        c: _nullable(series[c].to_numpy(dtype=np.float64)) if c in series else [None] * len(days)
        for c in SERIES_COLUMNS
    }
    rows = [
        {"run_id": run_id, "date": d, **dict(zip(SERIES_COLUMNS, values, strict=True))}
        for d, *values in zip(days, *(columns[c] for c in SERIES_COLUMNS), strict=True)
    ]
    _insert(connection, BacktestSeries, rows)
    return len(rows)


def write_fills(connection: Connection, run_id: str, fills: pd.DataFrame) -> int:
    """Fills in their order (``seq`` 0, 1, …); columns :data:`FILL_COLUMNS`."""
    rows = [
        {
            "run_id": run_id,
            "seq": seq,
            "date": day,
            "symbol": str(symbol),
            "side": str(side),
            "quantity": float(quantity),
            "price": float(price),
            "commission": float(commission),
            "reason": None if reason is None else str(reason),
        }
        for seq, (day, symbol, side, quantity, price, commission, reason) in enumerate(
            zip(
                _dates(fills["date"]),
                fills["symbol"].tolist(),
                fills["side"].tolist(),
                fills["quantity"].tolist(),
                fills["price"].tolist(),
                fills["commission"].tolist(),
                fills["reason"].tolist() if "reason" in fills else [None] * len(fills),
                strict=True,
            )
        )
    ]
    _insert(connection, BacktestFill, rows)
    return len(rows)


def write_trades(connection: Connection, run_id: str, trades: pd.DataFrame) -> int:
    """Round trips (columns :data:`TRADE_COLUMNS`); an open trip has no ``exit_date``."""
    columns = zip(
        trades["symbol"].tolist(),
        _dates(trades["entry_date"]),
        _optional_dates(trades["exit_date"]),
        trades["quantity"].tolist(),
        trades["entry_price"].tolist(),
        trades["exit_price"].tolist(),
        trades["pnl"].tolist(),
        trades["return"].tolist(),
        strict=True,
    )
    rows = [
        {
            "run_id": run_id,
            "seq": seq,
            "symbol": str(symbol),
            "entry_date": entry,
            "exit_date": exit_,
            "quantity": float(quantity),
            "entry_price": float(entry_price),
            "exit_price": _optional(exit_price),
            "pnl": _optional(pnl),
            "return": _optional(ret),
        }
        for seq, (symbol, entry, exit_, quantity, entry_price, exit_price, pnl, ret) in enumerate(
            columns
        )
    ]
    _insert(connection, BacktestTrade, rows)
    return len(rows)


def write_weights(connection: Connection, run_id: str, weights: pd.DataFrame) -> int:
    """Rebalance weights in long form (columns ``date``, ``symbol``, ``weight``)."""
    rows = [
        {"run_id": run_id, "date": day, "symbol": str(symbol), "weight": float(weight)}
        for day, symbol, weight in zip(
            _dates(weights["date"]),
            weights["symbol"].tolist(),
            weights["weight"].tolist(),
            strict=True,
        )
    ]
    _insert(connection, BacktestWeight, rows)
    return len(rows)


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
    table = BacktestSeries.__table__
    query = (
        select(table.c.date, *(table.c[c] for c in SERIES_COLUMNS))
        .where(table.c.run_id == run_id)
        .order_by(table.c.date)
    )
    frame = pd.DataFrame(connection.execute(query).all(), columns=["date", *SERIES_COLUMNS])
    frame["date"] = pd.to_datetime(frame["date"])
    for column in SERIES_COLUMNS:
        frame[column] = frame[column].astype(np.float64)
    return frame.set_index("date")


def load_fills(connection: Connection, run_id: str) -> pd.DataFrame:
    table = BacktestFill.__table__
    query = (
        select(*(table.c[c] for c in FILL_COLUMNS))
        .where(table.c.run_id == run_id)
        .order_by(table.c.seq)
    )
    frame = pd.DataFrame(connection.execute(query).all(), columns=list(FILL_COLUMNS))
    frame["date"] = pd.to_datetime(frame["date"])
    return frame.astype({"quantity": "float64", "price": "float64", "commission": "float64"})


def load_trades(connection: Connection, run_id: str) -> pd.DataFrame:
    table = BacktestTrade.__table__
    query = (
        select(*(table.c[c] for c in TRADE_COLUMNS))
        .where(table.c.run_id == run_id)
        .order_by(table.c.seq)
    )
    frame = pd.DataFrame(connection.execute(query).all(), columns=list(TRADE_COLUMNS))
    for column in ("entry_date", "exit_date"):
        frame[column] = pd.to_datetime(frame[column])
    floats = ("quantity", "entry_price", "exit_price", "pnl", "return")
    frame = frame.astype(dict.fromkeys(floats, "float64"))
    frame["is_open"] = frame["exit_date"].isna()
    return frame


def load_weights(connection: Connection, run_id: str) -> pd.DataFrame:
    table = BacktestWeight.__table__
    query = (
        select(table.c.date, table.c.symbol, table.c.weight)
        .where(table.c.run_id == run_id)
        .order_by(table.c.date, table.c.symbol)
    )
    frame = pd.DataFrame(connection.execute(query).all(), columns=["date", "symbol", "weight"])
    frame["date"] = pd.to_datetime(frame["date"])
    return frame.astype({"weight": "float64"})


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
def _insert(connection: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """Bulk insert through the driver's ``executemany`` (tens of thousands of rows per run:
    SQLAlchemy's per-row parameter processing would take most of the store time)."""
    if not rows:
        return
    columns = table.__table__.columns
    keys = [column.key for column in columns]
    names = ", ".join(f'"{column.name}"' for column in columns)
    marks = ", ".join("?" if connection.dialect.paramstyle == "qmark" else "%s" for _ in keys)
    sqlite = connection.dialect.name == "sqlite"
    values = [tuple(_driver_value(row.get(key), sqlite) for key in keys) for row in rows]
    sql = f"INSERT INTO {table.__tablename__} ({names}) VALUES ({marks})"
    connection.exec_driver_sql(sql, values)


def _driver_value(value: Any, sqlite: bool) -> Any:
    # SQLAlchemy's Date type stores ISO strings on SQLite; the driver would need an adapter
    if sqlite and isinstance(value, date):
        return value.isoformat()
    return value


def _dates(values: Any) -> list[date]:
    index = pd.DatetimeIndex(values)
    if index.tz is not None:
        index = index.tz_convert(None)
    return [d.date() for d in index.to_pydatetime()]


def _optional_dates(values: pd.Series) -> list[date | None]:
    index = pd.DatetimeIndex(values)
    return [None if pd.isna(d) else d.date() for d in index]


def _nullable(values: np.ndarray) -> list[float | None]:
    out: list[float | None] = values.tolist()
    for i in np.flatnonzero(~np.isfinite(values)).tolist():
        out[i] = None
    return out


def _optional(value: Any) -> float | None:
    if value is None or pd.isna(value):
        return None
    number = float(value)
    return number if np.isfinite(number) else None
