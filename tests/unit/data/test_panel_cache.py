"""The server's panel cache keeps the newest panels in memory (a warm server's repeated
backtest reads no file) and never serves a panel under another key (another data version); a
one-shot command's cache keeps none."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from quantdesk.data.panel import Panel
from quantdesk.data.panel_cache import KEEP_IN_MEMORY, PanelCache


def _panel(value: float) -> Panel:
    dates = pd.bdate_range("2021-01-01", periods=3).to_numpy(dtype="datetime64[ns]")
    return Panel(dates, ("A", "B"), {"close": np.full((3, 2), value)})


def test_a_stored_panel_is_served_from_memory_without_its_file(tmp_path: Path) -> None:
    cache = PanelCache(tmp_path, in_memory=KEEP_IN_MEMORY)
    key = cache.key(version=1, symbols=["A", "B"])
    panel = _panel(1.0)
    cache.store(key, panel)
    for path in tmp_path.glob("*.npz"):
        path.unlink()  # a read from disk would miss now
    assert cache.load(key) is panel


def test_a_panel_read_from_disk_is_kept_in_memory(tmp_path: Path) -> None:
    key = PanelCache(tmp_path).key(version=1)
    PanelCache(tmp_path).store(key, _panel(2.0))
    cache = PanelCache(tmp_path, in_memory=KEEP_IN_MEMORY)  # a new process: nothing in memory
    first = cache.load(key)
    assert first is not None
    assert first["close"][0, 0] == 2.0
    assert cache.load(key) is first


def test_a_new_data_version_is_a_new_key_and_the_oldest_panels_leave_memory(
    tmp_path: Path,
) -> None:
    cache = PanelCache(tmp_path, in_memory=2)
    keys = [cache.key(version=v) for v in range(3)]
    panels = [_panel(float(v)) for v in range(3)]
    for key, panel in zip(keys, panels, strict=True):
        cache.store(key, panel)
    assert len(set(keys)) == 3
    assert cache.load(keys[2]) is panels[2]
    assert cache.load(keys[1]) is panels[1]
    reread = cache.load(keys[0])  # evicted from memory: read again from its file
    assert reread is not None
    assert reread is not panels[0]
    assert reread["close"][0, 0] == 0.0
    assert cache.load(cache.key(version=3)) is None


def test_a_cache_without_memory_always_reads_the_file(tmp_path: Path) -> None:
    cache = PanelCache(tmp_path)  # a one-shot command's
    key = cache.key(version=1)
    panel = _panel(3.0)
    cache.store(key, panel)
    loaded = cache.load(key)
    assert loaded is not None
    assert loaded is not panel
    assert np.array_equal(loaded["close"], panel["close"])


def test_a_cut_short_or_damaged_file_is_a_miss_not_an_error(tmp_path: Path) -> None:
    """Regression: a cache file cut short (a data folder copied half-way) made every backtest
    reading that panel fail with ``BadZipFile``; it is a miss, and storing the panel again
    under the key mends it."""
    cache = PanelCache(tmp_path)
    key = cache.key(version=1)
    cache.store(key, _panel(3.0))
    (path,) = tmp_path.glob("*.npz")
    whole = path.read_bytes()
    for damaged in (whole[: len(whole) // 2], whole[:10], b"", whole[:-30] + b"\0" * 30):
        path.write_bytes(damaged)
        assert PanelCache(tmp_path).load(key) is None
    cache.store(key, _panel(3.0))
    mended = PanelCache(tmp_path).load(key)
    assert mended is not None
    assert mended["close"][0, 0] == 3.0
