"""The corporate-actions check and the valuation field read the last row first; symbols whose
data ends early (NaN on the last row) must still count as priced or adjusted."""

from __future__ import annotations

import numpy as np
import pandas as pd

from quantdesk.backtest.bias import corporate_actions_check
from quantdesk.data.panel import Panel


def _panel(close: np.ndarray, adjusted: np.ndarray) -> Panel:
    dates = pd.bdate_range("2023-01-02", periods=len(close)).to_numpy(dtype="datetime64[ns]")
    return Panel(dates, ("A", "B", "C", "D"), {"close": close, "adj_close": adjusted})


def test_symbols_ended_before_the_last_row_still_count_as_priced_and_adjusted() -> None:
    close = np.ones((5, 4))
    adjusted = np.ones((5, 4))
    close[3:, 1] = np.nan  # B ended early, with adjusted prices
    adjusted[3:, 1] = np.nan
    adjusted[:, 2] = np.nan  # C never had adjusted prices
    close[4, 2] = np.nan  # … and ended early
    close[:, 3] = np.nan  # D has no price at all
    adjusted[:, 3] = np.nan
    check = corporate_actions_check(_panel(close, adjusted), "adj_close")
    assert check.status == "warn"
    assert check.data["symbols"] == 3
    assert check.data["examples"] == ["C"]


def test_adjusted_prices_that_end_before_the_last_row_still_value_the_panel() -> None:
    close = np.ones((4, 4))
    adjusted = np.full((4, 4), np.nan)
    adjusted[1, 2] = 1.0  # one adjusted price, not on the last row
    assert _panel(close, adjusted).prices()[0] == "adj_close"
    assert _panel(close, np.full((4, 4), np.nan)).prices()[0] == "close"
    empty = Panel(
        np.array([], dtype="datetime64[ns]"),
        ("A",),
        {"close": np.ones((0, 1)), "adj_close": np.ones((0, 1))},
    )
    assert empty.prices()[0] == "close"
