"""One rulebook: what the importer refuses, ``data check`` calls an error — row by row."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from quantdesk.core.errors import DataValidationError
from quantdesk.data.quality import check_quality
from quantdesk.data.sources.csv_files import read_and_validate, read_table
from quantdesk.data.validation import validate_bars

HEADER = "date,symbol,open,high,low,close,volume,dividend\n"
GOOD = "2024-01-02,AAA,10,11,9,10.5,100,0\n"
TODAY = date(2024, 6, 3)


def _validate(text: str):  # type: ignore[no-untyped-def]
    raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    return validate_bars(raw, "bars.csv", today=TODAY)


# row 3 of each file breaks one hard rule; (field, words in the message)
HARD_ROWS = {
    "close above high": ("2024-01-03,AAA,10,11,9,30,100,0", "close", "outside [low, high]"),
    "open below low": ("2024-01-03,AAA,5,11,9,10,100,0", "open", "outside [low, high]"),
    "high below low": ("2024-01-03,AAA,10,9,11,10,100,0", "high", "below low"),
    "price 1e300": ("2024-01-03,AAA,1e300,1e300,1e300,1e300,100,0", "open", "within"),
    "price 5e-324": ("2024-01-03,AAA,10,11,9,5e-324,100,0", "close", "within"),
    "infinite volume": ("2024-01-03,AAA,10,11,9,10,inf,0", "volume", "finite"),
    "infinite dividend": ("2024-01-03,AAA,10,11,9,10,100,inf", "dividend", "finite"),
    "year 1800": ("1800-01-03,AAA,10,11,9,10,100,0", "date", "accepted range"),
    "year 1850": ("1850-01-03,AAA,10,11,9,10,100,0", "date", "accepted range"),
    "year 2200": ("2200-01-03,AAA,10,11,9,10,100,0", "date", "accepted range"),
    "year 2262": ("2262-04-01,AAA,10,11,9,10,100,0", "date", "accepted range"),
    "beyond pandas": ("2300-01-03,AAA,10,11,9,10,100,0", "date", "malformed"),
    "next month": ("2024-07-01,AAA,10,11,9,10,100,0", "date", "accepted range"),
    "symbol of 33 chars": (f"2024-01-03,{'A' * 33},10,11,9,10,100,0", "symbol", "longer"),
    "symbol with NUL": ("2024-01-03,AA\x00A,10,11,9,10,100,0", "symbol", "characters"),
    "symbol with markup": ("2024-01-03,[/x],10,11,9,10,100,0", "symbol", "characters"),
}


@pytest.mark.parametrize("case", HARD_ROWS)
def test_import_refuses_a_row_breaking_a_hard_rule(case: str) -> None:
    row, field, words = HARD_ROWS[case]
    result = _validate(HEADER + GOOD + row + "\n")
    assert result.problem_count >= 1, case
    problem = result.problems[0]
    assert (problem.source, problem.row, problem.field) == ("bars.csv", 3, field), problem
    assert words in problem.message, problem
    assert len(result.frame) == 1  # the good row alone survives (for --skip-bad)


def test_a_valid_next_session_bar_is_accepted() -> None:
    # "today + 1 session": Monday 2024-06-03's next session is Tuesday
    assert _validate(HEADER + "2024-06-04,AAA,10,11,9,10,100,0\n").problem_count == 0


@pytest.mark.parametrize(
    # symbols never reach storage, pandas cannot hold 2300, dividends are corporate actions
    "case",
    [c for c in HARD_ROWS if not c.startswith(("symbol", "beyond", "next", "infinite dividend"))],
)
def test_data_check_calls_the_same_rows_errors(case: str) -> None:
    row = HARD_ROWS[case][0].split(",")
    stored = pd.DataFrame(
        {
            "symbol": ["AAA"],
            "ts": pd.to_datetime([row[0]]).tz_localize("UTC")
            if row[0] < "2262-04-11"
            else pd.DatetimeIndex([pd.Timestamp("2262-04-01")]).tz_localize("UTC"),
            **{
                c: [float(v)]
                for c, v in zip(("open", "high", "low", "close", "volume"), row[2:7], strict=True)
            },
            "adj_close": [np.nan],
        }
    )
    report = check_quality(stored, None, TODAY)
    assert not report.ok, (case, report.to_dict()["issues"])


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("date,symbol,close,close\n2024-01-02,AAA,1,2\n", "close"),
        ("date,timestamp,symbol,close\n2024-01-02,2024-01-02,AAA,1\n", "date"),
        ("date,symbol,ticker,close\n2024-01-02,AAA,BBB,1\n", "symbol"),
    ],
)
def test_ambiguous_columns_are_refused_not_ignored(tmp_path: Path, header: str, field: str) -> None:
    path = tmp_path / "bars.csv"
    path.write_text(header)
    with pytest.raises(DataValidationError) as raised:
        read_table(path)
    assert raised.value.problems[0].field == field
    assert "columns mean" in raised.value.problems[0].message


def test_boolean_close_and_binary_symbol_from_parquet_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bars.parquet"
    table = pa.table(
        {
            "date": pa.array([date(2024, 1, 2), date(2024, 1, 3)], pa.date32()),
            "symbol": pa.array([b"AAPL", b"MSFT"], pa.binary()),
            "close": pa.array([True, False]),
        }
    )
    pq.write_table(table, path)
    (result,) = read_and_validate([path])
    fields = {p.field for p in result.problems}
    assert fields == {"symbol", "close"}
    assert len(result.frame) == 0  # nothing stored as 1.0 or B'AAPL'


def test_parquet_dates_beyond_pandas_range_are_one_problem_each(tmp_path: Path) -> None:
    path = tmp_path / "bars.parquet"
    stamps = pa.array([2_000_000_000_000_000, 1_704_153_600_000_000], pa.timestamp("us"))
    pq.write_table(pa.table({"date": stamps, "symbol": ["AAA", "AAA"], "close": [1.0, 2.0]}), path)
    (result,) = read_and_validate([path])
    assert [(p.row, p.field) for p in result.problems] == [(1, "date")]
    assert len(result.frame) == 1


def test_thousandfold_jump_is_a_warning_not_an_error() -> None:
    text = HEADER + GOOD + "2024-01-03,AAA,10000,11000,9000,10500,100,0\n"
    result = _validate(text)
    assert result.problem_count == 0
    assert [(w.row, w.symbol, w.field) for w in result.warnings] == [(3, "AAA", "close")]
    assert "×1000" in result.warnings[0].message


def test_likely_unadjusted_split_is_a_warning() -> None:
    text = HEADER + GOOD + "2024-01-03,AAA,5.2,5.6,5.1,5.25,100,0\n"
    result = _validate(text)
    assert result.problem_count == 0
    assert "2:1 split" in result.warnings[0].message
