"""Panels come through the fast column paths on both backends (ADBC's Arrow columns on SQLite;
on PostgreSQL one packed row per instrument, read over a few connections sharing a snapshot) and
equal, array for array, both the caller-connection reads and a pandas pivot of the file
(issue 11: the row-wise SQLite read built millions of Python tuples, 3.8 s and +220 MB for
500 × 20 y; PostgreSQL parsed 2.3 M rows of CSV text, then took 2.4 s as one row per bar).
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quantdesk.config import Settings
from quantdesk.core.clock import SimulatedClock
from quantdesk.core.enums import Timeframe
from quantdesk.data.panel import Panel
from quantdesk.db import bar_reads
from quantdesk.db.database import Database
from quantdesk.db.repositories import bars
from quantdesk.db.repositories.instruments import instrument_ids
from quantdesk.services import Services, build_services

# NaN gaps (BBB has no adjusted close, AAA misses a day), a late listing (CCC), a close-only
# symbol (DDD) and values that must survive bit for bit
ROWS = (
    "date,symbol,open,high,low,close,volume,adj_close\n"
    "2020-01-02,AAA,10.0,11.0,9.5,10.5,1000,10.4\n"
    "2020-01-03,AAA,10.5,11.5,10.0,11.0,1200,10.9\n"
    "2020-01-07,AAA,10.25,11.125,9.875,10.0625,1300,9.96\n"
    "2020-01-02,BBB,20.0,21.0,19.0,20.5,500,\n"
    "2020-01-06,BBB,20.1,21.5,19.5,21.0,700,\n"
    "2020-01-07,BBB,0.1,0.30000000000000004,0.1,0.2,0,\n"
    "2020-01-06,CCC,5.0,5.5,4.5,5.25,100,5.2\n"
    "2020-01-07,CCC,5.25,5.75,5.0,5.5,150,5.45\n"
)
CLOSE_ONLY = "date,symbol,close\n2020-01-03,DDD,42.0\n2020-01-06,DDD,43.0\n"
FIELDS = ("open", "high", "low", "close", "volume", "adj_close")


@pytest.fixture
def loaded(database: Database, clock: SimulatedClock, tmp_path: Path) -> Services:
    services = build_services(
        Settings(data_dir=tmp_path / "data", database_url=database.url),
        clock=clock,
        database=database,
    )
    path, close_only = tmp_path / "bars.csv", tmp_path / "close_only.csv"
    path.write_text(ROWS)
    close_only.write_text(CLOSE_ONLY)
    services.data.import_files([path, close_only])
    return services


def expected_panel() -> Panel:
    frame = pd.concat(
        [pd.read_csv(io.StringIO(text), parse_dates=["date"]) for text in (ROWS, CLOSE_ONLY)]
    )
    return Panel.from_frames(
        {f: frame.pivot(index="date", columns="symbol", values=f) for f in FIELDS}
    )


def read(database: Database, timeframe: Timeframe = Timeframe.D1) -> Panel:
    with database.read() as connection:
        return bars.load_panel(connection, None, FIELDS, timeframe)


def assert_same(panel: Panel, expected: Panel) -> None:
    np.testing.assert_array_equal(panel.dates, expected.dates)
    assert panel.symbols == expected.symbols
    for field in FIELDS:
        assert panel[field].dtype == np.float64
        np.testing.assert_array_equal(panel[field], expected[field], err_msg=field)


def refuse(*args: object) -> None:
    raise AssertionError("the panel was not read through the fast path")


def fast_paths_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse the caller-connection reads; on PostgreSQL even four symbols take the two
    connections (the split starts at a few dozen symbols otherwise)."""
    monkeypatch.setattr(bar_reads, "_read_generic", refuse)
    monkeypatch.setattr(bar_reads, "_read_postgres_here", refuse)
    monkeypatch.setattr(bar_reads, "_PARALLEL_MIN_IDS", 2)


