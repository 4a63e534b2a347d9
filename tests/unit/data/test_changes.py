"""Which incoming bars change stored values: matched by instrument and timestamp, a value
present on both sides that differs beyond 1e-9 relative; a missing value never counts."""

from __future__ import annotations

import numpy as np

from quantdesk.data.changes import bar_keys, changed_mask, count_by_symbol


def test_only_bars_present_on_both_sides_with_a_different_value_count() -> None:
    stored_keys = bar_keys(np.array([2, 1, 1, 1]), np.array([0, 86_400, 0, -86_400]))
    stored = {"close": np.array([5.0, 11.0, 10.0, 9.0]), "volume": np.array([1.0, np.nan, 2, 3])}
    new_keys = bar_keys(np.array([1, 1, 1, 2, 3]), np.array([-86_400, 0, 86_400, 0, 0]))
    incoming = {
        "close": np.array([9.0 * (1 + 1e-12), 10.0, 11.0, 5.5, 7.0]),  # rounding, same, …
        "volume": np.array([3.0, 2.0, 4.0, np.nan, 1.0]),  # stored NaN: not a change
    }
    mask = changed_mask(new_keys, incoming, stored_keys, stored)
    assert mask.tolist() == [False, False, False, True, False]
    changes = count_by_symbol(np.array(["A", "A", "A", "B", "C"]), mask)
    assert dict(changes.by_symbol) == {"B": 1}
    assert changes.rows == 1


def test_nothing_stored_changes_nothing() -> None:
    keys = bar_keys(np.array([1]), np.array([0]))
    empty = np.array([], dtype=np.int64)
    assert not changed_mask(keys, {"close": np.array([1.0])}, empty, {"close": np.array([])}).any()
