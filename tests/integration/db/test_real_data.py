"""Real market data round-trips: file → database → panel, bit for bit, on both backends."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from quantdesk.services import Services

SYMBOLS = ["AAPL", "AMZN", "BRK-B", "GOOGL", "JPM", "KO", "MSFT", "XLE", "XLK", "XOM"]


@pytest.fixture
def real_slice(shared_data: Path, tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    table = pq.read_table(
        shared_data / "us_equities_daily.parquet", filters=[("symbol", "in", SYMBOLS)]
    )
    frame = table.to_pandas()
    path = tmp_path / "slice.parquet"
    frame.to_parquet(path)
    return path, frame


def test_real_slice_imports_once_and_loads_back_exactly(
    services: Services, real_slice: tuple[Path, pd.DataFrame]
) -> None:
    path, frame = real_slice
    first = services.data.import_files([path])
    again = services.data.import_files([path])

    assert (first.rows_read, first.inserted, first.rejected) == (len(frame), len(frame), 0)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, len(frame))
    panel = services.data.load_panel(SYMBOLS, ("close", "adj_close", "volume"))
    for field in ("close", "adj_close", "volume"):
        expected = frame.pivot(index="date", columns="symbol", values=field).reindex(
            columns=SYMBOLS
        )
        np.testing.assert_array_equal(panel[field], expected.to_numpy(dtype=float))
    assert panel.dates[0] == np.datetime64(frame["date"].min(), "ns")
    status = services.data.status()
    assert (status.symbols, status.bars) == (len(SYMBOLS), len(frame))


def test_panel_cache_serves_repeat_loads_until_the_next_import(
    services: Services, real_slice: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    path, frame = real_slice
    services.data.import_files([path])
    first = services.data.load_panel(SYMBOLS[:3], ("close",))
    cached_files = list((services.settings.cache_dir / "panels").glob("*.npz"))
    assert len(cached_files) == 1
    second = services.data.load_panel(SYMBOLS[:3], ("close",))
    np.testing.assert_array_equal(second["close"], first["close"])
    assert second.symbols == first.symbols

    changed = tmp_path / "changed.csv"
    last = frame[frame["symbol"] == "AAPL"].iloc[-1]
    changed.write_text(
        "date,symbol,open,high,low,close,volume,adj_close\n"
        f"{last['date']:%Y-%m-%d},AAPL,{last['open']},{last['high'] * 2},{last['low']},"
        f"{last['high'] * 1.5},{int(last['volume'])},{last['adj_close']}\n"
    )
    services.data.import_files([changed])
    third = services.data.load_panel(SYMBOLS[:3], ("close",))
    assert third["close"][-1, 0] == last["high"] * 1.5  # a new import invalidates the cache


def test_splits_and_dividends_are_stored_once(
    services: Services, real_slice: tuple[Path, pd.DataFrame]
) -> None:
    path, frame = real_slice
    first = services.data.import_files([path])
    again = services.data.import_files([path])

    expected = int((frame["dividend"].fillna(0) > 0).sum() + (frame["split"].fillna(1) != 1).sum())
    assert first.corporate_actions == expected
    assert again.corporate_actions == 0
    actions = services.data.get_corporate_actions(["AAPL"])
    splits = actions[actions["action_type"] == "split"]
    assert [d.isoformat() for d in splits["ex_date"]] == [
        "2000-06-21",
        "2005-02-28",
        "2014-06-09",
        "2020-08-31",
    ]
    np.testing.assert_allclose(splits["value"], [2.0, 2.0, 7.0, 4.0], rtol=1e-5)
