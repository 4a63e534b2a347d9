"""Stored research results: factor scores per (score set, date, symbol) and strategy signals.

Writers replace whole (set, dates) or (strategy, date) slices, so recomputing is idempotent.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
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


@dataclass(frozen=True)
class ScoreColumns:
    """Scores of one set to store, as equally long columns (one entry per date × instrument).

    ``weight_coverage`` is a fraction, NaN where not measured; ``sector_rank`` holds None where
    a symbol has no sector; ``components`` maps a name to its (normalised, raw) values, NaN for
    a missing value.
    """

    dates: Sequence[date]
    instrument_ids: np.ndarray
    universe: str
    score: np.ndarray
    rank: np.ndarray
    sector_rank: Sequence[int | None]
    weight_coverage: np.ndarray
    components: Mapping[str, tuple[np.ndarray, np.ndarray]]

    def __len__(self) -> int:
        return len(self.instrument_ids)


def replace_scores(
    connection: Connection, score_set: str, dates: Iterable[date], scores: ScoreColumns
) -> int:
    """Replace the stored rows of ``score_set`` on ``dates`` with ``scores``; returns how many
    rows the set now holds on those dates (``len(scores)``).

    PostgreSQL: one ``DELETE`` per 500 dates and one bulk ``COPY``. SQLite: only the rows that
    differ from what is stored are deleted and inserted (one ``executemany`` each), so
    recomputing unchanged history writes almost nothing; when most rows differ, the dates are
    deleted in bulk and every row inserted; when nothing is stored on the dates, every row is
    inserted a chunk at a time (:func:`_insert_all`). Either way the stored rows end up exactly
    ``scores``, within the caller's transaction.
    """
    days = sorted(set(dates))
    if connection.dialect.name != "postgresql":
        _replace_changed_rows(connection, score_set, days, scores)
        return len(scores)
    _delete_dates(connection, score_set, days)
    if len(scores):
        _copy_scores(connection, score_set, scores)
    return len(scores)


_COLUMNS = (
    "score_set, date, instrument_id, universe, score, rank, sector_rank, weight_coverage, "
    "components"
)
_COPY_ROWS = 50_000  # rows per COPY text chunk: a few MB at a time, far from Arrow's 2 GB


def _delete_dates(connection: Connection, score_set: str, days: Sequence[date]) -> None:
    for start in range(0, len(days), _CHUNK):
        connection.execute(
            delete(FactorScore).where(
                FactorScore.score_set == score_set,
                FactorScore.date.in_(days[start : start + _CHUNK]),
            )
        )


def _replace_changed_rows(
    connection: Connection, score_set: str, days: Sequence[date], scores: ScoreColumns
) -> None:
    """SQLite: compare with the stored rows and write only the difference.

    Rows are compared as SQLite hands them back: dates as ISO text, JSON as text, NaN as NULL
    (SQLite stores no NaN) and -0.0 equal to 0.0 (SQLite stores an integral REAL as an integer,
    so both are stored alike); equal rows are stored byte for byte alike, so keeping one is the
    same as rewriting it. The stored rows are read a date at a time in instrument order, and
    the new rows put in that order: an unchanged date is one list comparison (no date per row,
    no hashing); only a changed date is compared row by row. The driver's ``executemany`` is
    used directly: SQLAlchemy's per-row parameter processing costs ~10× more.
    """
    driver: Any = connection.connection.driver_connection
    stored = {
        text: driver.execute(
            "SELECT instrument_id, universe, score, rank, sector_rank, weight_coverage, "
            "components FROM factor_scores WHERE score_set = ? AND date = ? "
            "ORDER BY instrument_id",
            (score_set, text),
        ).fetchall()
        for text in (d.isoformat() for d in days)
    }
    stored_count = sum(len(rows) for rows in stored.values())
    if not stored_count:
        _insert_all(connection, score_set, scores)
        return
    day_texts, rows = _sqlite_rows(scores)
    changed, stale = _differences(stored, day_texts, rows, scores.instrument_ids)
    kept = len(rows) - len(changed)  # each equal to one stored row (the keys are unique)
    if kept < stored_count / 2:
        # mostly new rows: deleting the dates in bulk is cheaper than row by row
        _delete_dates(connection, score_set, days)
        changed = list(range(len(rows)))
    elif kept < stored_count:
        connection.exec_driver_sql(
            "DELETE FROM factor_scores WHERE score_set = ? AND date = ? AND instrument_id = ?",
            [(score_set, text, row[0]) for text, row in stale],
        )
    if changed:
        connection.exec_driver_sql(_INSERT, [(score_set, day_texts[k], *rows[k]) for k in changed])


_INSERT = f"INSERT INTO factor_scores ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT_ROWS = 20_000  # rows per executemany when nothing was stored (see _insert_all)


def _insert_all(connection: Connection, score_set: str, scores: ScoreColumns) -> None:
    """SQLite, nothing stored on the dates (a first run): every row inserted, in order, a
    chunk at a time; the next chunk's components JSON is built on a thread while SQLite
    inserts this one (Arrow's kernels and SQLite's steps both run without the GIL). The rows
    are those :func:`_sqlite_rows` gives."""
    from concurrent.futures import ThreadPoolExecutor

    count = len(scores)
    if not count:
        return
    bounds = [*range(0, count, _INSERT_ROWS), count]
    spans = list(itertools.pairwise(bounds))

    def components(lo: int, hi: int) -> list[str]:
        part = {name: (v[lo:hi], r[lo:hi]) for name, (v, r) in scores.components.items()}
        return components_json(part, hi - lo)

    with ThreadPoolExecutor(max_workers=1) as pool:
        texts = [pool.submit(components, lo, hi) for lo, hi in spans]
        for (lo, hi), text in zip(spans, texts, strict=True):
            day_texts, rows = _sqlite_rows(_rows_of(scores, lo, hi), text.result())
            connection.exec_driver_sql(
                _INSERT, [(score_set, d, *row) for d, row in zip(day_texts, rows, strict=True)]
            )


def _rows_of(scores: ScoreColumns, lo: int, hi: int) -> ScoreColumns:
    """Rows ``lo`` to ``hi`` of ``scores`` (components left out: their text comes apart)."""
    return ScoreColumns(
        dates=scores.dates[lo:hi],
        instrument_ids=scores.instrument_ids[lo:hi],
        universe=scores.universe,
        score=scores.score[lo:hi],
        rank=scores.rank[lo:hi],
        sector_rank=scores.sector_rank[lo:hi],
        weight_coverage=scores.weight_coverage[lo:hi],
        components={},
    )


def _differences(
    stored: Mapping[str, list[tuple[Any, ...]]],
    day_texts: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    instrument_ids: np.ndarray,
) -> tuple[list[int], list[tuple[str, tuple[Any, ...]]]]:
    """The new rows no stored row equals (their positions, ascending) and the stored rows no
    new row equals (with their date). ``stored`` holds each date's rows by instrument id."""
    place = {text: k for k, text in enumerate(stored)}
    day = np.array([place.get(text, len(place)) for text in day_texts], dtype=np.int64)
    order = np.lexsort((np.asarray(instrument_ids, dtype=np.int64), day))
    bounds = np.searchsorted(day[order], np.arange(len(place) + 2)).tolist()
    by_day = order.tolist()
    changed = by_day[bounds[len(place)] :]  # dates nothing was read for: all new
    stale: list[tuple[str, tuple[Any, ...]]] = []
    for k, (text, old) in enumerate(stored.items()):
        at = by_day[bounds[k] : bounds[k + 1]]
        new = [rows[i] for i in at]
        if new == old:
            continue
        known, fresh = set(old), set(new)
        changed += [i for i in at if rows[i] not in known]
        stale += [(text, row) for row in old if row not in fresh]
    changed.sort()
    return changed, stale