def test_panels_come_through_the_fast_path_equal_to_the_file(
    loaded: Services, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast_paths_only(monkeypatch)
    panel = read(database)
    assert panel.symbols == ("AAA", "BBB", "CCC", "DDD")
    assert np.isnan(panel["adj_close"][:, 1]).all()  # NULLs arrive as NaN
    assert np.isnan(panel["open"][:, 3]).all()  # a close-only symbol has no open
    assert_same(panel, expected_panel())


def test_the_caller_connection_reads_the_same_arrays(
    loaded: Services, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # no driver, an in-memory database or a URL the driver refuses: the caller's connection
    monkeypatch.setattr(bar_reads, "_read_sqlite_arrow", lambda *args: None)
    monkeypatch.setattr(bar_reads, "_read_postgres_parallel", lambda *args: None)
    assert_same(read(database), expected_panel())


def test_a_write_transaction_reads_its_own_uncommitted_bars(
    loaded: Services, database: Database
) -> None:
    with database.transaction() as connection:
        ids = instrument_ids(connection, ["AAA", "BBB", "CCC", "DDD"])
        connection.exec_driver_sql("DELETE FROM bars WHERE ts < 1578268800")  # before 2020-01-06
        _, ts, values = bar_reads.read_bar_columns(
            connection, sorted(ids.values()), "1d", ("close",), None, None
        )
        connection.rollback()
    assert (ts >= 1578268800).all()
    assert sorted(values["close"].tolist()) == [0.2, 5.25, 5.5, 10.0625, 21.0, 43.0]


def test_intraday_panels_keep_their_times(
    database: Database, clock: SimulatedClock, tmp_path: Path
) -> None:
    services = build_services(
        Settings(data_dir=tmp_path / "data", database_url=database.url),
        clock=clock,
        database=database,
    )
    path = tmp_path / "hourly.csv"
    path.write_text(
        "date,symbol,open,high,low,close,volume\n"
        "2020-01-02T15:00:00Z,AAA,1,2,0.5,1.5,10\n"
        "2020-01-02T14:00:00Z,AAA,1,2,0.5,1.25,10\n"
        "2020-01-03T14:00:00Z,BBB,3,4,2.5,3.5,20\n"
    )
    services.data.import_files([path], timeframe=Timeframe.H1)
    panel = read(database, Timeframe.H1)
    assert panel.dates.astype(str).tolist() == [
        "2020-01-02T14:00:00.000000000",
        "2020-01-02T15:00:00.000000000",
        "2020-01-03T14:00:00.000000000",
    ]
    np.testing.assert_array_equal(panel["close"], [[1.25, np.nan], [1.5, np.nan], [np.nan, 3.5]])


@pytest.mark.parametrize("seed", range(5))
def test_rows_of_equals_numpy_unique(seed: int) -> None:
    generator = np.random.default_rng(seed)
    days = generator.integers(-3_000, 20_000, size=500)
    stamps = days * 86_400
    if seed % 2:  # intraday times take the sorting path
        stamps = stamps + generator.integers(0, 86_400, size=500)
    expected, inverse = np.unique(stamps, return_inverse=True)
    found, rows = bars._rows_of(stamps)
    np.testing.assert_array_equal(found, expected)
    np.testing.assert_array_equal(rows, inverse)


def old_bar_frame(database: Database) -> pd.DataFrame:
    """The long frame as it was built before: Python strings, ``pd.to_datetime`` and a sort."""
    with database.read() as connection:
        ids = instrument_ids(connection, ["AAA", "BBB", "CCC", "DDD"])
        inst, ts, values = bar_reads.read_bar_columns(
            connection, sorted(ids.values()), "1d", bar_reads.VALUE_COLUMNS, None, None
        )
    by_id = {v: k for k, v in ids.items()}
    frame = pd.DataFrame(
        {
            "symbol": np.asarray([by_id[int(i)] for i in inst], dtype=object),
            "ts": pd.to_datetime(ts, unit="s", utc=True),
            **values,
        }
    )
    return frame.sort_values(["symbol", "ts"], ignore_index=True)


def test_bar_frames_through_the_fast_path_equal_the_old_frame(
    loaded: Services, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = old_bar_frame(database)
    fast_paths_only(monkeypatch)
    with database.read() as connection:
        frame = bars.load_bar_frame(connection, None, committed_only=True)
    pd.testing.assert_frame_equal(frame, expected, check_exact=True)
    assert len(frame) == 10


def test_data_check_reads_through_the_fast_path_and_finds_what_the_frame_check_finds(
    loaded: Services, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from quantdesk.core.errors import NotFoundError
    from quantdesk.data.calendar import TradingCalendar
    from quantdesk.data.quality import check_quality

    reference = check_quality(
        old_bar_frame(database),
        TradingCalendar("XNYS", start=pd.Timestamp("2020-01-02").date()),
        loaded.clock.now().date(),
        source="database",
    )
    fast_paths_only(monkeypatch)
    report = loaded.reference.check_quality()
    assert report.to_dict() == reference.to_dict()
    assert report.bars == 10
    with pytest.raises(NotFoundError, match="unknown symbol"):
        loaded.reference.check_quality(["AAA", "ZZZ"])


def _copy_stream(rows: list[tuple[int, np.ndarray, list[np.ndarray]]]) -> bytes:
    """A binary COPY stream of packed rows as PostgreSQL sends it (header, rows, trailer)."""
    out = bytearray(b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big"))
    for instrument, ts, columns in rows:
        out += (2 + len(columns)).to_bytes(2, "big")
        out += (4).to_bytes(4, "big") + instrument.to_bytes(4, "big")
        for column in (ts.astype(">i8"), *(c.astype(">f8") for c in columns)):
            out += len(column.tobytes()).to_bytes(4, "big") + column.tobytes()
    return bytes(out + (-1).to_bytes(2, "big", signed=True))


class _FakeCopy:
    def __init__(self, blocks: list[bytes]) -> None:
        self.blocks = blocks

    def __enter__(self) -> list[bytes]:
        return self.blocks

    def __exit__(self, *args: object) -> None:
        return None


class _FakeRaw:
    """Just enough of a psycopg connection for ``_copy_packed``: the COPY arrives in blocks."""

    def __init__(self, blocks: list[bytes]) -> None:
        self.blocks = blocks

    def cursor(self) -> _FakeRaw:
        return self

    def __enter__(self) -> _FakeRaw:
        return self

    def __exit__(self, *args: object) -> None:
        return None

    def copy(self, statement: str) -> _FakeCopy:
        assert statement.startswith("COPY (SELECT instrument_id")
        return _FakeCopy(self.blocks)


@pytest.mark.parametrize("block", [1, 7, 10_000])
def test_packed_copy_rows_become_the_bar_columns(block: int) -> None:
    # PostgreSQL sends one message per row (the header rides with the first); the stream is
    # gathered whole, then each column written into its final array in native byte order
    generator = np.random.default_rng(block)
    rows = [
        (7, np.array([86_400, 2 * 86_400]), [np.array([1.5, np.nan]), np.array([2.0, -0.0])]),
        (3, np.arange(5) * 86_400, [generator.normal(size=5), generator.normal(size=5)]),
        (1_000_000, np.array([-86_400]), [np.array([np.inf]), np.array([1e-300])]),
    ]
    stream = _copy_stream(rows)
    blocks = [stream[i : i + block] for i in range(0, len(stream), block)]
    select = bar_reads._packed_select("1 = 1", ("close", "volume"))
    half = len(rows) // 2
    buffers = [
        bar_reads._copy_packed(_FakeRaw(blocks), select),
        bytearray(_copy_stream(rows[:half])),  # a second connection's half
    ]
    ids, ts, values = bar_reads._joined(buffers, ("close", "volume"))
    both = [*rows, *rows[:half]]
    np.testing.assert_array_equal(ids, [7, 7, 3, 3, 3, 3, 3, 1_000_000, 7, 7])
    np.testing.assert_array_equal(ts, np.concatenate([r[1] for r in both]))
    assert ts.dtype == np.int64
    assert ids.dtype == np.int64
    for k, name in enumerate(("close", "volume")):
        expected = np.concatenate([r[2][k] for r in both])
        assert values[name].dtype == np.float64
        np.testing.assert_array_equal(values[name], expected)
        assert np.signbit(values[name]).tolist() == np.signbit(expected).tolist()


@pytest.mark.parametrize(
    ("stream", "message"),
    [
        (b"garbage that is long enough to hold a header", "no binary COPY header"),
        (_copy_stream([(1, np.array([0]), [np.array([1.0])])])[:-2], "without its trailer"),
        (_copy_stream([(1, np.array([0]), [np.array([1.0])])])[:-6], "inside a row"),
    ],
)
def test_a_broken_packed_stream_is_refused(stream: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        bar_reads._joined([bytearray(stream)], ("close",))


@pytest.mark.parametrize(
    "database", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_a_committed_postgres_read_sees_one_snapshot_over_both_connections(
    loaded: Services, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that commits while the connections read lands in no part: every reader reads the
    snapshot the first one exported."""
    fast_paths_only(monkeypatch)
    real = bar_reads._copy_packed
    calls: list[str] = []

    def copy_then_commit_a_write(raw: object, select: str) -> object:
        calls.append(select)
        if len(calls) == 1:  # between the snapshot and the second half's read
            with database.transaction() as connection:
                connection.exec_driver_sql("UPDATE bars SET close = close * 2")
        return real(raw, select)

    monkeypatch.setattr(bar_reads, "_copy_packed", copy_then_commit_a_write)
    # the parts one after the other, so the write commits between them deterministically
    monkeypatch.setattr(bar_reads, "ThreadPoolExecutor", lambda n: ThreadPoolExecutor(1))
    panel = read(database)
    assert len(calls) == min(4, bar_reads._READERS)  # four symbols, one per reader
    assert_same(panel, expected_panel())
    assert read(database)["close"][0, 0] == 21.0  # the write did commit


@pytest.mark.parametrize(
    "database", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_a_server_refusing_more_connections_leaves_the_read_to_the_caller(
    loaded: Services, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    def too_many(*args: object, **kwargs: object) -> None:
        raise psycopg.OperationalError("sorry, too many clients already")

    monkeypatch.setattr(bar_reads, "_PARALLEL_MIN_IDS", 2)
    monkeypatch.setattr(database.engine.dialect, "connect", too_many)
    assert_same(read(database), expected_panel())
