"""TA-Lib indicators applied column-wise, checked against TA-Lib on each pandas Series."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
import talib

from quantdesk.factors import (
    FactorInputError,
    GapPolicy,
    atr,
    bollinger,
    ema,
    macd,
    rsi,
    sma,
    support_resistance,
)

PriceMaker = Callable[[int, int], np.ndarray]


@pytest.fixture
def close(make_prices: PriceMaker) -> np.ndarray:
    prices = make_prices(200, 4)
    prices[:30, 1] = np.nan  # leading gap (listing)
    prices[100:104, 2] = np.nan  # interior gap
    prices[:, 3] = np.nan  # never traded
    return prices


def _expected_skip(close: np.ndarray, function: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Reference: drop the NaNs of each column as a Series, run TA-Lib, put back by index."""
    out = np.full(close.shape, np.nan)
    for j in range(close.shape[1]):
        series = pd.Series(close[:, j]).dropna()
        if series.empty:
            continue
        out[series.index.to_numpy(), j] = function(series.to_numpy())
    return out


@pytest.mark.parametrize(
    ("ours", "reference"),
    [
        (lambda c: sma(c, 10), lambda x: talib.SMA(x, 10)),
        (lambda c: ema(c, 10), lambda x: talib.EMA(x, 10)),
        (lambda c: rsi(c, 14), lambda x: talib.RSI(x, 14)),
        (lambda c: macd(c).line, lambda x: talib.MACD(x)[0]),
        (lambda c: macd(c).histogram, lambda x: talib.MACD(x)[2]),
        (lambda c: bollinger(c, 20).upper, lambda x: talib.BBANDS(x, 20)[0]),
        (lambda c: bollinger(c, 20).lower, lambda x: talib.BBANDS(x, 20)[2]),
    ],
)
def test_skip_gaps_equals_talib_on_the_valid_observations(
    close: np.ndarray,
    ours: Callable[[np.ndarray], np.ndarray],
    reference: Callable[[np.ndarray], np.ndarray],
) -> None:
    np.testing.assert_allclose(ours(close), _expected_skip(close, reference), rtol=1e-12)


def test_sma_matches_pandas_rolling_mean_without_gaps(close: np.ndarray) -> None:
    expected = pd.DataFrame(close[:, :1]).rolling(10).mean().to_numpy()
    np.testing.assert_allclose(sma(close[:, :1], 10), expected, rtol=1e-12)


def test_gap_dates_stay_nan_and_never_traded_column_is_nan(close: np.ndarray) -> None:
    result = sma(close, 10)
    assert np.isnan(result[100:104, 2]).all()
    assert np.isnan(result[:, 3]).all()
    assert np.isnan(result[:39, 1]).all()
    assert np.isfinite(result[39, 1])


def test_restart_warms_up_again_after_a_gap(close: np.ndarray) -> None:
    result = sma(close, 10, gaps=GapPolicy.RESTART)
    # After the gap at rows 100-103, the first full window ends at row 113.
    assert np.isnan(result[104:113, 2]).all()
    expected = pd.Series(close[104:, 2]).rolling(10).mean().to_numpy()
    np.testing.assert_allclose(result[104:, 2], expected, rtol=1e-12)
    np.testing.assert_allclose(result[:, 0], sma(close, 10)[:, 0])


def test_atr_matches_talib(close: np.ndarray, rng: np.random.Generator) -> None:
    high = close * (1 + rng.uniform(0, 0.02, close.shape))
    low = close * (1 - rng.uniform(0, 0.02, close.shape))
    low[50, 0] = np.nan  # one input missing makes the whole bar invalid
    result = atr(high, low, close, 14)
    valid = np.flatnonzero(np.isfinite(low[:, 0]))
    expected = talib.ATR(
        high[valid, 0].copy(), low[valid, 0].copy(), close[valid, 0].copy(), timeperiod=14
    )
    np.testing.assert_allclose(result[valid, 0], expected, rtol=1e-12)
    assert np.isnan(result[50, 0])


def test_support_resistance_uses_the_window_before_t(
    close: np.ndarray, rng: np.random.Generator
) -> None:
    high = close * 1.01
    low = close * 0.99
    levels = support_resistance(high, low, 20)
    frame_high = pd.DataFrame(high[:, :1])
    frame_low = pd.DataFrame(low[:, :1])
    np.testing.assert_allclose(
        levels.resistance[:, :1], frame_high.rolling(20).max().shift(1).to_numpy()
    )
    np.testing.assert_allclose(
        levels.support[:, :1], frame_low.rolling(20).min().shift(1).to_numpy()
    )
    assert np.isnan(levels.resistance[19, 0])
    assert levels.resistance[20, 0] == pytest.approx(high[:20, 0].max())


def test_short_history_gives_nan_not_an_error() -> None:
    result = rsi(np.array([[1.0], [2.0], [3.0]]), 14)
    assert np.isnan(result).all()


def test_bad_input() -> None:
    with pytest.raises(FactorInputError, match="period"):
        sma(np.ones((5, 2)), 0)
    with pytest.raises(FactorInputError, match="low"):
        atr(np.ones((5, 2)), np.ones((4, 2)), np.ones((5, 2)))
    with pytest.raises(ValueError, match="fill"):
        sma(np.ones((5, 2)), 2, gaps="fill")
