"""Drawdown periods found for every period at once equal the period-by-period reference (issue
11: on a 22-year run the per-period pandas windows cost most of the metrics' time)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantdesk.analytics.drawdown import (
    DRAWDOWN_PERIOD_COLUMNS,
    drawdown_periods,
    drawdown_series,
    max_drawdown_duration,
)


def _one_window_at_a_time(returns: pd.Series) -> pd.DataFrame:
    """The former implementation: one pandas window per period (the reference)."""
    drawdown = drawdown_series(returns)
    underwater = drawdown.to_numpy() < 0.0
    edges = np.diff(np.concatenate(([0], underwater.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    index = drawdown.index
    rows = []
    for start, stop in zip(starts.tolist(), stops.tolist(), strict=True):
        window = drawdown.iloc[start:stop]
        rows.append(
            {
                "start": index[start],
                "valley": window.idxmin(),
                "end": index[stop - 1],
                "recovered": bool(stop < len(index)),
                "days": int((index[stop - 1] - index[start]).days + 1),
                "max_drawdown": float(window.min()),
            }
        )
    frame = pd.DataFrame(rows, columns=list(DRAWDOWN_PERIOD_COLUMNS))
    return frame.astype({"recovered": bool, "days": "int64", "max_drawdown": float})


def _returns(seed: int, rows: int, tz: str | None) -> pd.Series:
    rng = np.random.default_rng(seed)
    values = rng.normal(0.0004, 0.01, rows)
    values[rng.random(rows) < 0.05] = 0.0  # flat days inside drawdowns
    return pd.Series(values, index=pd.bdate_range("2001-01-02", periods=rows, tz=tz))


@pytest.mark.parametrize("tz", [None, "America/New_York"])
@pytest.mark.parametrize(("seed", "rows"), [(1, 5_500), (2, 300), (3, 7), (4, 2)])
def test_every_period_at_once_equals_one_window_at_a_time(
    seed: int, rows: int, tz: str | None
) -> None:
    returns = _returns(seed, rows, tz)
    expected = _one_window_at_a_time(returns)
    pd.testing.assert_frame_equal(drawdown_periods(returns), expected)
    days = int(expected["days"].max()) if len(expected) else 0
    assert max_drawdown_duration(returns) == days


def test_the_valley_is_the_first_date_at_the_period_minimum_and_an_open_period_counts() -> None:
    # two equal lows in the first period; the last period never recovers
    equity = np.array([1.0, 0.9, 0.95, 0.9, 1.1, 1.0, 0.8])
    returns = pd.Series(
        np.diff(np.concatenate(([1.0], equity))) / np.concatenate(([1.0], equity[:-1])),
        index=pd.bdate_range("2020-01-01", periods=len(equity)),
    )
    periods = drawdown_periods(returns)
    pd.testing.assert_frame_equal(periods, _one_window_at_a_time(returns))
    assert periods["valley"].tolist() == [pd.Timestamp("2020-01-02"), pd.Timestamp("2020-01-09")]
    assert periods["recovered"].tolist() == [True, False]
    assert periods["days"].tolist() == [5, 2]  # Thu 2 to Mon 6 January, calendar days


def test_a_series_never_under_water_has_no_periods() -> None:
    returns = pd.Series([0.01, 0.0, 0.02], index=pd.bdate_range("2020-01-01", periods=3))
    periods = drawdown_periods(returns)
    pd.testing.assert_frame_equal(periods, _one_window_at_a_time(returns))
    assert max_drawdown_duration(returns) == 0