def _sqlite_rows(
    scores: ScoreColumns, components: list[str] | None = None
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Each score's date as ISO text and its row without the set name and date, as SQLite
    stores and returns them (``components``: the rows' components JSON, when built already)."""
    day_text = {d: d.isoformat() for d in set(scores.dates)}
    rows = list(
        zip(
            scores.instrument_ids.tolist(),
            itertools.repeat(scores.universe),
            _nan_as_none(scores.score),  # what SQLite stores for NaN (±inf stay)
            [int(r) for r in scores.rank.tolist()],
            scores.sector_rank,
            _nullable(scores.weight_coverage),
            components_json(scores.components, len(scores)) if components is None else components,
            strict=False,
        )
    )
    return [day_text[d] for d in scores.dates], rows


def _copy_scores(connection: Connection, score_set: str, scores: ScoreColumns) -> None:
    """``COPY … FROM STDIN`` of text that Arrow builds a column at a time: no Python object per
    row or value (psycopg's ``write_row`` adapted each value in Python). Floats go as the
    shortest digits that read back as the same double; the JSON text is the SQLite path's."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def text(value: str) -> Any:
        return pa.scalar(_copy_escaped(value), pa.string())

    null = pa.scalar("\\N", pa.string())
    finite = np.isfinite(scores.weight_coverage)
    columns = [
        text(score_set),
        pc.cast(pa.array(scores.dates, pa.date32()), pa.string()),
        pc.cast(pa.array(scores.instrument_ids, pa.int64()), pa.string()),
        text(scores.universe),
        # NaN and ±inf are stored as such (psycopg wrote them so); PostgreSQL reads Arrow's words
        pc.cast(pa.array(np.asarray(scores.score, dtype=np.float64)), pa.string()),
        pc.cast(pa.array(np.asarray(scores.rank, dtype=np.int64)), pa.string()),
        pc.fill_null(pc.cast(pa.array(scores.sector_rank, pa.int64()), pa.string()), null),
        pc.fill_null(
            pc.cast(pa.array(scores.weight_coverage, pa.float64(), mask=~finite), pa.string()),
            null,
        ),
        # json.dumps escapes control characters, so only its backslashes need COPY's escape
        pc.replace_substring(_components_text(scores.components, len(scores)), "\\", "\\\\"),
    ]
    raw: Any = connection.connection.driver_connection
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY factor_scores ({_COLUMNS}) FROM STDIN") as copy,
    ):
        for start in range(0, len(scores), _COPY_ROWS):
            part = [c if isinstance(c, pa.Scalar) else c.slice(start, _COPY_ROWS) for c in columns]
            lines = pc.binary_join_element_wise(pc.binary_join_element_wise(*part, "\t"), "\n", "")
            copy.write(_string_data(lines))


def _copy_escaped(value: str) -> str:
    """``value`` as a field of PostgreSQL's COPY text format."""
    for plain, escaped in (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r")):
        value = value.replace(plain, escaped)
    return value


def _string_data(strings: Any) -> memoryview:
    """The characters of an Arrow string array's values, back to back (one buffer, no copy)."""
    offsets = np.frombuffer(strings.buffers()[1], dtype=np.int32)
    first, last = offsets[strings.offset], offsets[strings.offset + len(strings)]
    return memoryview(strings.buffers()[2])[first:last]


def components_json(
    components: Mapping[str, tuple[np.ndarray, np.ndarray]], count: int
) -> list[str]:
    """Each row's ``{name: {"value": normalised, "raw": raw}}`` as the text ``json.dumps``
    writes (null for NaN), built a column at a time by Arrow's string kernels instead of a
    document (or a Python float repr) per row."""
    texts: list[str] = _components_text(components, count).to_pylist()
    return texts


def _components_text(components: Mapping[str, tuple[np.ndarray, np.ndarray]], count: int) -> Any:
    """:func:`components_json` as an Arrow string array."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not components:
        return pa.array(["{}"] * count, pa.string())
    parts = []
    for name, (normalised, raw) in components.items():
        key = json.dumps(name)
        parts.append(
            pc.binary_join_element_wise(
                f'{key}: {{"value": ', _numbers(normalised), ', "raw": ', _numbers(raw), "}", ""
            )
        )
    return pc.binary_join_element_wise("{", pc.binary_join_element_wise(*parts, ", "), "}", "")


def _numbers(values: np.ndarray) -> Any:
    """``json.dumps``' text of each float (Python's repr, null for NaN/inf) as an Arrow array.

    Arrow writes the same shortest round-trip digits as Python for a non-integral magnitude in
    [1e-4, 1e9) (checked against repr over every decade); Python's repr fills in the rest
    (integral values keep their ".0", tiny and huge ones their exponent style), a few per set.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    floats = np.asarray(values, dtype=np.float64)
    texts = pc.cast(pa.array(floats), pa.string())
    finite = np.isfinite(floats)
    with np.errstate(invalid="ignore"):
        magnitude = np.abs(floats)
        other = finite & ((magnitude < 1e-4) | (magnitude >= 1e9) | (floats == np.trunc(floats)))
    if other.any():
        exact = [float.__repr__(v) for v in floats[other].tolist()]
        texts = pc.replace_with_mask(texts, pa.array(other), pa.array(exact, pa.string()))
    if not finite.all():
        texts = pc.if_else(pa.array(finite), texts, pa.scalar("null"))
    return texts


def _nan_as_none(values: np.ndarray) -> list[float | None]:
    out: list[float | None] = values.astype(np.float64).tolist()
    for k in np.flatnonzero(np.isnan(values)).tolist():
        out[k] = None
    return out


def _nullable(values: np.ndarray) -> list[float | None]:
    out: list[float | None] = values.astype(np.float64).tolist()
    for k in np.flatnonzero(~np.isfinite(values)).tolist():
        out[k] = None
    return out


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
