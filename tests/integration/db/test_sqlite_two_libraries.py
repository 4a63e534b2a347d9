"""ADBC's SQLite driver carries its own copy of SQLite beside Python's ``sqlite3``; the two do
not see each other's locks. A server thread committing while another read bars through Arrow
died with "Fatal Python error: Bus error" (the ADBC copy, believing itself alone, re-initialised
the WAL index the other had mapped). ``db/sqlite_guard`` keeps them apart: these tests run the
two at once and check the guard's rules."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from sqlalchemy import text

from quantdesk.config import Settings
from quantdesk.core.clock import SimulatedClock
from quantdesk.core.enums import Timeframe
from quantdesk.db import bar_reads, sqlite_guard
from quantdesk.db.database import Database
from quantdesk.db.repositories import bars
from quantdesk.services import build_services

FIELDS = ("open", "high", "low", "close", "volume", "adj_close")


@pytest.fixture
def file_database(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'quantdesk.db'}")
    services = build_services(
        Settings(data_dir=tmp_path / "data", database_url=database.url),
        clock=SimulatedClock(datetime(2024, 1, 2, 21, 0, tzinfo=UTC)),
        database=database,
    )
    rows = ["date,symbol,open,high,low,close,volume,adj_close"]
    days = np.datetime64("2020-01-01") + np.arange(400)
    for symbol, base in (("AAA", 10.0), ("BBB", 20.0), ("CCC", 30.0)):
        rows += [f"{d},{symbol},{base},{base + 1},{base - 1},{base},100,{base}" for d in days]
    path = tmp_path / "bars.csv"
    path.write_text("\n".join(rows) + "\n")
    services.data.import_files([path])
    yield database
    database.dispose()


def read_panel(database: Database) -> np.ndarray:
    with database.read() as connection:
        return bars.load_panel(connection, None, FIELDS, Timeframe.D1)["close"]


def test_the_arrow_reader_opens_the_file_read_only_and_never_writes_the_wal_index(
    tmp_path: Path,
) -> None:
    query = parse_qs(urlparse(sqlite_guard.arrow_uri(str(tmp_path / "x.db"))).query)
    assert query == {"mode": ["ro"], "readonly_shm": ["1"]}


def test_arrow_reads_and_commits_from_other_threads_run_together(
    file_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    arrow_reads = 0
    real = bar_reads._read_sqlite_arrow

    def counting(*args: object) -> object:
        nonlocal arrow_reads
        table = real(*args)  # type: ignore[arg-type]
        arrow_reads += table is not None
        return table

    monkeypatch.setattr(bar_reads, "_read_sqlite_arrow", counting)
    expected = read_panel(file_database)
    stop = threading.Event()
    errors: list[BaseException] = []
    commits = 0

    def writer() -> None:
        nonlocal commits
        try:
            while not stop.is_set():
                file_database.write(
                    lambda c: c.execute(text("UPDATE bars SET volume = volume WHERE ts < 0"))
                )
                commits += 1
        except BaseException as error:  # surfaced in the main thread
            errors.append(error)

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 1.5
        reads = 0
        while time.monotonic() < deadline:
            np.testing.assert_array_equal(read_panel(file_database), expected)
            reads += 1
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert errors == []
    assert reads > 3
    assert commits > 3
    assert arrow_reads > 0  # the guard let Arrow reads through between the commits


def test_a_connection_held_by_another_thread_sends_the_read_through_sqlite3(
    file_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_guard, "WAIT_SECONDS", 0.05)
    expected = read_panel(file_database)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with file_database.read() as connection:
            connection.execute(text("SELECT 1"))
            held.set()
            release.wait(5)

    other = threading.Thread(target=hold)
    other.start()
    held.wait(5)
    try:
        with sqlite_guard.arrow_read(file_database.engine) as permitted:
            assert not permitted
        np.testing.assert_array_equal(read_panel(file_database), expected)  # the row-wise path
    finally:
        release.set()
        other.join()
    with sqlite_guard.arrow_read(file_database.engine) as permitted:
        assert permitted


def test_a_checkout_waits_while_another_thread_reads_through_arrow(
    file_database: Database,
) -> None:
    order: list[str] = []
    reading = threading.Event()

    def checkout() -> None:
        reading.wait(5)
        with file_database.read() as connection:
            connection.execute(text("SELECT 1"))
            order.append("checkout")

    other = threading.Thread(target=checkout)
    other.start()
    with sqlite_guard.arrow_read(file_database.engine) as permitted:
        assert permitted
        reading.set()
        time.sleep(0.2)
        order.append("arrow read done")
    other.join()
    assert order == ["arrow read done", "checkout"]


class _CommitsAfterItsSnapshot:
    """An ADBC cursor that lets another process commit an import (bars and their fetch-log row,
    as the import path writes them) right after its first read fixed its snapshot."""

    def __init__(self, cursor: Any, path: Path) -> None:
        self._cursor, self._path, self._done = cursor, path, False

    def fetchone(self) -> Any:
        row = self._cursor.fetchone()
        if not self._done:
            self._done = True
            subprocess.run([sys.executable, "-c", _IMPORT_SCRIPT, str(self._path)], check=True)
        return row

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


_IMPORT_SCRIPT = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE bars SET close = close + 1000")
db.execute(
    "INSERT INTO fetch_log (source, target, started_at, status, rows_read, rows_inserted, "
    "rows_updated, rows_rejected) VALUES ('test', 'race', '2024-01-02', 'ok', 0, 0, 1200, 0)"
)
db.commit()
"""


def test_a_read_split_over_connections_sees_one_snapshot_when_an_import_commits_between(
    file_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # three symbols over two ADBC connections (the split starts at a few dozen otherwise);
    # the first connection's snapshot is fixed before the import, the second's after it
    monkeypatch.setattr(bar_reads, "_PARALLEL_MIN_IDS", 2)
    monkeypatch.setattr(bar_reads, "_SQLITE_READERS", 2)
    before = read_panel(file_database)
    real = bar_reads._read_parts
    path = Path(str(file_database.engine.url.database))

    def racing(cursors: list[Any], parts: list[str], whole: str) -> Any:
        assert len(cursors) == 2
        return real([_CommitsAfterItsSnapshot(cursors[0], path), *cursors[1:]], parts, whole)

    monkeypatch.setattr(bar_reads, "_read_parts", racing)
    np.testing.assert_array_equal(read_panel(file_database), before)  # not half old, half new
    monkeypatch.setattr(bar_reads, "_read_parts", real)
    np.testing.assert_array_equal(read_panel(file_database), before + 1000)
