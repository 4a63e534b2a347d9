"""Reference-data imports behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from quantdesk.core.errors import DataValidationError
from quantdesk.services import Services


def test_an_instruments_file_naming_a_symbol_twice_is_refused_naming_both_rows(
    services: Services, tmp_path: Path
) -> None:
    path = tmp_path / "instruments.csv"
    path.write_text("symbol,name,sector\nAAA,Alpha,Tech\nBBB,Beta,Energy\naaa,Other,Health\n")

    with pytest.raises(DataValidationError) as caught:
        services.data.import_instruments(path)

    assert f"{path}, row 4, symbol AAA, field 'symbol'" in str(caught.value)
    assert "also at row 2" in str(caught.value)
    assert services.data.get_symbols() == []


def earnings_file(folder: Path, quarters: int) -> Path:
    """Our own earnings format: ``quarters`` reports of one symbol (more than one chunk)."""
    ends = pd.date_range("1900-03-31", periods=quarters, freq="QE")
    frame = pd.DataFrame(
        {
            "symbol": "AAA",
            "fiscal_period_end": ends.strftime("%Y-%m-%d"),
            "report_date": (ends + pd.Timedelta(days=30)).strftime("%Y-%m-%d"),
            "release_time": "post",
            "eps": 1.0,
            "eps_estimate": 0.9,
        }
    )
    # a long absolute path: it used to be stored whole in a 64-character column
    path = folder / ("earnings_" + "x" * 80) / "earnings.csv"
    path.parent.mkdir()
    frame.to_csv(path, index=False)
    return path


def test_earnings_import_counts_what_it_wrote_from_a_long_path(
    services: Services, tmp_path: Path
) -> None:
    bars = tmp_path / "bars.csv"
    bars.write_text("date,symbol,close\n2024-01-02,AAA,10\n")
    services.data.import_files([bars])
    path = earnings_file(tmp_path, 1200)

    first = services.reference.import_earnings(path)
    again = services.reference.import_earnings(path)

    assert (first.rows_written, again.rows_written) == (1200, 0)
    assert len(services.reference.get_earnings(["AAA"])) == 1200
