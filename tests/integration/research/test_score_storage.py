"""Scores are stored in one bulk statement from whole columns, with the same rows as the old
per-row path (issue 11: 112 k scores took 2.2 s, one dict and one ``json.dumps`` per row)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import numpy as np
import pytest
from sqlalchemy import event

from quantdesk.data.instruments import InstrumentInfo
from quantdesk.db.database import Database
from quantdesk.db.repositories import instruments as instrument_repo
from quantdesk.db.repositories import research as research_repo

# values json.dumps writes in its own ways: shortest repr, exponents, signed zero, missing
NOW = datetime(2024, 1, 2, tzinfo=UTC)
NORMALISED = np.array([1.5, -0.0, 1e-07, 1e16, np.nan, 0.1 + 0.2])
RAW = np.array([np.inf, 123456789.125, -2.5e-300, np.nan, 3.0, -np.inf])


def test_components_text_is_what_json_dumps_writes() -> None:
    texts = research_repo.components_json(
        {"price_momentum": (NORMALISED, RAW), "volume": (RAW, NORMALISED)}, len(RAW)
    )

    def finite(value: float) -> float | None:
        return value if np.isfinite(value) else None

    expected = [
        json.dumps(
            {
                "price_momentum": {"value": finite(a), "raw": finite(b)},
                "volume": {"value": finite(b), "raw": finite(a)},
            }
        )
        for a, b in zip(NORMALISED.tolist(), RAW.tolist(), strict=True)
    ]
    assert texts == expected
    assert research_repo.components_json({}, 2) == ["{}", "{}"]


def test_components_text_is_json_dumps_over_every_magnitude() -> None:
    # Arrow writes the digits for most values, Python's repr the rest: over 1e-12 .. 1e18, with
    # short and full digit strings and integral values, every row must equal json.dumps
    generator = np.random.default_rng(11)
    size = 60_000
    magnitude = 10.0 ** generator.uniform(-12, 18, size) * generator.choice([-1.0, 1.0], size)
    digits = 10.0 ** generator.integers(0, 8, size)
    short = np.round(magnitude * digits) / digits
    whole = np.round(magnitude)
    values = np.concatenate([magnitude, short, whole])
    raw = generator.permutation(values)
    texts = research_repo.components_json({"m": (values, raw)}, len(values))
    expected = [
        json.dumps({"m": {"value": a, "raw": b}})
        for a, b in zip(values.tolist(), raw.tolist(), strict=True)
    ]
    assert texts == expected


def test_scores_round_trip_in_one_bulk_statement(database: Database) -> None:
    days = [date(2020, 1, 31)] * 3 + [date(2020, 2, 28)] * 3
    with database.transaction() as connection:
        ids = instrument_repo.upsert_instruments(
            connection, [InstrumentInfo(symbol=s * 3) for s in "ABC"], now=NOW
        )
    id_array = np.array([ids["AAA"], ids["BBB"], ids["CCC"]] * 2, dtype=np.int64)
    scores = research_repo.ScoreColumns(
        dates=days,
        instrument_ids=id_array,
        universe="all",
        score=np.array([2.0, 1.0, 0.5, 0.25, 3.0, -1.0]),
        rank=np.array([1, 2, 3, 2, 1, 3]),
        sector_rank=[1, 2, None, 2, 1, None],
        weight_coverage=np.array([1.0, 0.7, np.nan, 1.0, 1.0, 0.65]),
        components={"price_momentum": (NORMALISED, RAW)},
    )
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]).lower())

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        with database.transaction() as connection:
            written = research_repo.replace_scores(connection, "set", sorted(set(days)), scores)
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    assert written == 6
    inserts = [s for s in statements if "insert into factor_scores" in s or "copy" in s]
    assert len(inserts) <= 1  # SQLite: one executemany; PostgreSQL: COPY on the raw cursor

    with database.read() as connection:
        stored = research_repo.load_scores_on(connection, "set", date(2020, 2, 28))
        raw_text = connection.exec_driver_sql(
            "SELECT components FROM factor_scores ORDER BY date, instrument_id"
        ).scalars()
        documents = [json.loads(t) if isinstance(t, str) else t for t in raw_text]
    assert stored["symbol"].tolist() == ["BBB", "AAA", "CCC"]
    assert stored["rank"].tolist() == [1, 2, 3]
    assert stored["sector_rank"].tolist()[:2] == [1, 2]
    assert stored["sector_rank"].isna().tolist() == [False, False, True]
    np.testing.assert_array_equal(stored["weight_coverage"], [1.0, 1.0, 0.65])
    assert stored["universe"].tolist() == ["all"] * 3
    assert documents[0] == {"price_momentum": {"value": 1.5, "raw": None}}
    assert documents[4] == {"price_momentum": {"value": None, "raw": 3.0}}

    with database.transaction() as connection:  # replacing a date deletes its old rows first
        again = research_repo.replace_scores(connection, "set", sorted(set(days)), scores)
        assert again == research_repo.count_scores(connection, "set") == 6


def test_an_empty_score_set_only_deletes(database: Database) -> None:
    count = 0
    empty = research_repo.ScoreColumns(
        dates=[],
        instrument_ids=np.zeros(count, dtype=np.int64),
        universe="all",
        score=np.zeros(count),
        rank=np.zeros(count, dtype=np.int64),
        sector_rank=[],
        weight_coverage=np.zeros(count),
        components={},
    )
    with database.transaction() as connection:
        assert research_repo.replace_scores(connection, "set", [date(2020, 1, 31)], empty) == 0


def test_copy_text_keeps_tabs_backslashes_and_escaped_json(database: Database) -> None:
    """Regression guard for PostgreSQL's COPY text (built column-wise, not by psycopg per row):
    a tab or backslash in the set or universe name and the backslashes ``json.dumps`` writes
    for quotes and non-ASCII names must be stored as given, on both backends."""
    with database.transaction() as connection:
        ids = instrument_repo.upsert_instruments(
            connection, [InstrumentInfo(symbol=s) for s in ("AAA", "BBB")], now=NOW
        )
    components = {'é "quoted"\\': (np.array([0.5, np.nan]), np.array([-0.0, 1e-07]))}
    scores = research_repo.ScoreColumns(
        dates=[date(2020, 1, 31), date(2020, 1, 31)],
        instrument_ids=np.array([ids["AAA"], ids["BBB"]], dtype=np.int64),
        universe="AAA,BBB\t\\x",
        score=np.array([0.1 + 0.2, -1e-300]),
        rank=np.array([1, 2]),
        sector_rank=[None, 1],
        weight_coverage=np.array([np.inf, 2 / 3]),
        components=components,
    )
    with database.transaction() as connection:
        research_repo.replace_scores(connection, "set\t\\n", [date(2020, 1, 31)], scores)
    with database.read() as connection:
        rows = connection.exec_driver_sql(
            "SELECT score_set, universe, score, rank, sector_rank, weight_coverage, "
            "CAST(components AS TEXT) FROM factor_scores ORDER BY rank"
        ).all()
    texts = research_repo.components_json(components, 2)
    assert [tuple(r) for r in rows] == [
        ("set\t\\n", "AAA,BBB\t\\x", 0.1 + 0.2, 1, None, None, texts[0]),
        ("set\t\\n", "AAA,BBB\t\\x", -1e-300, 2, 1, 2 / 3, texts[1]),
    ]
    assert '\\u00e9 \\"quoted\\"\\\\' in texts[0]


def _columns(ids: dict[str, int], rows: list[tuple[str, int, float]]) -> research_repo.ScoreColumns:
    """Scores of (symbol, day of January 2020, score) rows; ranks by order, one component."""
    values = np.array([score for _, _, score in rows])
    return research_repo.ScoreColumns(
        dates=[date(2020, 1, day) for _, day, _ in rows],
        instrument_ids=np.array([ids[symbol] for symbol, _, _ in rows], dtype=np.int64),
        universe="all",
        score=values,
        rank=np.arange(1, len(rows) + 1),
        sector_rank=[None] * len(rows),
        weight_coverage=np.full(len(rows), 1.0),
        components={"m": (values, -values)},
    )


def _stored(database: Database) -> list[tuple[object, ...]]:
    with database.read() as connection:
        rows = connection.exec_driver_sql(
            "SELECT score_set, CAST(date AS TEXT), instrument_id, score, rank, "
            "CAST(components AS TEXT) FROM factor_scores ORDER BY 1, 2, 3"
        ).all()
    # PostgreSQL keeps NaN (SQLite stores NULL): NaN != NaN, so compare it as None
    return [tuple(None if isinstance(v, float) and np.isnan(v) else v for v in r) for r in rows]


def test_replacing_stored_scores_leaves_exactly_the_new_rows(database: Database) -> None:
    """Recomputing rewrites only what changed on SQLite (issue 11); the stored slice must still
    end up exactly the new scores: changed rows replaced, rows no longer scored deleted, rows
    on other dates and of other sets kept, NaN and -0.0 stored as a fresh insert stores them."""
    with database.transaction() as connection:
        ids = instrument_repo.upsert_instruments(
            connection, [InstrumentInfo(symbol=s * 3) for s in "ABCD"], now=NOW
        )
    first = [("AAA", 2, 1.0), ("BBB", 2, 0.0), ("CCC", 2, np.nan), ("AAA", 3, 2.0), ("DDD", 3, 5.0)]
    kept_elsewhere = [("AAA", 9, 7.0)]
    second = [("AAA", 2, 1.0), ("BBB", 2, -0.0), ("CCC", 2, np.nan), ("AAA", 3, 2.5)]
    second += [("BBB", 3, 4.0)]  # DDD on the 3rd is no longer scored; BBB is new
    with database.transaction() as connection:
        research_repo.replace_scores(
            connection, "set", [date(2020, 1, 9)], _columns(ids, kept_elsewhere)
        )
        research_repo.replace_scores(connection, "other", [date(2020, 1, 2)], _columns(ids, first))
        research_repo.replace_scores(
            connection, "set", [date(2020, 1, 2), date(2020, 1, 3)], _columns(ids, first)
        )
    with database.transaction() as connection:
        written = research_repo.replace_scores(
            connection, "set", [date(2020, 1, 2), date(2020, 1, 3)], _columns(ids, second)
        )
    assert written == len(second)
    after_update = _stored(database)

    with database.transaction() as connection:  # the same slice written into an empty one
        connection.exec_driver_sql("DELETE FROM factor_scores WHERE score_set = 'set'")
        research_repo.replace_scores(
            connection, "set", [date(2020, 1, 9)], _columns(ids, kept_elsewhere)
        )
        research_repo.replace_scores(
            connection, "set", [date(2020, 1, 2), date(2020, 1, 3)], _columns(ids, second)
        )
    assert after_update == _stored(database)
    in_set = [r for r in after_update if r[0] == "set"]
    assert [(r[1], r[2]) for r in in_set] == [
        ("2020-01-02", ids["AAA"]),
        ("2020-01-02", ids["BBB"]),
        ("2020-01-02", ids["CCC"]),
        ("2020-01-03", ids["AAA"]),
        ("2020-01-03", ids["BBB"]),
        ("2020-01-09", ids["AAA"]),
    ]
    assert [r[3] for r in in_set][3:5] == [2.5, 4.0]
    assert len([r for r in after_update if r[0] == "other"]) == len(first)


def test_recomputing_unchanged_scores_writes_nothing_on_sqlite(database: Database) -> None:
    """Regression (issue 11): a recompute of unchanged history deleted and re-inserted every
    row (about 1 s of a ``scores --compute`` on 109 k rows); equal rows are now left alone."""
    if database.engine.dialect.name != "sqlite":
        return  # PostgreSQL replaces the dates with one DELETE and one COPY
    with database.transaction() as connection:
        ids = instrument_repo.upsert_instruments(
            connection, [InstrumentInfo(symbol=s * 3) for s in "AB"], now=NOW
        )
    scores = _columns(
        ids, [("AAA", 2, 1.0), ("BBB", 2, np.nan), ("AAA", 3, -0.0), ("BBB", 3, np.inf)]
    )
    days = [date(2020, 1, 2), date(2020, 1, 3)]
    with database.transaction() as connection:
        research_repo.replace_scores(connection, "set", days, scores)
    before = _stored(database)
    assert [row[3] for row in before] == [1.0, None, 0.0, np.inf]  # SQLite has no NaN
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]).split()[0].lower())

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        with database.transaction() as connection:
            assert research_repo.replace_scores(connection, "set", days, scores) == 4
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    assert "insert" not in statements
    assert "delete" not in statements
    assert _stored(database) == before


def test_a_first_write_in_chunks_stores_what_one_insert_of_every_row_stores(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's first write of a slice inserts a chunk of rows at a time, building the next
    chunk's components JSON on a thread meanwhile: the stored rows must not depend on it."""
    with database.transaction() as connection:
        ids = instrument_repo.upsert_instruments(
            connection, [InstrumentInfo(symbol=s * 3) for s in "ABCDE"], now=NOW
        )
    values = [1.0, np.nan, -0.0, np.inf, 1e-7, 2.5, 1e16, -3.25, 0.1 + 0.2, 4.0, 5.0, 6.0, 7.0]
    rows = [("ABCDE"[k % 5] * 3, 2 + k // 5, value) for k, value in enumerate(values)]
    days = sorted({date(2020, 1, day) for _, day, _ in rows})
    with database.transaction() as connection:
        research_repo.replace_scores(connection, "whole", days, _columns(ids, rows))
    monkeypatch.setattr(research_repo, "_INSERT_ROWS", 3)  # five chunks, the last of one row
    with database.transaction() as connection:
        assert research_repo.replace_scores(connection, "chunks", days, _columns(ids, rows)) == 13
    stored = _stored(database)
    whole = [row[1:] for row in stored if row[0] == "whole"]
    assert [row[1:] for row in stored if row[0] == "chunks"] == whole
    assert len(whole) == len(values)
