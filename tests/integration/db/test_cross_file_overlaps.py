"""The files of one import are validated as one set of rows, the same on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest

from quantdesk.core.errors import DataValidationError
from quantdesk.services import Services

HEADER = "date,symbol,open,high,low,close,volume\n"
DAY_1 = "2024-01-02,ZZQ,10.0,11.0,9.5,10.5,1000\n"
DAY_2 = "2024-01-03,ZZQ,10.5,11.5,10.0,11.0,1200\n"
DAY_2_OTHER = "2024-01-03,ZZQ,10.5,11.5,10.0,11.2,1200\n"


def write(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(body)
    return path


def stored_closes(services: Services) -> list[float]:
    if not services.data.get_symbols():
        return []
    return services.data.get_bars("ZZQ")["close"].tolist()


@pytest.mark.parametrize("stored_before", [False, True], ids=["new symbol", "existing symbol"])
def test_files_disagreeing_on_a_bar_are_refused_naming_both_rows(
    services: Services, tmp_path: Path, stored_before: bool
) -> None:
    if stored_before:
        services.data.import_files([write(tmp_path, "old.csv", HEADER + DAY_1)])
    before = stored_closes(services), len(services.data.recent_imports())
    a = write(tmp_path, "a.csv", HEADER + DAY_1 + DAY_2)
    b = write(tmp_path, "b.csv", HEADER + DAY_2_OTHER)

    with pytest.raises(DataValidationError) as caught:
        services.data.import_files([a, b])

    message = str(caught.value)
    assert f"{b}, row 2, symbol ZZQ, field 'close'" in message
    assert f"differs from {a} row 3 (close 11.0 vs 11.2)" in message
    assert (stored_closes(services), len(services.data.recent_imports())) == before


def test_identical_bars_in_two_files_collapse(services: Services, tmp_path: Path) -> None:
    a = write(tmp_path, "a.csv", HEADER + DAY_1 + DAY_2)
    b = write(tmp_path, "b.csv", HEADER + DAY_2)

    report = services.data.import_files([a, b])

    assert (report.rows_read, report.inserted, report.duplicates_collapsed) == (3, 2, 1)
    assert stored_closes(services) == [10.5, 11.0]


def test_per_symbol_files_differing_only_in_case_are_one_symbol(
    services: Services, tmp_path: Path
) -> None:
    columns = "date,open,high,low,close,volume\n"
    folder = tmp_path / "prices"
    write(folder, "ZZQ.csv", columns + DAY_1.replace("ZZQ,", "") + DAY_2.replace("ZZQ,", ""))
    write(folder, "zzq.csv", columns + DAY_2_OTHER.replace("ZZQ,", ""))

    with pytest.raises(DataValidationError, match=r"zzq\.csv, row 2, symbol ZZQ, field 'close'"):
        services.data.import_files([folder], per_symbol=True)
    assert stored_closes(services) == []


def test_skip_bad_drops_the_disputed_bar_from_every_file(
    services: Services, tmp_path: Path
) -> None:
    a = write(tmp_path, "a.csv", HEADER + DAY_1 + DAY_2)
    b = write(tmp_path, "b.csv", HEADER + DAY_2_OTHER)

    report = services.data.import_files([a, b], skip_bad=True)

    assert (report.inserted, report.rejected) == (1, 2)
    assert stored_closes(services) == [10.5]
