"""Calendar and explicit-date rebalancing masks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantdesk.backtest import Frequency, dates_mask, period_end_mask


def trading_days() -> pd.DatetimeIndex:
    # business days with a missing month end (2024-05-31 is a holiday here)
    days = pd.bdate_range("2024-01-01", "2024-07-03")
    return days[days != pd.Timestamp("2024-05-31")]


def marked(days: pd.DatetimeIndex, mask: np.ndarray) -> list[str]:
    return [d.strftime("%Y-%m-%d") for d in days[mask]]


def test_monthly_is_the_last_trading_day_in_the_data_never_the_final_date() -> None:
    days = trading_days()
    expected = days.to_series().groupby(days.to_period("M")).max().iloc[:-1]
    assert marked(days, period_end_mask(days, Frequency.MONTHLY)) == [
        d.strftime("%Y-%m-%d") for d in expected
    ]
    assert "2024-05-30" in marked(days, period_end_mask(days, "monthly"))
    # data ending exactly on a month end still never rebalances on its final date
    june = days[days <= pd.Timestamp("2024-06-28")]
    assert "2024-06-28" not in marked(june, period_end_mask(june, "monthly"))


def test_weekly_and_quarterly() -> None:
    days = trading_days()
    weekly = marked(days, period_end_mask(days, Frequency.WEEKLY))
    assert weekly[:2] == ["2024-01-05", "2024-01-12"]  # Fridays
    assert marked(days, period_end_mask(days, Frequency.QUARTERLY)) == [
        "2024-03-29",
        "2024-06-28",
    ]


def test_unknown_frequency_names_the_choices() -> None:
    with pytest.raises(ValueError, match=r"'yearly'.*weekly, monthly, quarterly"):
        period_end_mask(trading_days(), "yearly")


def test_given_dates_move_to_the_next_trading_day() -> None:
    days = trading_days()
    mask = dates_mask(days, ["2024-01-06", "2024-02-01"])  # a Saturday and a Thursday
    assert marked(days, mask) == ["2024-01-08", "2024-02-01"]
    with pytest.raises(ValueError, match="2025-01-01 is after the last date"):
        dates_mask(days, ["2025-01-01"])
