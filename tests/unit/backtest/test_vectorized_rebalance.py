"""Calendar and explicit-date rebalancing masks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantdesk.backtest import RebalanceFrequency, dates_mask, period_end_mask


def trading_days() -> pd.DatetimeIndex:
    # business days with a missing month end (2024-05-31 is a holiday here)
    days = pd.bdate_range("2024-01-01", "2024-07-03")
    return days[days != pd.Timestamp("2024-05-31")]


def marked(days: pd.DatetimeIndex, mask: np.ndarray) -> list[str]:
    return [d.strftime("%Y-%m-%d") for d in days[mask]]


def test_monthly_is_the_last_trading_day_in_the_data_never_the_final_date() -> None:
    days = trading_days()
    expected = days.to_series().groupby(days.to_period("M")).max().iloc[:-1]
    assert marked(days, period_end_mask(days, RebalanceFrequency.MONTHLY, include_final=False)) == [
        d.strftime("%Y-%m-%d") for d in expected
    ]
    assert "2024-05-30" in marked(days, period_end_mask(days, "monthly", include_final=False))
    # data ending exactly on a month end still never rebalances on its final date
    june = days[days <= pd.Timestamp("2024-06-28")]
    assert "2024-06-28" not in marked(june, period_end_mask(june, "monthly", include_final=False))


def test_weekly_and_quarterly() -> None:
    days = trading_days()
    weekly = marked(days, period_end_mask(days, RebalanceFrequency.WEEKLY, include_final=False))
    assert weekly[:2] == ["2024-01-05", "2024-01-12"]  # Fridays
    assert marked(
        days, period_end_mask(days, RebalanceFrequency.QUARTERLY, include_final=False)
    ) == [
        "2024-03-29",
        "2024-06-28",
    ]


def test_unknown_frequency_names_the_choices() -> None:
    with pytest.raises(ValueError, match=r"'yearly'.*weekly, monthly, quarterly"):
        period_end_mask(trading_days(), "yearly", include_final=False)


def test_given_dates_move_to_the_next_trading_day() -> None:
    days = trading_days()
    mask = dates_mask(days, ["2024-01-06", "2024-02-01"])  # a Saturday and a Thursday
    assert marked(days, mask) == ["2024-01-08", "2024-02-01"]
    with pytest.raises(ValueError, match="2025-01-01 is after the last date"):
        dates_mask(days, ["2025-01-01"])


def test_one_schedule_serves_research_and_backtests_with_an_explicit_final_period_flag() -> None:
    # research scored the data's last date, backtests never rebalanced there: the same rule
    # now, differing only in the flag every caller states
    from quantdesk.factors import schedule
    from quantdesk.strategies.momentum_12_1 import Momentum121

    days = trading_days()
    closed = period_end_mask(days, "monthly", include_final=False)
    open_ = schedule.period_end_mask(days, "monthly", include_final=True)
    assert (closed[:-1] == open_[:-1]).all()
    assert open_[-1]
    assert not closed[-1]
    rows = schedule.month_end_rows(days, include_final=True)
    assert list(rows) == list(np.flatnonzero(open_))
    np.testing.assert_array_equal(Momentum121().rebalance_mask(days.to_numpy()), closed)
    with pytest.raises(TypeError):
        schedule.period_end_mask(days, "monthly")  # type: ignore[call-arg]
    with pytest.raises(ModuleNotFoundError):
        __import__("quantdesk.backtest.rebalance")
