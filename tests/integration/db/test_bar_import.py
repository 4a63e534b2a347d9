"""Importing bars: good files land once, bad files name the fault and write nothing."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from quantdesk.core.errors import DataValidationError
from quantdesk.services import Services

HEADER = "date,symbol,open,high,low,close,volume,adj_close\n"
GOOD_ROWS = (
    "2024-01-02,AAA,10.0,11.0,9.5,10.5,1000,10.4\n"
    "2024-01-03,AAA,10.5,11.5,10.0,11.0,1200,10.9\n"
    "2024-01-02,BBB,20.0,21.0,19.0,20.5,500,\n"
)


def write(tmp_path: Path, body: str, name: str = "bars.csv") -> Path:
    path = tmp_path / name
    path.write_text(body)
    return path


def table_counts(services: Services) -> tuple[int, int, int]:
    status = services.data.status()
    return status.symbols, status.bars, len(services.data.recent_imports())


def test_valid_file_imports_every_row(services: Services, tmp_path: Path) -> None:
    report = services.data.import_files([write(tmp_path, HEADER + GOOD_ROWS)])

    assert (report.rows_read, report.inserted, report.updated, report.rejected) == (3, 3, 0, 0)
    bars = services.data.get_bars("AAA")
    assert bars["close"].tolist() == [10.5, 11.0]
    assert bars["ts"].iloc[0] == pd.Timestamp("2024-01-02", tz="UTC")
    bbb = services.data.get_latest_bar("BBB")
    assert bbb["adj_close"] is None


def test_single_row_file_imports(services: Services, tmp_path: Path) -> None:
    report = services.data.import_files([write(tmp_path, HEADER + GOOD_ROWS.splitlines()[0])])
    assert report.inserted == 1
    assert services.data.status().bars == 1


def test_reimport_changes_nothing_and_a_changed_value_updates_one_row(
    services: Services, tmp_path: Path
) -> None:
    path = write(tmp_path, HEADER + GOOD_ROWS)
    services.data.import_files([path])
    again = services.data.import_files([path])
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)

    changed = write(tmp_path, HEADER + GOOD_ROWS.replace("10.5,1000", "10.6,1000"), "v2.csv")
    report = services.data.import_files([changed])
    assert (report.inserted, report.updated) == (0, 1)
    assert services.data.get_bars("AAA")["close"].iloc[0] == 10.6


BAD_FILES = {
    "negative price": (
        GOOD_ROWS + "2024-01-04,AAA,10.5,11.5,10.0,-11.0,1200,10.9\n",
        (5, "AAA", "close", "positive"),
    ),
    "NaN price": (
        GOOD_ROWS + "2024-01-04,AAA,10.5,11.5,10.0,NaN,1200,10.9\n",
        (5, "AAA", "close", "missing"),
    ),
    "non-numeric price": (
        GOOD_ROWS + "2024-01-04,AAA,10.5,abc,10.0,11.0,1200,10.9\n",
        (5, "AAA", "high", "not a number"),
    ),
    "high below low": (
        GOOD_ROWS + "2024-01-04,AAA,10.5,9.0,10.0,9.5,1200,9.4\n",
        (5, "AAA", "high", "below low"),
    ),
    "malformed date": (
        GOOD_ROWS + "2024-13-45,AAA,10.5,11.5,10.0,11.0,1200,10.9\n",
        (5, "AAA", "date", "malformed date"),
    ),
    "conflicting duplicate": (
        GOOD_ROWS + "2024-01-03,AAA,10.5,11.5,10.0,11.2,1200,10.9\n",
        (5, "AAA", "date", "first at row 3"),
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_names_the_fault_and_writes_nothing(
    services: Services, tmp_path: Path, case: str
) -> None:
    services.data.import_files([write(tmp_path, HEADER + GOOD_ROWS, "before.csv")])
    before = table_counts(services)
    body, (row, symbol, field, words) = BAD_FILES[case]
    path = write(tmp_path, HEADER + body)

    with pytest.raises(DataValidationError) as raised:
        services.data.import_files([path])

    problem = raised.value.problems[0]
    assert (problem.source, problem.row, problem.symbol, problem.field) == (
        str(path),
        row,
        symbol,
        field,
    )
    assert words in problem.message
    assert str(path) in str(raised.value)
    assert f"row {row}" in str(raised.value)
    assert table_counts(services) == before


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ("date,symbol,open,high,close,volume\n2024-01-02,AAA,1,2,1.5,10\n", "low", "missing"),
        ("date,open,high,low,close\n2024-01-02,1,2,0.5,1.5\n", "symbol", "missing"),
        ("", None, "no data rows"),
        (HEADER, None, "no data rows"),
    ],
    ids=["missing column", "missing symbol column", "empty file", "header only"],
)
def test_structural_problems_are_reported_whole_file(
    services: Services, tmp_path: Path, body: str, field: str | None, words: str
) -> None:
    path = write(tmp_path, body)
    with pytest.raises(DataValidationError) as raised:
        services.data.import_files([path])
    problem = raised.value.problems[0]
    assert problem.row is None
    assert problem.field == field
    assert words in problem.message
    assert services.data.status().bars == 0


def test_skip_bad_imports_good_rows_and_reports_the_rest(
    services: Services, tmp_path: Path
) -> None:
    body = GOOD_ROWS + "2024-01-04,AAA,10.5,11.5,10.0,-11.0,1200,10.9\n"
    report = services.data.import_files([write(tmp_path, HEADER + body)], skip_bad=True)
    assert (report.inserted, report.rejected) == (3, 1)
    assert "row 5" in report.problems[0]
    assert "close" in report.problems[0]
    assert services.data.recent_imports()[0]["status"] == "partial"


def test_identical_duplicate_rows_collapse(services: Services, tmp_path: Path) -> None:
    body = GOOD_ROWS + GOOD_ROWS.splitlines(keepends=True)[0]
    report = services.data.import_files([write(tmp_path, HEADER + body)])
    assert (report.inserted, report.duplicates_collapsed) == (3, 1)


def test_one_file_per_symbol_takes_the_symbol_from_the_name(
    services: Services, tmp_path: Path
) -> None:
    folder = tmp_path / "per_symbol"
    folder.mkdir()
    (folder / "msft.csv").write_text(
        "Date,Open,High,Low,Close,Volume,Adj Close\n2024-01-02,370,375,366,370.9,25000000,368.1\n"
    )
    (folder / "IBM.csv").write_text(
        "Date,Open,High,Low,Close,Volume\n2024-01-02,162,163.2,161,162.9,3000000\n"
    )
    report = services.data.import_files([folder], per_symbol=True)
    assert report.symbols == 2
    assert [i.symbol for i in services.data.get_symbols()] == ["IBM", "MSFT"]
    assert services.data.get_latest_bar("MSFT")["adj_close"] == 368.1


def test_parquet_long_format_imports(services: Services, tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(["2024-01-02", "2024-01-03"]),
            "symbol": ["AAA", "AAA"],
            "open": [1.0, 2.0],
            "high": [2.0, 3.0],
            "low": [0.5, 1.5],
            "close": [1.5, 2.5],
            "volume": [100, 200],
        }
    )
    path = tmp_path / "bars.parquet"
    frame.to_parquet(path)
    report = services.data.import_files([path])
    assert report.inserted == 2
    panel = services.data.load_panel(["AAA"], ("close", "volume"))
    assert panel["close"][:, 0].tolist() == [1.5, 2.5]
    assert panel["volume"][:, 0].tolist() == [100.0, 200.0]


def test_dividend_and_split_columns_become_corporate_actions(
    services: Services, tmp_path: Path
) -> None:
    body = (
        "date,symbol,close,dividend,split\n"
        "2024-01-02,AAA,10.0,0,1\n"
        "2024-01-03,AAA,10.2,0.25,\n"
        "2024-01-04,AAA,5.1,,2\n"
    )
    report = services.data.import_files([write(tmp_path, body)])
    assert report.corporate_actions == 2
    actions = services.data.get_corporate_actions()
    assert actions[["action_type", "value"]].values.tolist() == [["dividend", 0.25], ["split", 2.0]]


def test_negative_split_ratio_is_rejected(services: Services, tmp_path: Path) -> None:
    body = "date,symbol,close,split\n2024-01-02,AAA,10.0,-2\n"
    with pytest.raises(DataValidationError) as raised:
        services.data.import_files([write(tmp_path, body)])
    assert (raised.value.problems[0].row, raised.value.problems[0].field) == (2, "split")


def test_close_only_reimport_keeps_stored_adjusted_closes(
    services: Services, tmp_path: Path
) -> None:
    """Regression: a file without adj_close used to overwrite stored adjusted closes with NULL."""
    services.data.import_files([write(tmp_path, HEADER + GOOD_ROWS)])
    close_only = write(tmp_path, "date,symbol,close\n2024-01-02,AAA,10.6\n", "close_only.csv")

    report = services.data.import_files([close_only])

    assert report.updated == 1
    bar = services.data.get_bars("AAA").iloc[0]
    assert (bar["close"], bar["adj_close"], bar["open"]) == (10.6, 10.4, 10.0)


def test_daily_dates_with_a_utc_offset_stay_on_their_session(
    services: Services, tmp_path: Path
) -> None:
    """Regression: yfinance-style dates (midnight New York) landed at 05:00 UTC, so a panel
    mixing them with plain dates had two rows per day."""
    body = (
        "date,symbol,close\n"
        "2023-01-04 00:00:00-05:00,YFX,10.0\n"
        "2023-01-05T00:00:00-05:00,YFX,10.5\n"
        "2023-01-04,PLAIN,20.0\n"
        "2023-01-05,PLAIN,20.5\n"
    )
    services.data.import_files([write(tmp_path, body)])
    panel = services.data.load_panel(["PLAIN", "YFX"])
    assert panel.shape == (2, 2)
    assert str(panel.dates[0]) == "2023-01-04T00:00:00.000000000"
    assert panel["close"].tolist() == [[20.0, 10.0], [20.5, 10.5]]


def test_intraday_timestamps_keep_their_time(services: Services, tmp_path: Path) -> None:
    from quantdesk.core.enums import Timeframe

    body = "date,symbol,close\n2023-01-04T09:31:00-05:00,MIN,10.0\n"
    services.data.import_files([write(tmp_path, body)], timeframe=Timeframe.M1)
    bars = services.data.get_bars("MIN", timeframe=Timeframe.M1)
    assert bars["ts"].iloc[0] == pd.Timestamp("2023-01-04 14:31", tz="UTC")
