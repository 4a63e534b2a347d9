"""Stored research results: factor scores per (score set, date, symbol) and strategy signals.

Writers replace whole (set, dates) or (strategy, date) slices, so recomputing is idempotent.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Connection, delete, func, insert, select

from quantdesk.db.tables import FactorScore, Instrument, Signal

_CHUNK = 500  # dates per DELETE … IN (…): far under SQLite's bound-parameter limit
SCORE_FRAME_COLUMNS = (
    "date",
    "symbol",
    "sector",
    "universe",
    "score",
    "rank",
    "sector_rank",
    "weight_coverage",
    "components",
)
SIGNAL_FRAME_COLUMNS = (
    "strategy",
    "date",
    "symbol",
    "action",
    "target_weight",
    "confidence",
    "details",
)


def replace_scores(
    connection: Connection,
    score_set: str,
    dates: Iterable[date],
    rows: Sequence[dict[str, Any]],
) -> int:
    """Delete the stored rows of ``score_set`` on ``dates`` and insert ``rows``.

    Each row has ``date``, ``instrument_id``, ``universe``, ``score``, ``rank``, ``sector_rank``,
    ``components`` and optionally ``weight_coverage``. Returns the number of rows inserted.
    """
    days = sorted(set(dates))
    for start in range(0, len(days), _CHUNK):
        connection.execute(
            delete(FactorScore).where(
                FactorScore.score_set == score_set,
                FactorScore.date.in_(days[start : start + _CHUNK]),
            )
        )
    if not rows:
        return 0
    if connection.dialect.name == "sqlite":
        _insert_scores_sqlite(connection, score_set, rows)
    else:
        connection.execute(
            insert(FactorScore),
            [{"score_set": score_set, "weight_coverage": None, **r} for r in rows],
        )
    return len(rows)


def _insert_scores_sqlite(
    connection: Connection, score_set: str, rows: Sequence[dict[str, Any]]
) -> None:
    """One driver ``executemany``: SQLAlchemy's per-row parameter processing costs ~10× more.

    Values are stored as SQLAlchemy's SQLite types store them: dates as ISO text, JSON as text.
    """
    sql = (
        "INSERT INTO factor_scores (score_set, date, instrument_id, universe, score, rank, "
        "sector_rank, weight_coverage, components) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    params = [
        (
            score_set,
            r["date"].isoformat(),
            r["instrument_id"],
            r["universe"],
            r["score"],
            r["rank"],
            r["sector_rank"],
            r.get("weight_coverage"),
            None if r["components"] is None else json.dumps(r["components"]),
        )
        for r in rows
    ]
    connection.exec_driver_sql(sql, params)


def _score_query(score_set: str) -> Any:
    table = FactorScore.__table__
    return (
        select(
            table.c.date,
            Instrument.symbol,
            Instrument.sector,
            table.c.universe,
            table.c.score,
            table.c.rank,
            table.c.sector_rank,
            table.c.weight_coverage,
            table.c.components,
        )
        .join(Instrument, Instrument.id == table.c.instrument_id)
        .where(table.c.score_set == score_set)
    )


def empty_score_frame() -> pd.DataFrame:
    """A score frame with no rows and the columns of :func:`load_scores_on`."""
    return _typed(pd.DataFrame([], columns=list(SCORE_FRAME_COLUMNS)))


def _score_frame(connection: Connection, query: Any) -> pd.DataFrame:
    return _typed(pd.DataFrame(connection.execute(query).all(), columns=list(SCORE_FRAME_COLUMNS)))


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    frame["score"] = frame["score"].astype("float64")
    frame["weight_coverage"] = frame["weight_coverage"].astype("float64")
    for column in ("rank", "sector_rank"):
        frame[column] = frame[column].astype("Int64")
    return frame


def load_scores_on(connection: Connection, score_set: str, day: date) -> pd.DataFrame:
    """Rows of ``score_set`` on ``day``, best rank first (ties by symbol)."""
    table = FactorScore.__table__
    query = (
        _score_query(score_set).where(table.c.date == day).order_by(table.c.rank, Instrument.symbol)
    )
    return _score_frame(connection, query)


def load_score_history(connection: Connection, score_set: str, symbol: str) -> pd.DataFrame:
    """Every stored row of ``symbol`` in ``score_set``, oldest first."""
    table = FactorScore.__table__
    query = _score_query(score_set).where(Instrument.symbol == symbol).order_by(table.c.date)
    return _score_frame(connection, query)


def latest_score_date(
    connection: Connection, score_set: str, on_or_before: date | None = None
) -> date | None:
    """The latest date with stored rows of ``score_set`` (on or before the given date)."""
    query = select(func.max(FactorScore.date)).where(FactorScore.score_set == score_set)
    if on_or_before is not None:
        query = query.where(FactorScore.date <= on_or_before)
    value = connection.execute(query).scalar_one_or_none()
    return value if isinstance(value, date) else None


def score_dates(connection: Connection, score_set: str) -> list[date]:
    """Distinct dates with stored rows of ``score_set``, ascending."""
    query = (
        select(FactorScore.date)
        .where(FactorScore.score_set == score_set)
        .distinct()
        .order_by(FactorScore.date)
    )
    return list(connection.execute(query).scalars())


def count_scores(connection: Connection, score_set: str | None = None) -> int:
    query = select(func.count()).select_from(FactorScore)
    if score_set is not None:
        query = query.where(FactorScore.score_set == score_set)
    return int(connection.execute(query).scalar_one())


def replace_signals(
    connection: Connection, strategy: str, day: date, rows: Sequence[dict[str, Any]]
) -> int:
    """Replace the signals of ``strategy`` on ``day`` with ``rows`` (``instrument_id``,
    ``action``, ``target_weight``, ``confidence``, ``details``); returns rows inserted."""
    connection.execute(delete(Signal).where(Signal.strategy == strategy, Signal.date == day))
    if rows:
        connection.execute(insert(Signal), [{"strategy": strategy, "date": day, **r} for r in rows])
    return len(rows)


def load_signals(connection: Connection, strategy: str, day: date | None = None) -> pd.DataFrame:
    """Stored signals of ``strategy`` (on ``day``, or every date), by date then symbol."""
    table = Signal.__table__
    query = (
        select(
            table.c.strategy,
            table.c.date,
            Instrument.symbol,
            table.c.action,
            table.c.target_weight,
            table.c.confidence,
            table.c.details,
        )
        .join(Instrument, Instrument.id == table.c.instrument_id)
        .where(table.c.strategy == strategy)
        .order_by(table.c.date, Instrument.symbol)
    )
    if day is not None:
        query = query.where(table.c.date == day)
    frame = pd.DataFrame(connection.execute(query).all(), columns=list(SIGNAL_FRAME_COLUMNS))
    for column in ("target_weight", "confidence"):
        frame[column] = frame[column].astype("float64")
    return frame
