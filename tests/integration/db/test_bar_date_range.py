"""The data's date range comes from primary-key seeks, not a count of every bar (issue 11)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event

from quantdesk.core.enums import Timeframe
from quantdesk.core.errors import NotFoundError
from quantdesk.db.database import Database
from quantdesk.services import Services

ROWS = (
    "date,symbol,open,high,low,close,volume,adj_close\n"
    "2019-12-31,AAA,10.0,11.0,9.5,10.5,1000,10.4\n"
    "2020-01-02,AAA,10.5,11.5,10.0,11.0,1200,10.9\n"
    "2018-06-01,BBB,20.0,21.0,19.0,20.5,500,\n"
    "2021-03-04,BBB,20.0,21.0,19.0,20.5,500,\n"
    "2020-05-05,CCC,5.0,5.5,4.5,5.2,100,\n"
)
ROWS_LATER = "2021-03-05,BBB,20.0,21.0,19.0,20.5,500,\n"


def test_date_range_is_exact_and_reads_no_bar_count(
    services: Services, database: Database, tmp_path: Path
) -> None:
    path = tmp_path / "bars.csv"
    path.write_text(ROWS)
    services.data.import_files([path])
    statements: list[str] = []
    engine = database.engine

    def record(*args: object) -> None:
        statements.append(str(args[2]).lower())

    event.listen(engine, "before_cursor_execute", record)
    try:
        first, last = services.data.get_date_range()
        only_aaa = services.data.get_date_range("AAA")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert (first, last) == (datetime(2018, 6, 1, tzinfo=UTC), datetime(2021, 3, 4, tzinfo=UTC))
    assert only_aaa == (datetime(2019, 12, 31, tzinfo=UTC), datetime(2020, 1, 2, tzinfo=UTC))
    assert statements, "no query was recorded: the check is vacuous"
    assert not any("count(" in s or "group by" in s for s in statements), statements
    with pytest.raises(NotFoundError, match="no 1m bars"):
        services.data.get_date_range(timeframe=Timeframe.M1)
    with pytest.raises(NotFoundError, match="'ZZZ'"):
        services.data.get_date_range("ZZZ")


def record_statements(database: Database) -> tuple[list[str], Callable[[], None]]:
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]).lower())

    event.listen(database.engine, "before_cursor_execute", record)
    return statements, lambda: event.remove(database.engine, "before_cursor_execute", record)


def test_status_counts_from_the_fetch_log_and_seeks_without_reading_the_bars(
    services: Services, database: Database, tmp_path: Path
) -> None:
    """`data status` counted the bars with a grouped scan of every bar (4.3 s on the 2.4 M-bar
    SQLite database); with one timeframe it now reads no bar beyond two seeks per symbol."""
    path = tmp_path / "bars.csv"
    path.write_text(ROWS)
    services.data.import_files([path])
    # a re-import that updates one bar and adds one: the log's inserted rows stay exact
    again = tmp_path / "again.csv"
    again.write_text(ROWS.replace("2020-05-05,CCC,5.0", "2020-05-05,CCC,5.1") + ROWS_LATER)
    services.data.import_files([again])
    statements, stop = record_statements(database)
    try:
        status = services.data.status()
    finally:
        stop()
    with database.read() as connection:
        stored = connection.exec_driver_sql("SELECT count(*) FROM bars").scalar_one()
    assert status.bars == stored == 6
    assert status.symbols_with_bars == 3
    assert status.by_timeframe == {"1d": 6}
    assert (status.first_date, status.latest_date) == (
        datetime(2018, 6, 1).date(),
        datetime(2021, 3, 5).date(),
    )
    assert statements, "no query was recorded: the check is vacuous"
    assert not any("from bars" in s and ("count(" in s or "group by" in s) for s in statements)


def test_status_splits_several_timeframes_with_one_grouped_count(
    services: Services, database: Database, tmp_path: Path
) -> None:
    path, hourly = tmp_path / "bars.csv", tmp_path / "hourly.csv"
    path.write_text(ROWS)
    hourly.write_text(
        "date,symbol,open,high,low,close,volume\n"
        "2020-01-02T14:00:00Z,AAA,1,2,0.5,1.5,10\n"
        "2020-01-02T15:00:00Z,AAA,1,2,0.5,1.25,10\n"
    )
    services.data.import_files([path])
    services.data.import_files([hourly], timeframe=Timeframe.H1)
    statements, stop = record_statements(database)
    try:
        status = services.data.status()
    finally:
        stop()
    assert status.bars == 7
    assert status.by_timeframe == {"1h": 2, "1d": 5}
    assert status.symbols_with_bars == 3  # daily bars
    scans = [s for s in statements if "from bars" in s and "count(" in s]
    assert len(scans) == 1, scans
