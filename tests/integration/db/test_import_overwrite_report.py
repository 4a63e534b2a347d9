"""An import that changes stored values says how many bars of which symbols (SQLite and
PostgreSQL); a re-import of the same values reports none."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from quantdesk.services import Services


def _write(path: Path, closes: dict[str, list[float]]) -> Path:
    days = pd.bdate_range("2024-01-02", periods=5).strftime("%Y-%m-%d")
    rows = [
        {"date": day, "symbol": symbol, "close": close}
        for symbol, values in closes.items()
        for day, close in zip(days, values, strict=True)
    ]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


ORIGINAL = {"AAA": [10.0, 11.0, 12.0, 13.0, 14.0], "BBB": [20.0, 21.0, 22.0, 23.0, 24.0]}


def test_an_overwriting_import_reports_how_many_bars_of_which_symbols(
    services: Services, tmp_path: Path
) -> None:
    first = services.data.import_files([_write(tmp_path / "first.csv", ORIGINAL)])
    assert first.changed.rows == 0
    changed = {
        "AAA": [10.0, 11.5, 12.5, 13.5, 14.0],  # three bars differ
        "BBB": [20.0, 21.0, 22.0, 23.0, 24.5],  # one bar differs
        "CCC": [5.0, 5.0, 5.0, 5.0, 5.0],  # new symbol: inserted, not an overwrite
    }
    report = services.data.import_files([_write(tmp_path / "second.csv", changed)])
    assert dict(report.changed.by_symbol) == {"AAA": 3, "BBB": 1}
    assert report.changed.rows == report.updated == 4
    assert report.to_dict()["changed"] == {"rows": 4, "by_symbol": {"AAA": 3, "BBB": 1}}
    assert "4 stored bars of 2 symbol(s) (AAA 3, BBB 1)" in report.changed.describe()
    # the new values are stored; importing them again changes nothing
    again = services.data.import_files([_write(tmp_path / "third.csv", changed)])
    assert again.changed.rows == 0
    assert again.updated == 0
    stored = services.data.load_panel(["AAA"], ("close",))
    assert stored["close"][:, 0].tolist() == changed["AAA"]
