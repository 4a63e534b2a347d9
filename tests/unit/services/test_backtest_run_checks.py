"""The stale-price and delisting checks look at decision rows only; what they report must be
what a full scan of the panel reports (dates, symbols, forced exits)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from quantdesk.data.panel import Panel
from quantdesk.services.backtest_run import STALE_SESSIONS, delist, stale_decision_warnings


def _panel(prices: np.ndarray) -> Panel:
    dates = pd.bdate_range("2022-01-03", periods=len(prices)).to_numpy(dtype="datetime64[ns]")
    symbols = tuple(f"S{k}" for k in range(prices.shape[1]))
    return Panel(dates, symbols, {"close": prices})


def _full_scan_stale(panel: Panel, targets: np.ndarray) -> set[tuple[int, int]]:
    """(row, column) cells a decision weights while the price is stale, by brute force."""
    prices = panel["close"]
    cells = set()
    for row in np.flatnonzero(np.isfinite(targets).any(axis=1)):
        for column in range(prices.shape[1]):
            weight = targets[row, column]
            seen = np.flatnonzero(np.isfinite(prices[: row + 1, column]))
            weighted = weight != 0 and not np.isnan(weight)
            if weighted and len(seen) and row - seen[-1] > STALE_SESSIONS:
                cells.add((int(row), column))
    return cells


def test_a_decision_on_a_price_older_than_the_limit_is_named_and_a_fresh_one_is_not() -> None:
    prices = np.ones((30, 3))
    prices[10:, 1] = np.nan  # S1's last price is row 9
    prices[12:15, 2] = np.nan  # S2 pauses for three sessions only
    targets = np.full((30, 3), np.nan)
    targets[[5, 14, 15, 16, 25]] = [0.3, 0.3, 0.3]
    (warning,) = stale_decision_warnings(_panel(prices), targets)
    # rows 16 and 25 are more than 5 sessions after row 9; row 15 is exactly 6 → stale too
    assert warning.startswith("3 decision date(s) from 2022-01-24 give weight to symbol(s)")
    assert warning.endswith(f"more than {STALE_SESSIONS} sessions old: S1")
    assert {r for r, _ in _full_scan_stale(_panel(prices), targets)} == {15, 16, 25}


def test_stale_decisions_agree_with_a_full_scan_on_random_panels() -> None:
    rng = np.random.default_rng(7)
    for _ in range(200):
        rows, columns = int(rng.integers(1, 40)), int(rng.integers(1, 6))
        prices = rng.uniform(1, 2, (rows, columns))
        prices[rng.random((rows, columns)) < 0.4] = np.nan
        targets = np.full((rows, columns), np.nan)
        decided = rng.random(rows) < 0.4
        targets[decided] = rng.choice([0.0, 0.2, np.nan], size=(int(decided.sum()), columns))
        panel = _panel(prices)
        hits = _full_scan_stale(panel, targets)
        warnings = stale_decision_warnings(panel, targets)
        assert bool(warnings) == bool(hits)
        if hits:
            assert warnings[0].startswith(f"{len({r for r, _ in hits})} decision date(s)")


def test_a_symbol_whose_data_ends_is_sold_at_the_next_decision_only() -> None:
    prices = np.ones((30, 2))
    prices[8:, 1] = np.nan  # S1 ends at row 7, long before the last row
    targets = np.full((30, 2), np.nan)
    targets[[5, 10, 20]] = [0.5, 0.5]
    out, (warning,) = delist(_panel(prices), targets)
    assert out[5, 1] == 0.5  # before its end: kept
    assert out[10, 1] == 0.0
    assert out[20, 1] == 0.0
    assert np.isnan(out[11]).all()  # rows without a decision stay undecided
    assert np.array_equal(out[:, 0], targets[:, 0], equal_nan=True)
    assert warning.startswith("1 symbol(s) treated as delisted")
    assert "S1 (2022-01-12)" in warning
    assert not np.shares_memory(out, targets)


def test_delisting_without_a_forced_exit_returns_the_targets_unchanged() -> None:
    prices = np.ones((30, 2))
    prices[8:, 1] = np.nan
    targets = np.full((30, 2), np.nan)
    targets[[5, 10]] = [[0.5, 0.5], [0.5, 0.0]]
    out, warnings = delist(_panel(prices), targets)
    assert out is targets
    assert warnings == ()
