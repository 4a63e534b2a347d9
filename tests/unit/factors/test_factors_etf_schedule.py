"""ETF factor composite, 12-1 sector rotation and rebalance-date helpers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from quantdesk.factors import (
    FactorInputError,
    distance_from_high,
    etf_factor_scores,
    momentum_12_1,
    month_end_rows,
    period_end_rows,
    rows_for_dates,
    sector_rotation_signal,
    sharpe_like,
    volatility,
    zscore,
)

PriceMaker = Callable[[int, int], np.ndarray]


def test_sector_rotation_picks_top_n_by_12_1_momentum() -> None:
    close = np.ones((300, 5))
    # 12-1 returns of 10 %, 30 %, -5 %, 30 % (tie with column 1) and no history.
    for j, total in enumerate([0.10, 0.30, -0.05, 0.30]):
        close[300 - 252 - 1 :, j] = np.linspace(1.0, 1.0 + total, 252 + 1)
    close[:, 4] = np.nan
    close[-1, 4] = 10.0
    signal = sector_rotation_signal(close, top_n=2, at=[299])
    expected_momentum = close[299 - 21] / close[299 - 252] - 1
    np.testing.assert_allclose(signal.momentum[0], expected_momentum)
    np.testing.assert_array_equal(signal.rank[0], [3, 1, 4, 2, np.nan])
    np.testing.assert_array_equal(signal.target_weights[0], [0, 0.5, 0, 0.5, 0])


def test_sector_rotation_leaves_unfilled_slots_in_cash(make_prices: PriceMaker) -> None:
    close = make_prices(300, 4)
    close[:, 1:] = np.nan
    signal = sector_rotation_signal(close, top_n=3)
    assert signal.target_weights[299].sum() == pytest.approx(1 / 3)
    universe = np.ones(close.shape, dtype=bool)
    universe[299, 0] = False
    assert sector_rotation_signal(close, 3, universe).target_weights[299].sum() == 0.0


def test_etf_composite_components_and_orientation(make_prices: PriceMaker) -> None:
    close = make_prices(400, 6)
    close[:, 5] = np.nan
    result = etf_factor_scores(close, at=[399])
    np.testing.assert_allclose(result.raw["momentum"], momentum_12_1(close, at=[399]))
    np.testing.assert_allclose(result.raw["quality"], sharpe_like(close, at=[399]))
    np.testing.assert_allclose(result.raw["value"], -distance_from_high(close, at=[399]))
    np.testing.assert_allclose(result.raw["volatility"], -volatility(close, at=[399]))
    expected = sum(zscore(result.raw[name]) for name in result.raw) / 4
    np.testing.assert_allclose(result.score, expected, rtol=1e-12)
    assert np.isnan(result.score[0, 5])
    assert result.rank[0, int(np.nanargmax(result.score[0]))] == 1.0


def test_month_end_rows_match_pandas_groupby() -> None:
    dates = pd.bdate_range("2019-12-15", "2021-03-10")
    dates = dates[dates != pd.Timestamp("2020-01-31")]  # a missing month end
    rows = month_end_rows(dates, include_final=True)
    expected = pd.Series(np.arange(len(dates)), index=dates).groupby(dates.to_period("M")).max()
    np.testing.assert_array_equal(rows, expected.to_numpy())
    assert dates[rows[1]] == pd.Timestamp("2020-01-30")
    assert dates[rows[-1]] == pd.Timestamp("2021-03-10")  # last, incomplete month included


def test_quarter_and_week_ends() -> None:
    dates = pd.bdate_range("2020-01-01", "2020-12-31")
    quarters = dates[period_end_rows(dates, "quarterly", include_final=True)]
    assert list(quarters.strftime("%m-%d")) == ["03-31", "06-30", "09-30", "12-31"]
    weeks = dates[period_end_rows(dates, "weekly", include_final=True)]
    assert (weeks[:-1].day_of_week == 4).all()
    assert len(period_end_rows(dates[:0], "monthly", include_final=True)) == 0


def test_rows_for_dates() -> None:
    dates = pd.bdate_range("2020-01-01", periods=10)
    np.testing.assert_array_equal(rows_for_dates(dates, [dates[3], dates[0]]), [3, 0])
    with pytest.raises(FactorInputError, match="not in the panel"):
        rows_for_dates(dates, ["2020-01-04"])
    with pytest.raises(FactorInputError, match="sorted"):
        month_end_rows(dates[::-1], include_final=True)
